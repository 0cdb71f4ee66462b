// Validates every option of `new Zart(...)` at once, types included (the options often come from
// untyped configuration), and compiles them into one frozen object that is handed down explicitly;
// nothing reads options from anywhere else, and nothing is connected before they passed.
import type { DataSource } from 'typeorm';
import { parseDuration, type Duration } from '../duration/parse-duration';
import { ConfigurationError } from '../errors';
import { consoleLogger, type ZartLogger } from '../logging/zart-logger';
import { RunTracing, type TracingOptions } from '../observability/run-tracing';
import { ZartMetrics, type MetricsOptions, type MetricsRegistry } from '../observability/zart-metrics';
import {
  resolveValueOptions,
  type LargeValuesOptions,
  type LimitsOptions,
} from '../serialization/resolve-value-options';
import { DefaultSerializer, type ErrorClass, type Serializer } from '../serialization/serializer';
import { ValueSerializer } from '../serialization/value-serializer';
import type { DatabaseConnection } from '../storage/zart-database';
import { resolveQueueOptions, type QueueOptions, type ResolvedQueues } from '../queues/resolve-queue-options';
import { showValue } from './show-value';
import { unknownKeys } from './unknown-keys';

/** Options of the worker inside a `Zart` instance. */
export interface WorkerOptions {
  /** Runs executed at once by this process. Default 100. */
  concurrency?: number | undefined;
  /** Queues this worker claims from. Default `'default'` and every queue of the `queues` option. */
  queues?: string[] | undefined;
  /** How long a claim lasts without renewal; a dead worker's runs resume after it. Default `'30s'`. */
  lease?: Duration | undefined;
  /** How often to look for runnable runs when nothing wakes the worker. Default `'1s'`. */
  pollInterval?: Duration | undefined;
  /** How long `shutdown()` waits for in-flight runs before handing them back. Default `'30s'`. */
  drain?: Duration | undefined;
  /** Durable waits up to this long are held in-process; longer ones release the worker. Default `'5s'`. */
  maxInProcessWait?: Duration | undefined;
  /**
   * Code versions besides its own whose runs this worker may claim (replay). Its own: each
   * workflow's `@Workflow({ version })`, else the `version` option. Runs without a version are
   * claimed by every worker; a worker without any version claims every run.
   */
  compatibleVersions?: readonly string[] | undefined;
}

/** Gives the instance that executes a run of `target`, at once or as a promise (a DI container). */
export type WorkflowResolver = (target: abstract new (...args: never[]) => object) => object | Promise<object>;

/** Options of `new Zart(...)` and `new ZartClient(...)`. */
export interface ZartOptions {
  /** postgres:// URL. Default: `DATABASE_URL`. */
  connectionString?: string | undefined;
  /** An application's TypeORM DataSource (postgres): Zart connects to the same database. */
  dataSource?: DataSource | undefined;
  /** Schema of Zart's tables. Default `'zart'`. */
  schema?: string | undefined;
  /** Run pending migrations at `start()`. Default true. */
  migrate?: boolean | undefined;
  /** `false` for a process that only starts and inspects runs. */
  worker?: false | WorkerOptions | undefined;
  /**
   * Returns the instance that executes one run of a workflow class, or a promise of it (a DI
   * container). Called once per execution, so each run has its own instance. Default `new cls()`,
   * which is refused at `start()` for classes whose constructor takes arguments.
   */
  resolve?: WorkflowResolver | undefined;
  logger?: ZartLogger | undefined;
  serializer?: Serializer | undefined;
  /** Error classes the default serializer rebuilds by name on replay in any process. */
  errorClasses?: ErrorClass[] | undefined;
  /**
   * The code version of this deployment (a package.json version, a git sha), recorded on the runs
   * it starts, unless the workflow has `@Workflow({ version })`. Workers claim only runs of the
   * versions they serve (docs/versioning.md).
   */
  version?: string | undefined;
  /** Connections in Zart's pool. Default 10. */
  poolSize?: number | undefined;
  /** The largest value Zart stores. Default `{ maxValueSize: '16MB' }`. */
  limits?: LimitsOptions | undefined;
  /** Keep values over a threshold in the application's own store; checkpoints hold a reference. */
  largeValues?: LargeValuesOptions | undefined;
  /**
   * How long opening a connection (and waiting for a free one of the pool) may take before it
   * fails. Default `'10s'`.
   */
  connectTimeout?: Duration | undefined;
  /**
   * How long PostgreSQL lets one of Zart's statements run before cancelling it (`statement_timeout`
   * of Zart's connections; migrations are exempt). `0` turns it off. Default `'30s'`.
   */
  statementTimeout?: Duration | undefined;
  /**
   * Queues with flow control by name, e.g. `{ emails: { concurrency: 5, rateLimit: { limit: 100,
   * period: '1m' } } }`; a workflow joins one with `@Workflow({ queue })`. Declare the same limits
   * in every process that serves or starts runs of the queue (docs/queues-and-schedules.md).
   */
  queues?: Record<string, QueueOptions> | undefined;
  /**
   * Prometheus metrics through prom-client (installed by the application): `true` registers them
   * in prom-client's default registry, `{ registry }` in the application's. Default: off.
   */
  metrics?: boolean | MetricsOptions | undefined;
  /**
   * OpenTelemetry spans through @opentelemetry/api: on by default when that package is installed
   * (recorded once the application registers an SDK); `false` turns them off.
   */
  tracing?: boolean | TracingOptions | undefined;
}

/** @internal */
export interface ResolvedWorkerOptions {
  readonly concurrency: number;
  readonly queues: readonly string[];
  readonly leaseMs: number;
  readonly pollIntervalMs: number;
  readonly drainMs: number;
  readonly maxInProcessWaitMs: number;
  readonly compatibleVersions: readonly string[];
}

/** @internal */
export interface ResolvedZartOptions {
  readonly connection: DatabaseConnection;
  readonly schema: string;
  readonly migrate: boolean;
  readonly worker: ResolvedWorkerOptions | false;
  readonly resolve: WorkflowResolver;
  /** No `resolve` was given: workflows are built with `new cls()`. */
  readonly resolvesWithNew: boolean;
  readonly logger: ZartLogger;
  /** The configured serializer with the `limits` and `largeValues` options. */
  readonly serializer: ValueSerializer;
  /** The `queues` option: declared names, and the limits of the limited ones. */
  readonly queues: ResolvedQueues;
  /** The app-wide code version, or null. */
  readonly version: string | null;
  /** Undefined when metrics are off: nothing is counted, at no cost. */
  readonly metrics: ZartMetrics | undefined;
  readonly tracing: RunTracing | undefined;
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
  'connectTimeout',
  'statementTimeout',
  'queues',
  'version',
  'metrics',
  'tracing',
];
const workerKeys = [
  'concurrency',
  'queues',
  'lease',
  'pollInterval',
  'drain',
  'maxInProcessWait',
  'compatibleVersions',
];

// PostgreSQL truncates identifiers to 63 bytes and rejects longer NOTIFY channel names, and the
// longest channel is `zart_wake_up_<schema>` (13 characters + the schema): a longer schema made
// every NOTIFY fail, so cancel() left runs waiting.
const maxSchemaLength = 63 - 'zart_wake_up_'.length;

/** @internal */
export function resolveOptions(given: ZartOptions | undefined, withWorker: boolean): ResolvedZartOptions {
  if (given !== undefined && !isObject(given)) {
    throw new ConfigurationError(
      `new Zart(options) takes an object of options, got ${showValue(given)}. Pass { connectionString } or { dataSource }, or nothing to use DATABASE_URL.`,
    );
  }
  const options: ZartOptions = given ?? {};
  const problems: string[] = [];
  unknownKeys(options, zartKeys, 'new Zart({ ... })', problems);

  const poolSize = orDefault(options.poolSize, 10);
  if (!Number.isInteger(poolSize) || poolSize < 2)
    problems.push(`poolSize must be an integer of at least 2, got ${showValue(options.poolSize)}.`);
  const connectTimeoutMs = duration(orDefault(options.connectTimeout, '10s'), 'connectTimeout', problems, 1);
  const statementTimeoutMs = duration(orDefault(options.statementTimeout, '30s'), 'statementTimeout', problems, 0);
  const limits = { poolSize, connectTimeoutMs, statementTimeoutMs };

  let connection: DatabaseConnection | undefined;
  if (options.connectionString !== undefined && options.dataSource !== undefined) {
    problems.push('Pass either connectionString or dataSource, not both.');
  } else if (options.dataSource !== undefined) {
    const dataSource: unknown = options.dataSource;
    if (!isObject(dataSource) || !isObject((dataSource as { options?: unknown }).options)) {
      problems.push(`dataSource must be a TypeORM DataSource, got ${showValue(dataSource)}.`);
    } else {
      connection = { kind: 'dataSource', dataSource: options.dataSource, ...limits };
    }
  } else if (options.connectionString !== undefined && typeof options.connectionString !== 'string') {
    problems.push(`connectionString must be a postgres:// URL string, got ${showValue(options.connectionString)}.`);
  } else {
    const url = options.connectionString ?? process.env.DATABASE_URL;
    const from = options.connectionString === undefined ? 'DATABASE_URL' : 'connectionString';
    if (!url) problems.push('No database: pass connectionString or dataSource, or set DATABASE_URL.');
    else if (!isPostgresUrl(url))
      // Not echoed: the URL may hold a password.
      problems.push(`${from} must be a postgres://user:password@host:port/database URL; the one given is not.`);
    else connection = { kind: 'url', url, ...limits };
  }

  const schema: unknown = orDefault(options.schema, 'zart');
  if (typeof schema !== 'string' || !/^[a-z_][a-z0-9_]*$/.test(schema)) {
    problems.push(`schema must be a lower-case SQL identifier (letters, digits, _), got ${showValue(schema)}.`);
  } else if (schema.length > maxSchemaLength) {
    problems.push(
      `schema must be at most ${maxSchemaLength} characters, so that its notification channel zart_wake_up_<schema> fits PostgreSQL's 63-byte limit; got ${schema.length}.`,
    );
  }

  if (options.migrate !== undefined && typeof options.migrate !== 'boolean')
    problems.push(`migrate must be true or false, got ${showValue(options.migrate)}.`);

  const queues = resolveQueueOptions(options.queues, problems);

  let worker: ResolvedWorkerOptions | false = false;
  if (options.worker !== undefined && options.worker !== false && !isObject(options.worker)) {
    problems.push(`worker must be false or an object of worker options, got ${showValue(options.worker)}.`);
  } else if (withWorker && options.worker !== false) {
    const w = options.worker ?? {};
    unknownKeys(w, workerKeys, 'worker: { ... }', problems);
    const concurrency = orDefault(w.concurrency, 100);
    if (!Number.isInteger(concurrency) || concurrency < 1)
      problems.push(`worker.concurrency must be a positive integer, got ${showValue(w.concurrency)}.`);
    // Declaring a queue says this process works on it, unless worker.queues says otherwise.
    const served: unknown = orDefault(w.queues, [...new Set(['default', ...queues.names])]);
    const queueList = Array.isArray(served) ? (served as unknown[]) : [];
    if (queueList.length === 0 || queueList.some((q) => typeof q !== 'string' || !q || q.includes('\u0000'))) {
      problems.push(`worker.queues must be a non-empty array of queue names, got ${showValue(served)}.`);
    }
    worker = Object.freeze({
      concurrency,
      queues: Object.freeze(queueList.map(String)),
      leaseMs: duration(orDefault(w.lease, '30s'), 'worker.lease', problems, 100),
      pollIntervalMs: duration(orDefault(w.pollInterval, '1s'), 'worker.pollInterval', problems, 1),
      drainMs: duration(orDefault(w.drain, '30s'), 'worker.drain', problems, 0),
      maxInProcessWaitMs: duration(orDefault(w.maxInProcessWait, '5s'), 'worker.maxInProcessWait', problems, 0),
      compatibleVersions: versionList(w.compatibleVersions, problems),
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
  if (options.serializer !== undefined && !hasMethods(options.serializer, ['serialize', 'deserialize']))
    problems.push(
      `serializer must be an object with serialize and deserialize methods, got ${showValue(options.serializer)}.`,
    );
  if (options.logger !== undefined && !hasMethods(options.logger, ['debug', 'info', 'warn', 'error']))
    problems.push(
      `logger must be an object with debug, info, warn and error methods, got ${showValue(options.logger)}.`,
    );
  if (options.errorClasses !== undefined && !isErrorClassList(options.errorClasses))
    problems.push(
      `errorClasses must be an array of error classes (subclasses of Error), got ${showValue(options.errorClasses)}.`,
    );
  if (options.resolve !== undefined && typeof options.resolve !== 'function')
    problems.push('resolve must be a function (cls) => instance.');
  const metrics = resolveMetrics(options.metrics, problems);
  const tracing = RunTracing.resolve(options.tracing, problems);
  const version = versionText(options.version, problems);
  if (problems.length > 0 || !connection) {
    throw new ConfigurationError(
      `Invalid Zart options:\n  - ${problems.join('\n  - ')}\nFix these options (docs/operations.md#options).`,
    );
  }
  return Object.freeze({
    connection: { ...connection, applicationName: worker ? 'zart-worker' : 'zart' },
    schema: schema as string,
    migrate: options.migrate ?? true,
    worker,
    resolve:
      options.resolve ??
      ((target: abstract new (...args: never[]) => object) => new (target as unknown as new () => object)()),
    resolvesWithNew: options.resolve === undefined,
    logger: options.logger ?? consoleLogger,
    version,
    serializer: new ValueSerializer(options.serializer ?? new DefaultSerializer(options.errorClasses ?? []), values),
    queues,
    metrics: metrics && ZartMetrics.of(metrics),
    tracing,
  });
}

/** The registry the metrics option names; undefined when metrics are off. */
function resolveMetrics(option: ZartOptions['metrics'], problems: string[]): MetricsRegistry | undefined {
  if (option === undefined || option === false) return undefined;
  if (option === true) return ZartMetrics.defaultRegistry();
  if (!isObject(option)) {
    problems.push(`metrics must be true, false or { registry }, got ${showValue(option)}.`);
    return undefined;
  }
  unknownKeys(option, ['registry'], 'metrics: { ... }', problems);
  if (option.registry === undefined) return ZartMetrics.defaultRegistry();
  if (!hasMethods(option.registry, ['metrics', 'registerMetric', 'getSingleMetric'])) {
    problems.push(`metrics.registry must be a prom-client Registry, got ${showValue(option.registry)}.`);
    return undefined;
  }
  return option.registry;
}

/** Only a missing option takes the default: `null` is a value, and is checked like any other. */
function orDefault<T>(value: T | undefined, fallback: T): T {
  return value === undefined ? fallback : value;
}

function isPostgresUrl(url: string): boolean {
  try {
    return ['postgres:', 'postgresql:', 'socket:'].includes(new URL(url).protocol);
  } catch {
    return false;
  }
}

function isObject(value: unknown): value is object {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function hasMethods(value: unknown, methods: string[]): boolean {
  return isObject(value) && methods.every((method) => typeof (value as Record<string, unknown>)[method] === 'function');
}

function isErrorClassList(value: unknown): boolean {
  return (
    Array.isArray(value) &&
    value.every(
      (cls) =>
        typeof cls === 'function' && (cls === Error || (cls as { prototype?: unknown }).prototype instanceof Error),
    )
  );
}

/**
 * @internal The options argument of a method (`shutdown(options)`, `result(options)`, ...): an
 * object, or a ConfigurationError naming the call. Its values are checked where they are read
 * (durations by parseDuration, ids by storage/identifiers).
 */
export function checkCallOptions(options: unknown, where: string, example: string): void {
  if (!isObject(options)) {
    throw new ConfigurationError(`${where} takes an object of options such as ${example}, got ${showValue(options)}.`);
  }
}

function duration(value: unknown, what: string, problems: string[], minimumMs: number): number {
  try {
    const ms = parseDuration(value, what);
    if (ms < minimumMs) problems.push(`${what} must be at least ${minimumMs} ms, got ${ms} ms.`);
    return ms;
  } catch (error) {
    problems.push((error as Error).message);
    return minimumMs;
  }
}

function isVersion(value: unknown): value is string {
  return typeof value === 'string' && value.trim().length > 0 && value.length <= 200;
}

function versionText(value: unknown, problems: string[]): string | null {
  if (value === undefined) return null;
  if (isVersion(value)) return value;
  problems.push(
    `version must be a non-empty string of at most 200 characters (say, a git sha), got ${showValue(value)}.`,
  );
  return null;
}

function versionList(value: unknown, problems: string[]): readonly string[] {
  if (value === undefined) return [];
  if (Array.isArray(value) && value.every(isVersion)) return Object.freeze([...value]);
  problems.push(`worker.compatibleVersions must be an array of version strings, got ${showValue(value)}.`);
  return [];
}
