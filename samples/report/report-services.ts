// Three slow services a monthly report needs: sales, support and web analytics, simulated. Each
// keeps a call log in the database (what a real service would see in its access log), so the
// sample can show that no part was asked for twice, whichever server process asked.
import { setTimeout as delay } from 'node:timers/promises';
import type { Pool } from 'pg';
import { Step } from 'zart';

export const createCallLogTable = `
CREATE TABLE IF NOT EXISTS report_service_calls (
  service     text NOT NULL,
  period      text NOT NULL,
  caller_pid  integer NOT NULL,
  started_at  timestamptz NOT NULL DEFAULT clock_timestamp(),
  finished_at timestamptz
)`;

export interface SalesFigures {
  revenueCents: number;
  topProducts: string[];
}

export class ReportServices {
  /** `delayMs`: how long each service takes to answer (a real one: seconds to minutes). */
  constructor(
    private readonly callLog: Pool,
    private readonly delayMs: number,
  ) {}

  @Step()
  async sales(period: string): Promise<SalesFigures> {
    return this.call('sales', period, () => ({
      revenueCents: 1_234_500 + period.length * 1000,
      topProducts: ['lamp', 'desk', 'chair'],
    }));
  }

  @Step()
  async support(period: string, products: string[]): Promise<Record<string, number>> {
    return this.call('support', period, () => Object.fromEntries(products.map((p, i) => [p, 3 + i * 4])));
  }

  @Step()
  async analytics(period: string, products: string[]): Promise<Record<string, number>> {
    return this.call('analytics', period, () => Object.fromEntries(products.map((p, i) => [p, 12_000 - i * 2_500])));
  }

  private async call<T>(service: string, period: string, answer: () => T): Promise<T> {
    const { rows } = await this.callLog.query<{ ctid: string }>(
      'INSERT INTO report_service_calls (service, period, caller_pid) VALUES ($1, $2, $3) RETURNING ctid::text',
      [service, period, process.pid],
    );
    await delay(this.delayMs);
    await this.callLog.query('UPDATE report_service_calls SET finished_at = clock_timestamp() WHERE ctid = $1::tid', [
      rows[0]!.ctid,
    ]);
    return answer();
  }
}
