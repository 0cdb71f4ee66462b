// Validates every option of `new Zart(...)` at once and compiles them into one frozen object that
// is handed down explicitly; nothing reads options from anywhere else.
import type { DataSource } from 'typeorm';
import { parseDuration, type Duration } from '../duration/parse-duration';
import { ConfigurationError } from '../errors';
import { consoleLogger, type ZartLogger } from '../logging/zart-logger';
import {
  resolveValueOptions,
  type LargeValuesOptions,
  type LimitsOptions,
} from '../serialization/resolve-value-options';
import { DefaultSerializer, type ErrorClass, type Serializer } from '../serialization/serializer';
import { ValueSerializer } from '../serialization/value-serializer';
import type { DatabaseConnection } from '../storage/zart-database';

/** Options of the worker inside a `Zart` instance. */
export interface WorkerOptions {
  /** Runs executed at once by this process. Default 100. */
  concurrency?: number;
  /** Queues this worker claims from. Default `['default']`. */
  queues?: string[];
  /** How long a claim lasts without renewal; a dead worker's runs resume after it. Default `'30s'`. */
  lease?: Duration;
  /** How often to look for runnable runs when nothing wakes the worker. Default `'1s'`. */
  pollInterval?: Duration;
  /** How long `shutdown()` waits for in-flight runs before handing them back. Default `'30s'`. */
  drain?: Duration;
  /** Durable waits up to this long are held in-process; longer ones release the worker. Default `'5s'`. */
  maxInProcessWait?: Duration;
}

/** Options of `new Zart(...)` and `new ZartClient(...)`. */
export interface ZartOptions {
  /** postgres:// URL. Default: `DATABASE_URL`. */
  connectionString?: string;
  /** An application's TypeORM DataSource (postgres): Zart connects to the same database. */
  dataSource?: DataSource;
  /** Schema of Zart's tables. Default `'zart'`. */
  schema?: string;
  /** Run pending migrations at `start()`. Default true. */
  migrate?: boolean;
  /** `false` for a process that only starts and inspects runs. */
  worker?: false | WorkerOptions;
  /** Returns the instance that executes a workflow class (a DI container). Default `new cls()`. */
  resolve?: (target: abstract new (...args: never[]) => object) => object;
  logger?: ZartLogger;
  serializer?: Serializer;
  /** Error classes the default serializer rebuilds by name on replay in any process. */
  errorClasses?: ErrorClass[];
  /** Connections in Zart's pool. Default 10. */
  poolSize?: number;
  /** The largest value Zart stores. Default `{ maxValueSize: '16MB' }`. */
  limits?: LimitsOptions;
  /** Keep values over a threshold in the application's own store; checkpoints hold a reference. */
  largeValues?: LargeValuesOptions;
}

/** @internal */
export interface ResolvedWorkerOptions {
  readonly concurrency: number;
  readonly queues: readonly string[];
  readonly leaseMs: number;
  readonly pollIntervalMs: number;
  readonly drainMs: number;
  readonly maxInProcessWaitMs: number;
}

/** @internal */
export interface ResolvedZartOptions {
  readonly connection: DatabaseConnection;
  readonly schema: string;
  readonly migrate: boolean;
  readonly worker: ResolvedWorkerOptions | false;
  readonly resolve: (target: abstract new (...args: never[]) => object) => object;
  readonly logger: ZartLogger;
  /** The configured serializer with the `limits` and `largeValues` options. */
  readonly serializer: ValueSerializer;
}

const zartKeys = [
  'connectionString',
  'dataSource',
  'schema',
  'migrate',
  'worker',
  'resolve',
  'logger',
  'serializer',
  'errorClasses',
  'poolSize',
  'limits',
  'largeValues',
];
const workerKeys = ['concurrency', 'queues', 'lease', 'pollInterval', 'drain', 'maxInProcessWait'];

/** @internal */
export function resolveOptions(options: ZartOptions, withWorker: boolean): ResolvedZartOptions {
  const problems: string[] = [];
  unknownKeys(options, zartKeys, 'new Zart({ ... })', problems);

  const poolSize = options.poolSize ?? 10;
  if (!Number.isInteger(poolSize) || poolSize < 2)
    problems.push(`poolSize must be an integer of at least 2, got ${String(options.poolSize)}.`);

  let connection: DatabaseConnection | undefined;
  if (options.connectionString !== undefined && options.dataSource !== undefined) {
    problems.push('Pass either connectionString or dataSource, not both.');
  } else if (options.dataSource !== undefined) {
    connection = { kind: 'dataSource', dataSource: options.dataSource, poolSize };
  } else {
    const url = options.connectionString ?? process.env.DATABASE_URL;
    if (!url) problems.push('No database: pass connectionString or dataSource, or set DATABASE_URL.');
    else connection = { kind: 'url', url, poolSize };
  }

  const schema = options.schema ?? 'zart';
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(schema)) {
    problems.push(`schema must be a lower-case SQL identifier (letters, digits, _), got ${JSON.stringify(schema)}.`);
  }

  let worker: ResolvedWorkerOptions | false = false;
  if (withWorker && options.worker !== false) {
    const w = options.worker ?? {};
    unknownKeys(w, workerKeys, 'worker: { ... }', problems);
    const concurrency = w.concurrency ?? 100;
    if (!Number.isInteger(concurrency) || concurrency < 1)
      problems.push(`worker.concurrency must be a positive integer, got ${String(w.concurrency)}.`);
    const queues = w.queues ?? ['default'];
    if (!Array.isArray(queues) || queues.length === 0 || queues.some((q) => typeof q !== 'string' || !q)) {
      problems.push('worker.queues must be a non-empty array of queue names.');
    }
    worker = Object.freeze({
      concurrency,
      queues: Object.freeze([...queues]),
      leaseMs: duration(w.lease ?? '30s', 'worker.lease', problems, 100),
      pollIntervalMs: duration(w.pollInterval ?? '1s', 'worker.pollInterval', problems, 1),
      drainMs: duration(w.drain ?? '30s', 'worker.drain', problems, 0),
      maxInProcessWaitMs: duration(w.maxInProcessWait ?? '5s', 'worker.maxInProcessWait', problems, 0),
    });
  }

  if (!withWorker && options.worker !== undefined && options.worker !== false) {
    problems.push('ZartClient runs no worker: remove the worker option, or use Zart to execute runs.');
  }
  if (options.serializer !== undefined && options.errorClasses !== undefined) {
    problems.push(
      'errorClasses configures the default serializer; with your own serializer, teach it the classes instead.',
    );
  }
  const values = resolveValueOptions(options, problems);
  if (options.resolve !== undefined && typeof options.resolve !== 'function')
    problems.push('resolve must be a function (cls) => instance.');
  if (problems.length > 0 || !connection) {
    throw new ConfigurationError(`Invalid Zart options:\n  - ${problems.join('\n  - ')}`);
  }
  return Object.freeze({
    connection,
    schema,
    migrate: options.migrate ?? true,
    worker,
    resolve:
      options.resolve ??
      ((target: abstract new (...args: never[]) => object) => new (target as unknown as new () => object)()),
    logger: options.logger ?? consoleLogger,
    serializer: new ValueSerializer(options.serializer ?? new DefaultSerializer(options.errorClasses ?? []), values),
  });
}

function unknownKeys(value: object, known: string[], where: string, problems: string[]): void {
  for (const key of Object.keys(value)) {
    if (!known.includes(key)) problems.push(`Unknown option "${key}" in ${where}; known options: ${known.join(', ')}.`);
  }
}

function duration(value: Duration, what: string, problems: string[], minimumMs: number): number {
  try {
    const ms = parseDuration(value, what);
    if (ms < minimumMs) problems.push(`${what} must be at least ${minimumMs} ms, got ${ms} ms.`);
    return ms;
  } catch (error) {
    problems.push((error as Error).message);
    return minimumMs;
  }
}
