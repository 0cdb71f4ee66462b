// The onboarding sample's workflows with short waits: a user who confirms is screened (retried past
// an outage), activated and reminded; one who never confirms is closed when the window ends; the
// daily stock-price run stores each day once and alerts on the big move.
import {
  createPriceTable,
  DailyStockPrices,
  MarketFeed,
  PriceHistory,
} from '../../samples/onboarding/daily-stock-prices.workflow';
import { AccountStore, ComplianceScreening, Mailer } from '../../samples/onboarding/onboarding-services';
import { UserOnboarding, type OnboardingTiming } from '../../samples/onboarding/user-onboarding.workflow';
import { useTestDatabase } from '../support/test-zart';
import { waitFor } from '../support/wait-for';

const db = useTestDatabase();
// The workflow's own three days and two reminders, in hundreds of milliseconds.
const timing: OnboardingTiming = {
  verificationWindow: '1500ms',
  firstReminderAfter: '200ms',
  secondReminderAfter: '200ms',
};

describe('samples/onboarding', () => {
  const accounts = new AccountStore();
  const mailer = new Mailer();
  const resolve = (workflow: unknown): object =>
    workflow === UserOnboarding
      ? new UserOnboarding(accounts, mailer, new ComplianceScreening())
      : new DailyStockPrices(new MarketFeed(), new PriceHistory(), mailer);
  const mailsTo = (to: string): string[] => mailer.outbox.filter((mail) => mail.to === to).map((mail) => mail.template);

  it('activates a user who confirms their address, after a retried compliance screening, and reminds them twice', async () => {
    const zart = await db.zart({ resolve });
    const handle = await zart.startWorkflow(
      UserOnboarding,
      { email: 'ada@example.com', name: 'Ada Lovelace', timing },
      { id: 'onboarding-ada' },
    );
    // Parked on the event wait: no worker holds it.
    await waitFor(async () => (await zart.getRun(handle.id)).status === 'waiting');
    await zart.sendEvent(handle.id, 'email-verified', { verifiedAt: '2026-11-30T12:00:00Z' });

    expect(await handle.result({ timeout: '30s' })).toEqual({
      status: 'active',
      accountId: 'acct_ada_example_com',
      remindersSent: 2,
    });
    expect(mailsTo('ada@example.com')).toEqual(['verify', 'welcome', 'reminder', 'reminder']);
    const steps = await zart.getSteps(handle.id);
    expect(steps.find((step) => step.name === 'ComplianceScreening.screen')).toMatchObject({
      status: 'completed',
      attempts: 2,
    });
    expect(steps.filter((step) => step.key.startsWith('zart.sleep'))).toHaveLength(2);
    expect(accounts.accounts.get('acct_ada_example_com')?.status).toBe('active');
  });

  it('stops reminding a user who completed their profile', async () => {
    const zart = await db.zart({ resolve });
    const handle = await zart.startWorkflow(
      UserOnboarding,
      { email: 'cy@example.com', name: 'Cy Done', timing: { ...timing, firstReminderAfter: '1s' } },
      { id: 'onboarding-cy' },
    );
    await zart.sendEvent(handle.id, 'email-verified', { verifiedAt: '2026-11-30T12:00:00Z' });
    await waitFor(() => mailsTo('cy@example.com').includes('welcome'));
    accounts.completeProfile('acct_cy_example_com');
    expect(await handle.result({ timeout: '30s' })).toMatchObject({ status: 'active', remindersSent: 0 });
    expect(mailsTo('cy@example.com')).toEqual(['verify', 'welcome']);
  });

  it('closes the account of a user who never confirms, when the verification window ends', async () => {
    const zart = await db.zart({ resolve });
    const handle = await zart.startWorkflow(
      UserOnboarding,
      { email: 'bob@example.com', name: 'Bob Idle', timing },
      { id: 'onboarding-bob' },
    );
    expect(await handle.result({ timeout: '30s' })).toEqual({ status: 'closed', accountId: 'acct_bob_example_com' });
    expect(mailsTo('bob@example.com')).toEqual(['verify', 'closed']);
    expect(accounts.accounts.get('acct_bob_example_com')?.status).toBe('closed');
  });

  it('sends a user on the watch list to review instead of activating them', async () => {
    const zart = await db.zart({ resolve });
    const handle = await zart.startWorkflow(
      UserOnboarding,
      { email: 'mallory@example.com', name: 'Mallory Sanctioned', timing },
      { id: 'onboarding-mallory' },
    );
    await zart.sendEvent(handle.id, 'email-verified', { verifiedAt: '2026-11-30T12:00:00Z' });
    expect(await handle.result({ timeout: '30s' })).toMatchObject({ status: 'in-review' });
    expect(mailsTo('mallory@example.com')).toEqual(['verify']);
  });

  it('stores each day of stock prices once, across a feed outage, and alerts on a move over 5%', async () => {
    await db.sql.query(createPriceTable);
    const zart = await db.zart({ resolve });
    const handle = await zart.startWorkflow(
      DailyStockPrices,
      { symbols: ['ACME', 'GLOBEX'], days: 3, dayLength: '200ms' },
      { id: 'stock-prices' },
    );
    expect(await handle.result({ timeout: '30s' })).toEqual({ days: 3, alerts: ['ACME moved 7.2% on day 3'] });
    const { rows } = await db.sql.query<{ symbol: string; days: number }>(
      'SELECT symbol, count(*)::int AS days FROM stock_prices GROUP BY symbol ORDER BY symbol',
    );
    expect(rows).toEqual([
      { symbol: 'ACME', days: 3 },
      { symbol: 'GLOBEX', days: 3 },
    ]);
    expect(mailsTo('desk@example.com')).toEqual(['price-alert']);
  });
});
