// Retry policies of steps and workflows: validated once (when declared), then asked for the delay
// before each next attempt. The delay is stored as a wake time, so a crash neither resets nor
// skips attempts.
import { parseDuration, type Duration } from '../duration/parse-duration';
import { ConfigurationError } from '../errors';

/** How a failed step (or run) is retried. */
export interface RetryPolicy {
  /** Attempts in all, the first included (1 = no retry). */
  maxAttempts: number;
  /** `'exponential'` (default) doubles the delay each attempt; `'fixed'` keeps `initialDelay`. */
  backoff?: 'fixed' | 'exponential' | undefined;
  /** Delay before the second attempt. Default `'1s'`. */
  initialDelay?: Duration | undefined;
  /** Upper bound of the delay. Default `'1h'`. */
  maxDelay?: Duration | undefined;
  /** Randomise each delay by up to this fraction (true = 0.2), so retries of many runs spread out. */
  jitter?: boolean | number | undefined;
  /** Retry only errors for which this returns true. Default: every error. */
  retryIf?: ((error: unknown) => boolean) | undefined;
}

/** @internal */
export interface ResolvedRetryPolicy {
  readonly maxAttempts: number;
  readonly backoff: 'fixed' | 'exponential';
  readonly initialDelayMs: number;
  readonly maxDelayMs: number;
  readonly jitter: number;
  readonly retryIf: (error: unknown) => boolean;
}

/** @internal No retries. */
export const noRetry: ResolvedRetryPolicy = Object.freeze({
  maxAttempts: 1,
  backoff: 'fixed',
  initialDelayMs: 0,
  maxDelayMs: 0,
  jitter: 0,
  retryIf: () => false,
});

/** @internal Validates a policy; `where` names its owner (a class and method) in errors. */
export function resolveRetryPolicy(policy: RetryPolicy | undefined, where: string): ResolvedRetryPolicy {
  if (policy === undefined) return noRetry;
  const fail = (problem: string): never => {
    throw new ConfigurationError(`Invalid retry policy of ${where}: ${problem}`);
  };
  if (!Number.isInteger(policy.maxAttempts) || policy.maxAttempts < 1) {
    fail(`maxAttempts must be a positive integer, got ${String(policy.maxAttempts)}.`);
  }
  if (policy.backoff !== undefined && policy.backoff !== 'fixed' && policy.backoff !== 'exponential') {
    fail(`backoff must be 'fixed' or 'exponential', got ${JSON.stringify(policy.backoff)}.`);
  }
  const jitter =
    policy.jitter === true ? 0.2 : policy.jitter === undefined || policy.jitter === false ? 0 : policy.jitter;
  if (typeof jitter !== 'number' || jitter < 0 || jitter > 1)
    fail(`jitter must be a boolean or a fraction from 0 to 1.`);
  if (policy.retryIf !== undefined && typeof policy.retryIf !== 'function') fail('retryIf must be a function.');
  let initialDelayMs = 1_000;
  let maxDelayMs = 3_600_000;
  try {
    initialDelayMs = parseDuration(policy.initialDelay ?? '1s', 'initialDelay');
    maxDelayMs = parseDuration(policy.maxDelay ?? '1h', 'maxDelay');
  } catch (error) {
    fail((error as Error).message);
  }
  return Object.freeze({
    maxAttempts: policy.maxAttempts,
    backoff: policy.backoff ?? 'exponential',
    initialDelayMs,
    maxDelayMs: Math.max(maxDelayMs, initialDelayMs),
    jitter,
    retryIf: policy.retryIf ?? (() => true),
  });
}

/** @internal Milliseconds to wait after failed attempt number `attempt` (1-based). */
export function retryDelay(policy: ResolvedRetryPolicy, attempt: number): number {
  const base =
    policy.backoff === 'fixed' ? policy.initialDelayMs : policy.initialDelayMs * 2 ** Math.min(attempt - 1, 40);
  const capped = Math.min(base, policy.maxDelayMs);
  return Math.round(capped * (1 - policy.jitter * Math.random()));
}
