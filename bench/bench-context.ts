// What every workload is handed by bench/run.ts: where zart's tables go, the statement counter,
// and which systems to measure (BENCH_SYSTEMS narrows it, e.g. to profile zart alone).
import type { QueryCounter } from './query-counter';

/** raw: the physical floor (node-postgres INSERT + commit); dbos: @dbos-inc/dbos-sdk; zart. */
export type BenchSystem = 'raw' | 'dbos' | 'zart';

export interface BenchContext {
  /** The bench database: zart's schemas and the raw baseline's tables. */
  url: string;
  /** DBOS's system database (DBOS is launched by run.ts before W1 and W2 when measured). */
  dbosSystemUrl: string;
  counter: QueryCounter;
  systems: ReadonlySet<BenchSystem>;
}

/** Per system: what it achieved and how many statements it sent for it. */
export type PerSystem<T> = Partial<Record<BenchSystem, T>>;
