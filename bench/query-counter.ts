// Counts statements sent through node-postgres in this process (zart, TypeORM, DBOS and the raw
// baseline all share the one deduplicated `pg`), so a workload can report round trips per step
// and which statements they are; test/integration/statements-per-run.test.ts guards zart's counts
// with it. A pipelined extended-protocol query (parse/bind/execute/sync)
// is one round trip and counts once.
import { performance } from 'node:perf_hooks';
import { Client } from 'pg';

/** How often a statement was sent, and how long each took from the call to its result. */
export interface StatementStats {
  count: number;
  latenciesMs: number[];
}

export class QueryCounter {
  private count = 0;
  private readonly byStatement = new Map<string, StatementStats>();
  // Kept unbound on purpose: it is put back on the prototype, and called with each client as `this`.
  // eslint-disable-next-line @typescript-eslint/unbound-method
  private readonly original = Client.prototype.query;

  /** Starts counting every `Client#query` call; `uninstall()` puts the original back. */
  install(): this {
    const original = this.original;
    // eslint-disable-next-line @typescript-eslint/no-this-alias
    const counter = this;
    Client.prototype.query = function (this: Client, ...args: unknown[]) {
      counter.count++;
      const key = statementKey(args[0]);
      let stats = counter.byStatement.get(key);
      if (!stats) counter.byStatement.set(key, (stats = { count: 0, latenciesMs: [] }));
      stats.count++;
      const started = performance.now();
      const done = (): void => void stats.latenciesMs.push(performance.now() - started);
      // pg-pool and TypeORM pass a callback; everything else gets a promise back.
      const last = args.length - 1;
      const callback = args[last];
      if (typeof callback === 'function') {
        args[last] = (...results: unknown[]) => {
          done();
          return (callback as (...r: unknown[]) => unknown)(...results);
        };
      }
      const result = (original as (...a: unknown[]) => unknown).apply(this, args);
      if (typeof callback !== 'function' && result instanceof Promise) result.then(done, done);
      return result;
    } as typeof Client.prototype.query;
    return this;
  }

  uninstall(): void {
    Client.prototype.query = this.original;
  }

  /** Statements sent so far. */
  get value(): number {
    return this.count;
  }

  /**
   * Runs `work` and returns how many statements were sent meanwhile (by anything in the
   * process), in all and per statement (its first words, with the latency of each).
   */
  async measure<T>(
    work: () => Promise<T>,
  ): Promise<{ result: T; queries: number; statements: Map<string, StatementStats> }> {
    const before = this.count;
    const start = new Map([...this.byStatement].map(([key, s]) => [key, { ...s, latenciesMs: s.latenciesMs.length }]));
    const result = await work();
    const statements = new Map<string, StatementStats>();
    for (const [key, s] of this.byStatement) {
      const from = start.get(key);
      const count = s.count - (from?.count ?? 0);
      if (count > 0) statements.set(key, { count, latenciesMs: s.latenciesMs.slice(from?.latenciesMs ?? 0) });
    }
    return { result, queries: this.count - before, statements };
  }
}

// SQL texts are a few constant strings: normalising each once keeps the counter's own cost per
// statement (measured at ~0.02 ms with a regex per call) out of the figures it counts.
const keys = new Map<string, string>();

// A prepared statement by its name (zart's hot path: `zart_insert_checkpoint_<schema>` is
// storage/sql/insert-checkpoint.ts; several of them open with the same `WITH batch AS (...`),
// any other by its first 90 characters, whitespace folded: enough to tell them apart.
function statementKey(query: unknown): string {
  if (typeof query === 'object' && query !== null && 'name' in query && typeof query.name === 'string') {
    return query.name;
  }
  const text =
    typeof query === 'string'
      ? query
      : typeof query === 'object' && query !== null && 'text' in query
        ? String(query.text)
        : '(other)';
  let key = keys.get(text);
  if (key === undefined) {
    key = text.replace(/\s+/g, ' ').trim().slice(0, 90);
    if (keys.size < 10_000) keys.set(text, key);
  }
  return key;
}
