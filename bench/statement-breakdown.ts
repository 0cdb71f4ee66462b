// Adds up the per-statement figures of several measured segments of one system, and turns them
// into rows "statements per step, median latency", most frequent first.
import { median } from './median';
import type { StatementStats } from './query-counter';

export interface StatementRow {
  statement: string;
  perStep: number;
  medianMs: number;
}

export class StatementBreakdown {
  private readonly stats = new Map<string, StatementStats>();

  add(segment: ReadonlyMap<string, StatementStats>): void {
    for (const [key, s] of segment) {
      const into = this.stats.get(key);
      if (into) {
        into.count += s.count;
        into.latenciesMs.push(...s.latenciesMs);
      } else {
        this.stats.set(key, { count: s.count, latenciesMs: [...s.latenciesMs] });
      }
    }
  }

  rows(steps: number): StatementRow[] {
    return [...this.stats]
      .map(([statement, s]) => ({ statement, perStep: s.count / steps, medianMs: median(s.latenciesMs) }))
      .sort((a, b) => b.perStep - a.perStep);
  }
}
