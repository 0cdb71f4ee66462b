// Onboarding two users and a few days of stock prices, with the clock sped up (a day lasts one
// second here; the workflows' real defaults are days). Ada confirms her address and is screened,
// activated and reminded; Bob never confirms and his account is closed when the window ends.
//
//   npm run sample:onboarding
import { setTimeout as delay } from 'node:timers/promises';
import { Client } from 'pg';
import { Zart } from 'zart';
import { resolveDatabaseUrl } from 'zart/testing';
import { createPriceTable, DailyStockPrices, MarketFeed, PriceHistory } from './daily-stock-prices.workflow';
import { AccountStore, ComplianceScreening, Mailer } from './onboarding-services';
import { UserOnboarding, type EmailVerified, type OnboardingTiming } from './user-onboarding.workflow';

// '3d' -> '3s': the same workflow, a faster clock.
const demoTiming: OnboardingTiming = { verificationWindow: '3s', firstReminderAfter: '1s', secondReminderAfter: '2s' };

async function main(): Promise<void> {
  const database = await resolveDatabaseUrl({ database: 'zart_onboarding' });
  const sql = new Client({ connectionString: database.url });
  const started = Date.now();
  const log = (line: string): void =>
    console.log(`  ${((Date.now() - started) / 1000).toFixed(1).padStart(5)}s  ${line}`);
  const accounts = new AccountStore();
  const mailer = new Mailer(log);
  const zart = new Zart({
    connectionString: database.url,
    resolve: (workflow) =>
      workflow === UserOnboarding
        ? new UserOnboarding(accounts, mailer, new ComplianceScreening(log))
        : new DailyStockPrices(new MarketFeed(log), new PriceHistory(), mailer),
  });
  try {
    await sql.connect();
    await sql.query(createPriceTable);
    await zart.start();
    const batch = Date.now().toString(36);
    console.log('A day lasts one second in this demo.');

    const ada = await zart.startWorkflow(
      UserOnboarding,
      { email: 'ada@example.com', name: 'Ada Lovelace', timing: demoTiming },
      { id: `onboarding-ada-${batch}` },
    );
    const bob = await zart.startWorkflow(
      UserOnboarding,
      { email: 'bob@example.com', name: 'Bob Idle', timing: demoTiming },
      { id: `onboarding-bob-${batch}` },
    );
    const prices = await zart.startWorkflow(
      DailyStockPrices,
      { symbols: ['ACME', 'GLOBEX'], days: 3, dayLength: '1s' },
      { id: `stock-prices-${batch}` },
    );

    // Half a day later Ada clicks the link; the verification page's handler sends the event.
    await delay(500);
    const verified: EmailVerified = { verifiedAt: new Date().toISOString() };
    log('Ada clicks the verification link');
    await zart.sendEvent(ada.id, 'email-verified', verified);

    const [adaOutcome, bobOutcome, priceOutcome] = await Promise.all([ada.result(), bob.result(), prices.result()]);
    console.log(`\nAda: ${JSON.stringify(adaOutcome)}`);
    console.log(`Bob: ${JSON.stringify(bobOutcome)}`);
    console.log(`Stock prices: ${JSON.stringify(priceOutcome)}`);
    const screening = (await zart.getSteps(ada.id)).find((step) => step.name === 'ComplianceScreening.screen');
    console.log(`Ada's compliance screening took ${screening?.attempts ?? '?'} attempts (the first hit an outage).`);
    const { rows } = await sql.query<{ days: number }>(
      'SELECT count(DISTINCT day)::int AS days FROM stock_prices WHERE run_id = $1',
      [prices.id],
    );
    console.log(`Price history holds ${rows[0]!.days} days.`);
  } finally {
    await zart.shutdown();
    await sql.end();
    await database.close();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
