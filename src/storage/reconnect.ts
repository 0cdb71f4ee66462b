// Tells connection failures (a terminated backend, a restarting server, a refused socket) and
// other transient failures (a deadlock victim) from errors of the statement itself, and retries an
// operation across them with back-off, so a worker rides out pg_terminate_backend, PostgreSQL
// restarts and lock conflicts instead of failing runs.
import { setTimeout as delay } from 'node:timers/promises';
import { DatabaseTimeoutError } from '../errors';

// SQLSTATE classes 08 (connection exception) and 57P0x (operator intervention: terminated
// backend, shutdown, server starting), 53300 (too many clients: the server refused a new
// connection, and takes one again as others close), plus what node and pg report for a dead socket.
const connectionCodes = new Set([
  '53300',
  '57P01',
  '57P02',
  '57P03',
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'ENOTFOUND',
]);
const connectionMessages = [
  'Connection terminated',
  'connection terminated',
  'Client has encountered a connection error',
  'timeout exceeded when trying to connect',
  'Client was closed and is not queryable',
  'the database system is starting up',
  'the database system is shutting down',
];

/** Whether `error` means the connection failed, not the statement. */
export function isConnectionError(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string' && (connectionCodes.has(code) || code.startsWith('08'))) return true;
  const message = (error as { message?: unknown }).message;
  return typeof message === 'string' && connectionMessages.some((m) => message.includes(m));
}

// What TypeORM throws when a transaction's connection failed while the transaction was idle
// (between two statements, or before COMMIT: a network loss, idle_in_transaction_session_timeout):
// it released the connection on the error, and every later query or the COMMIT says so.
const releasedQueryRunnerErrors = new Set([
  'QueryRunnerAlreadyReleasedError',
  'QueryRunnerProviderAlreadyReleasedError',
]);

/** Whether `error` says a TypeORM transaction's connection was already released after it failed. */
export function isReleasedTransactionError(error: unknown): boolean {
  return error instanceof Error && releasedQueryRunnerErrors.has(error.name);
}

// A deadlock victim or a serialization failure: the statement can simply run again.
const transientCodes = new Set(['40P01', '40001']);

/**
 * Whether running the statement (or the transaction) again may succeed: a connection failure, a
 * lost lock race, or one of Zart's own statements cancelled at statementTimeout (a lock held
 * elsewhere for long, a server too slow for a while): cancelled, it wrote nothing.
 */
export function isTransientError(error: unknown): boolean {
  return (
    isConnectionError(error) ||
    error instanceof DatabaseTimeoutError ||
    transientCodes.has(String((error as { code?: unknown } | null)?.code))
  );
}

/** The pause before the `attempt`-th retry after a transient failure: 50 ms doubling to 2 s. */
export function transientBackOffMs(attempt: number): number {
  return Math.min(50 * 2 ** (attempt - 1), 2_000);
}

/**
 * Runs `operation`, retrying while it fails on the connection or as a deadlock victim (50 ms
 * doubling to 2 s), until it succeeds, fails otherwise, or `signal` aborts (then the last error is
 * thrown). `signal` may be a function, asked only once a retry is needed: a signal that costs
 * something to make (one for many callers) is then made only on that rare path.
 */
export async function retryOnDisconnect<T>(
  operation: () => Promise<T>,
  stopOn: AbortSignal | (() => AbortSignal),
  onRetry?: (error: unknown, attempt: number) => void,
): Promise<T> {
  let signal: AbortSignal | undefined;
  for (let attempt = 1; ; attempt++) {
    try {
      return await operation();
    } catch (error) {
      if (!isTransientError(error)) throw error;
      signal ??= typeof stopOn === 'function' ? stopOn() : stopOn;
      if (signal.aborted) throw error;
      onRetry?.(error, attempt);
      await delay(transientBackOffMs(attempt), undefined, { signal }).catch(() => undefined);
      if (signal.aborted) throw error;
    }
  }
}
