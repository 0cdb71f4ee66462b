// Financial data, once a day: fetch the closing prices, store them exactly once, alert on big moves,
// sleep until the next day. One run covers `days` days; the sleep between them is durable, so the
// run wakes on time across restarts and holds no worker in between.
import { Step, Workflow, currentRun, currentStep, sleep, stepTransaction, type Duration } from 'zart';
import type { Mailer } from './onboarding-services';

export interface StockPricesInput {
  symbols: string[];
  days: number;
  /** Default `'1d'`; the demo and the tests pass a shorter one. */
  dayLength?: Duration;
}

export const createPriceTable = `
CREATE TABLE IF NOT EXISTS stock_prices (
  run_id      text NOT NULL,
  symbol      text NOT NULL,
  day         integer NOT NULL,
  close_cents integer NOT NULL,
  PRIMARY KEY (run_id, symbol, day)
)`;

/** The market data feed, simulated: made-up prices, and a feed that times out now and then. */
export class MarketFeed {
  constructor(private readonly log: (line: string) => void = () => undefined) {}

  @Step({ retry: { maxAttempts: 4, initialDelay: '500ms' } })
  async closingPrices(symbols: string[], day: number): Promise<Record<string, number>> {
    if (day === 2 && currentStep().attempt === 1) {
      this.log(`day ${day}: the price feed timed out (attempt 1), will retry`);
      throw new Error('market data feed timed out');
    }
    const prices = Object.fromEntries(symbols.map((symbol) => [symbol, simulatedClose(symbol, day)]));
    this.log(`day ${day}: closing prices ${JSON.stringify(prices)}`);
    return prices;
  }
}

export class PriceHistory {
  // Transactional: the rows and the checkpoint commit together, so a day is stored exactly once.
  @Step({ transaction: true })
  async store(day: number, closes: Record<string, number>): Promise<void> {
    for (const [symbol, closeCents] of Object.entries(closes)) {
      await stepTransaction().query(
        'INSERT INTO stock_prices (run_id, symbol, day, close_cents) VALUES ($1, $2, $3, $4)',
        [currentRun().id, symbol, day, closeCents],
      );
    }
  }
}

// An alert when a price moves more than this between two closes.
const alertThreshold = 0.05;

@Workflow({ name: 'daily-stock-prices' })
export class DailyStockPrices {
  constructor(
    private readonly feed: MarketFeed,
    private readonly history: PriceHistory,
    private readonly mailer: Mailer,
  ) {}

  async run(input: StockPricesInput): Promise<{ days: number; alerts: string[] }> {
    const alerts: string[] = [];
    let previous: Record<string, number> = {};
    for (let day = 1; day <= input.days; day++) {
      const closes = await this.feed.closingPrices(input.symbols, day);
      await this.history.store(day, closes);
      // Plain code between steps: it only uses step results, so a replay computes the same thing.
      for (const [symbol, close] of Object.entries(closes)) {
        const before = previous[symbol];
        if (before !== undefined && Math.abs(close - before) / before > alertThreshold) {
          const alert = `${symbol} moved ${(((close - before) / before) * 100).toFixed(1)}% on day ${day}`;
          alerts.push(alert);
          await this.mailer.send('desk@example.com', 'price-alert', alert);
        }
      }
      previous = closes;
      if (day < input.days) await sleep(input.dayLength ?? '1d');
    }
    return { days: input.days, alerts };
  }
}

// Quiet days, and a 7% jump for the first symbol on day 3 so that the alert shows.
function simulatedClose(symbol: string, day: number): number {
  const base = 10_000 + [...symbol].reduce((sum, c) => sum + c.charCodeAt(0), 0) * 10;
  const jump = symbol.startsWith('A') && day >= 3 ? 1.07 : 1;
  return Math.round(base * (1 + day * 0.002) * jump);
}
