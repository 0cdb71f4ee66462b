// Checks the `queues` option of `new Zart(...)` and compiles each queue's limits into numbers the
// claim statement takes. A queue with no limit compiles to nothing: its runs are claimed by the
// plain claim statement and pay nothing for flow control.
import { parseDuration, type Duration } from '../duration/parse-duration';
import { showValue } from '../options/show-value';
import { unknownKeys } from '../options/unknown-keys';

/** At most `limit` runs of a queue start per `period`, across all processes. */
export interface RateLimitOptions {
  /** Starts allowed in any window of `period`. A positive integer. */
  limit: number;
  /** The window: milliseconds or a string such as `'1s'`, `'1m'`. */
  period: Duration;
}

/** Flow control of one queue; every limit holds across all processes that declare the queue. */
export interface QueueOptions {
  /** At most this many runs of the queue execute at once, across all processes. Default: no limit. */
  concurrency?: number | undefined;
  /** At most `limit` runs of the queue start per `period`, across all processes. Default: no limit. */
  rateLimit?: RateLimitOptions | undefined;
  /**
   * At most this many runs with one `partitionKey` execute at once (runs without a key share one
   * partition). Default: no limit.
   */
  partitionConcurrency?: number | undefined;
}

/** @internal A queue's limits as the claim takes them; null is no limit. */
export interface ResolvedQueueOptions {
  readonly name: string;
  readonly concurrency: number | null;
  readonly rateLimit: { readonly limit: number; readonly periodMs: number } | null;
  readonly partitionConcurrency: number | null;
}

const queueKeys = ['concurrency', 'rateLimit', 'partitionConcurrency'];
const rateLimitKeys = ['limit', 'period'];
// PostgreSQL integers: a larger limit would overflow the claim's parameters.
const maxLimit = 2 ** 31 - 1;

/** @internal The declared queues: every name, and the limits of those that have any. */
export interface ResolvedQueues {
  readonly names: readonly string[];
  /** Queues declared without any limit are not here: the plain claim serves them. */
  readonly limited: ReadonlyMap<string, ResolvedQueueOptions>;
}

/** @internal */
export function resolveQueueOptions(given: unknown, problems: string[]): ResolvedQueues {
  const limited = new Map<string, ResolvedQueueOptions>();
  if (given === undefined) return { names: [], limited };
  if (!isObject(given)) {
    problems.push(
      `queues must be an object of queue options by name, such as { emails: { concurrency: 5 } }, got ${showValue(given)}.`,
    );
    return { names: [], limited };
  }
  for (const [name, options] of Object.entries(given)) {
    const where = `queues[${JSON.stringify(name)}]`;
    if (!name || name.includes('\u0000')) {
      problems.push(`queues: ${showValue(name)} is not a queue name; use a non-empty name without NUL bytes.`);
      continue;
    }
    if (!isObject(options)) {
      problems.push(`${where} must be an object such as { concurrency: 5 }, got ${showValue(options)}.`);
      continue;
    }
    unknownKeys(options, queueKeys, `${where}: { ... }`, problems);
    const { concurrency, rateLimit, partitionConcurrency } = options as QueueOptions;
    const queue: ResolvedQueueOptions = {
      name,
      concurrency: count(concurrency, `${where}.concurrency`, problems),
      rateLimit: resolveRateLimit(rateLimit, `${where}.rateLimit`, problems),
      partitionConcurrency: count(partitionConcurrency, `${where}.partitionConcurrency`, problems),
    };
    if (queue.concurrency !== null || queue.rateLimit !== null || queue.partitionConcurrency !== null) {
      limited.set(name, Object.freeze(queue));
    }
  }
  return { names: Object.freeze(Object.keys(given)), limited };
}

function resolveRateLimit(
  value: unknown,
  where: string,
  problems: string[],
): { limit: number; periodMs: number } | null {
  if (value === undefined) return null;
  if (!isObject(value)) {
    problems.push(`${where} must be an object such as { limit: 100, period: '1m' }, got ${showValue(value)}.`);
    return null;
  }
  unknownKeys(value, rateLimitKeys, `${where}: { ... }`, problems);
  const { limit, period } = value as Partial<RateLimitOptions>;
  if (limit === undefined) problems.push(`${where}.limit is missing: say how many runs may start per period.`);
  if (period === undefined) problems.push(`${where}.period is missing: give the window, such as '1s' or '1m'.`);
  const resolvedLimit = count(limit, `${where}.limit`, problems);
  let periodMs = 0;
  if (period !== undefined) {
    try {
      periodMs = parseDuration(period, `${where}.period`);
      if (periodMs < 1) problems.push(`${where}.period must be at least 1 ms, got ${showValue(period)}.`);
    } catch (error) {
      problems.push((error as Error).message);
    }
  }
  return resolvedLimit === null || periodMs < 1 ? null : { limit: resolvedLimit, periodMs };
}

function count(value: unknown, where: string, problems: string[]): number | null {
  if (value === undefined) return null;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > maxLimit) {
    problems.push(`${where} must be a positive integer, got ${showValue(value)}.`);
    return null;
  }
  return value;
}

function isObject(value: unknown): value is object {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
