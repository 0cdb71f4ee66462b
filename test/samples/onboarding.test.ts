// The onboarding sample's workflows with their real durations (three days to verify, reminders a
// day and two days later, a one-second retry back-off, a day between stock-price closes), in a
// test environment that skips time: a user who confirms is screened (retried past an outage),
// activated and reminded; one who never confirms is closed when the window ends; the daily
// stock-price run stores each day once and alerts on the big move.
import { Client } from 'pg';
import { createTestEnvironment, type TestEnvironment } from 'zart/testing';
import {
  createPriceTable,
  DailyStockPrices,
  MarketFeed,
  PriceHistory,
} from '../../samples/onboarding/daily-stock-prices.workflow';
import { AccountStore, ComplianceScreening, Mailer } from '../../samples/onboarding/onboarding-services';
import { UserOnboarding } from '../../samples/onboarding/user-onboarding.workflow';
import { silentLogger } from '../support/silent-logger';

const day = 24 * 60 * 60 * 1000;
const accounts = new AccountStore();
const mailer = new Mailer();
let env: TestEnvironment;
let sql: Client;

beforeAll(async () => {
  env = await createTestEnvironment({
    logger: silentLogger,
    resolve: (workflow) =>
      workflow === UserOnboarding
        ? new UserOnboarding(accounts, mailer, new ComplianceScreening())
        : new DailyStockPrices(new MarketFeed(), new PriceHistory(), mailer),
  });
  sql = new Client({ connectionString: env.databaseUrl });
  await sql.connect();
  await sql.query(createPriceTable);
});

afterAll(async () => {
  await sql.end();
  await env.close();
});

const mailsTo = (to: string): string[] => mailer.outbox.filter((mail) => mail.to === to).map((mail) => mail.template);
const verified = { verifiedAt: '2026-11-30T12:00:00Z' };

describe('samples/onboarding', () => {
  it('activates a user who confirms their address, after a retried compliance screening, and reminds them a day and three days later', async () => {
    const handle = await env.zart.startWorkflow(
      UserOnboarding,
      { email: 'ada@example.com', name: 'Ada Lovelace' },
      { id: 'onboarding-ada' },
    );
    await env.zart.sendEvent(handle.id, 'email-verified', verified);
    const started = env.now();

    expect(await env.result(handle, { timeout: '30s' })).toEqual({
      status: 'active',
      accountId: 'acct_ada_example_com',
      remindersSent: 2,
    });
    // The two reminder sleeps (1 d + 2 d) passed on the environment's clock.
    expect(env.now().getTime() - started.getTime()).toBeGreaterThanOrEqual(3 * day);
    expect(mailsTo('ada@example.com')).toEqual(['verify', 'welcome', 'reminder', 'reminder']);
    const steps = await env.zart.getSteps(handle.id);
    expect(steps.find((step) => step.name === 'ComplianceScreening.screen')).toMatchObject({
      status: 'completed',
      attempts: 2,
    });
    expect(steps.filter((step) => step.key.startsWith('zart.sleep'))).toHaveLength(2);
    expect(accounts.accounts.get('acct_ada_example_com')?.status).toBe('active');
  });

  it('sends no reminder to a user who completed their profile', async () => {
    const handle = await env.zart.startWorkflow(
      UserOnboarding,
      { email: 'cy@example.com', name: 'Cy Done' },
      { id: 'onboarding-cy' },
    );
    await env.waitUntilIdle(); // the account exists, and the run waits for the click
    accounts.completeProfile('acct_cy_example_com');
    await env.zart.sendEvent(handle.id, 'email-verified', verified);
    expect(await env.result(handle, { timeout: '30s' })).toMatchObject({ status: 'active', remindersSent: 0 });
    expect(mailsTo('cy@example.com')).toEqual(['verify', 'welcome']);
  });

  it('closes the account of a user who never confirms, once the three days are over', async () => {
    const handle = await env.zart.startWorkflow(
      UserOnboarding,
      { email: 'bob@example.com', name: 'Bob Idle' },
      { id: 'onboarding-bob' },
    );
    await env.waitUntilIdle();
    await env.skip('2d');
    // Two days in, the account is still waiting for its click.
    expect((await env.zart.getRun(handle.id)).status).toBe('waiting');
    expect(mailsTo('bob@example.com')).toEqual(['verify']);

    expect(await env.result(handle, { timeout: '30s' })).toEqual({
      status: 'closed',
      accountId: 'acct_bob_example_com',
    });
    expect(mailsTo('bob@example.com')).toEqual(['verify', 'closed']);
    expect(accounts.accounts.get('acct_bob_example_com')?.status).toBe('closed');
  });

  it('sends a user on the watch list to review instead of activating them', async () => {
    const handle = await env.zart.startWorkflow(
      UserOnboarding,
      { email: 'mallory@example.com', name: 'Mallory Sanctioned' },
      { id: 'onboarding-mallory' },
    );
    await env.zart.sendEvent(handle.id, 'email-verified', verified);
    expect(await env.result(handle, { timeout: '30s' })).toMatchObject({ status: 'in-review' });
    expect(mailsTo('mallory@example.com')).toEqual(['verify']);
  });

  it('stores each day of stock prices once, a day apart, across a feed outage, and alerts on a move over 5%', async () => {
    const handle = await env.zart.startWorkflow(
      DailyStockPrices,
      { symbols: ['ACME', 'GLOBEX'], days: 3 },
      { id: 'stock-prices' },
    );
    const started = env.now();
    expect(await env.result(handle, { timeout: '30s' })).toEqual({ days: 3, alerts: ['ACME moved 7.2% on day 3'] });
    expect(env.now().getTime() - started.getTime()).toBeGreaterThanOrEqual(2 * day);
    const { rows } = await sql.query<{ symbol: string; days: number }>(
      'SELECT symbol, count(*)::int AS days FROM stock_prices GROUP BY symbol ORDER BY symbol',
    );
    expect(rows).toEqual([
      { symbol: 'ACME', days: 3 },
      { symbol: 'GLOBEX', days: 3 },
    ]);
    expect(mailsTo('desk@example.com')).toEqual(['price-alert']);
  });
});
