// One step call: replays its stored outcome, or runs its attempts (each bounded by the step's
// timeout, retried by its policy with the back-off stored as a wake time, inside a transaction for
// a transactional step) and checkpoints the result. The caller gets the output read back from its
// stored form, never the live object the body returned: a replay gets that same stored form, so
// workflow code sees one value on the first execution and on every replay.
import { performance } from 'node:perf_hooks';
import { setTimeout as delay } from 'node:timers/promises';
import { QueryFailedError } from 'typeorm';
import { contextStorage, type StepInfo, type StepPolicy, type StepTransactionScope } from '../context/run-context';
import {
  LargeValueStoreError,
  LeaseLostError,
  SerializationError,
  SimulatedCrashError,
  StepFailedError,
  StepTimeoutError,
} from '../errors';
import type { StoredValue } from '../serialization/serializer';
import type { EncodedValue, ValueSerializer } from '../serialization/value-serializer';
import {
  isReleasedTransactionError,
  isTransientError,
  retryOnDisconnect,
  transientBackOffMs,
} from '../storage/reconnect';
import { CheckpointAlreadyStoredError, insertCheckpointIn, type NewCheckpoint } from '../storage/sql/insert-checkpoint';
import { loadCheckpoint } from '../storage/sql/load-checkpoints';
import { recordRetry } from '../storage/sql/record-retry';
import { waitUntilWake } from './durable-waits';
import type { ExecutionCore } from './execution-core';
import { retryDelay } from './retry-policy';
import type { CrashPoint } from './test-hooks';

// How often a transactional step's attempt is run again after its transaction failed on the
// database (a dropped connection, a deadlock, a serialization failure) before that counts as the
// attempt's failure.
const maxTransactionReruns = 10;

// Whatever the body of a transactional step threw, marked so it is told apart from the failures
// of the transaction around it.
class StepBodyError extends Error {
  constructor(readonly error: unknown) {
    super('the body of a transactional step failed');
  }
}

// A transactional step's output that cannot be stored: thrown out of the transaction so it rolls
// back, then recorded as the step's failure.
class UnstorableOutput extends Error {
  constructor(readonly error: unknown) {
    super('the output of a transactional step cannot be stored');
  }
}

// The large-value store failed on a transactional step's output: not the step's failure (it is not
// retried), the run's, like a checkpoint that cannot be written. Marked so that the same error
// thrown by the step's own code (say, reading another run) stays the step's.
class OutputNotKept extends Error {
  constructor(readonly error: LargeValueStoreError) {
    super('the output of a transactional step could not be kept in the large-value store');
  }
}

export async function executeStep<T>(
  run: ExecutionCore,
  name: string,
  body: () => T | Promise<T>,
  args: readonly unknown[] | undefined,
  policy: StepPolicy,
): Promise<Awaited<T>> {
  const { retry } = policy;
  const call = run.nextCall(name);
  const { key, seq, sequential } = call;
  const argsHash = run.hashArguments(args);

  const stored = run.stored(key);
  let attempt = 1;
  if (stored) {
    run.checkSameCall(key, name, argsHash, stored);
    if (stored.status !== 'retrying') return run.replayOutcome<T>(stored);
    // Between attempts when the run stopped: wait out the stored delay, then the next attempt.
    attempt = stored.attempts + 1;
    await waitUntilWake(run, key, 'retry', stored.wakeInMs ?? 0);
  }
  const boundary = run.atStepBoundary();
  if (boundary) await boundary;
  run.throwIfCrashLooping(key);

  for (; ; attempt++) {
    const step: { -readonly [K in keyof StepInfo]: StepInfo[K] } = {
      key,
      attempt,
      idempotencyKey: `${run.id}/${key}`,
      signal: run.signal,
    };
    const started = performance.now();
    const observed = observeAttempt(run, name, key, attempt, started);
    try {
      // Built only for the final outcome: it takes the call's completion number then.
      const row = (outcome: Pick<NewCheckpoint, 'status' | 'output' | 'error'>): NewCheckpoint => ({
        key,
        seq,
        sequential,
        completionSeq: run.completeCall(call),
        name,
        argsHash,
        attempts: attempt,
        durationMs: performance.now() - started,
        // A later attempt follows a recorded retry (record-retry.ts), whose row it replaces.
        replacesOpenRow: attempt > 1,
        ...outcome,
      });
      const checkpoint = (outcome: Pick<NewCheckpoint, 'status' | 'output' | 'error'>): Promise<void> =>
        run.checkpoint(row(outcome));
      if (crashesAt(run, 'before-step', name, step)) await run.crash(key);
      let value: Awaited<T>;
      // Only a step with a timeout gets a signal of its own per attempt: AbortSignal.any() and the
      // race cost about a tenth of a plain step's time (bench W1), so plain steps skip them.
      const attemptAbort = policy.timeoutMs === null ? undefined : new AbortController();
      const attemptBody = observed.around(attemptAbort ? raceAttempt(body, attemptAbort.signal) : body);
      if (attemptAbort) {
        step.signal = AbortSignal.any([run.signal, attemptAbort.signal]);
        boundAttempt(attemptAbort, policy.timeoutMs!, key);
      }
      try {
        if (policy.transaction) {
          // The body's writes and the checkpoint commit together; nothing is left to do after.
          const committed = await executeInTransaction(run, attemptBody, step, name, (output) =>
            row({ status: 'completed', output, error: null }),
          );
          observed.measure('completed');
          observed.end();
          return committed;
        }
        // A body that returns a plain value is not awaited: that would cost two promises per step.
        const returned = contextStorage().run({ run, step }, attemptBody);
        value = isThenable(returned) ? await returned : (returned as Awaited<T>);
        observed.measure('completed');
      } catch (error) {
        // The execution died inside a transactional step (crash point): nothing more happens here.
        if (run.signal.reason instanceof SimulatedCrashError) await run.crash(key);
        run.throwIfStopped();
        if (error instanceof OutputNotKept) run.failFatally(error.error);
        if (error instanceof UnstorableOutput) {
          // As for a plain step: stored as the failure, not retried (the same value fails again).
          await checkpoint({ status: 'failed', output: null, error: run.serializeError(error.error) });
          throw error.error;
        }
        if (error instanceof StepTimeoutError)
          run.log.warn('a step attempt timed out', { step: key, stepAttempt: attempt });
        if (attempt < retry.maxAttempts && retry.retryIf(error)) {
          observed.measure('retried');
          observed.end(error);
          const delayMs = retryDelay(retry, attempt);
          await recordFailedAttempt(run, { key, seq, sequential, name, argsHash, error, attempts: attempt, delayMs });
          await waitUntilWake(run, key, 'retry', delayMs);
          if (run.releaseRequested) await run.releaseHere();
          run.throwIfStopped();
          continue;
        }
        observed.measure('failed');
        observed.end(error);
        const failure = new StepFailedError(run.id, key, attempt, error);
        await checkpoint({ status: 'failed', output: null, error: run.serializeError(failure) });
        throw failure;
      }
      attemptAbort?.abort();
      run.throwIfStopped();
      if (crashesAt(run, 'after-effect', name, step)) await run.crash(key);
      const { serializer } = run.services;
      let encoded: EncodedValue;
      let seen: unknown;
      try {
        ({ encoded, seen } = encodeOutput(serializer, value, run.id, key));
      } catch (error) {
        // Stored as the step's failure, so a replay throws the same error instead of re-running.
        await checkpoint({ status: 'failed', output: null, error: run.serializeError(error) });
        throw error;
      }
      let output: StoredValue;
      try {
        output =
          serializer.storedInPlace(encoded) ?? (await serializer.store(encoded, { runId: run.id, stepKey: key }));
      } catch (error) {
        run.throwIfStopped();
        run.failFatally(error as Error);
      }
      await checkpoint({ status: 'completed', output, error: null });
      observed.end();
      return seen as Awaited<T>;
    } catch (error) {
      // However the attempt ended otherwise (its failure, a stopped execution), its span ends.
      observed.end(error);
      throw error;
    }
  }
}

/** One attempt's duration (the metric) and span (the trace), each recorded once. */
interface ObservedAttempt {
  /** The body, run inside the attempt's span. */
  around<T>(body: () => T | Promise<T>): () => T | Promise<T>;
  /** The body has ended so: observe its duration. */
  measure(outcome: 'completed' | 'retried' | 'failed'): void;
  /** The attempt is over (with its checkpoint): end its span. */
  end(error?: unknown): void;
}

const unobserved: ObservedAttempt = { around: (body) => body, measure: () => undefined, end: () => undefined };

// With metrics and tracing off, every attempt shares the no-op: nothing is allocated or timed.
function observeAttempt(
  run: ExecutionCore,
  name: string,
  key: string,
  attempt: number,
  started: number,
): ObservedAttempt {
  const { metrics } = run.services;
  const trace = run.trace?.recording ? run.trace : undefined;
  if (!metrics && !trace) return unobserved;
  const span = trace?.step({ name, key, attempt });
  let measured = false;
  let ended = false;
  return {
    around: (body) => (span ? () => span.within(body) : body),
    measure: (outcome) => {
      if (measured) return;
      measured = true;
      metrics?.stepAttempt(run.workflow, name, outcome, (performance.now() - started) / 1000);
    },
    end: (error) => {
      if (ended) return;
      ended = true;
      span?.end(error);
    },
  };
}

// Whether a test environment's crash point stops the execution at this step call.
function crashesAt(run: ExecutionCore, point: CrashPoint, name: string, step: StepInfo): boolean {
  const hooks = run.services.testHooks;
  if (!hooks) return false;
  return hooks.crashesAt(point, { runId: run.id, key: step.key, name, attempt: step.attempt, epoch: run.lease.epoch });
}

// The output serialized (SerializationError, ValueTooLargeError) and read back as a replay will
// read it. Reading it back here, before anything is stored, also refuses a value that could be
// stored but not read (a custom serializer's gap) instead of checkpointing a run that cannot replay.
function encodeOutput(
  serializer: ValueSerializer,
  value: unknown,
  runId: string,
  key: string,
): { encoded: EncodedValue; seen: unknown } {
  const what = `the output of step "${key}" of run "${runId}"`;
  const encoded = serializer.encode(value, what);
  try {
    return { encoded, seen: serializer.readBack(encoded) };
  } catch (error) {
    const reason = `cannot be read back once stored (${error instanceof Error ? error.message : String(error)})`;
    throw new SerializationError(what, '$', reason);
  }
}

// Past `timeoutMs` the attempt's signal aborts with StepTimeoutError (see raceAttempt()).
function boundAttempt(attempt: AbortController, timeoutMs: number, key: string): void {
  const timer = setTimeout(() => attempt.abort(new StepTimeoutError(key, timeoutMs)), timeoutMs);
  timer.unref();
  attempt.signal.addEventListener('abort', () => clearTimeout(timer), { once: true });
}

function notKept(error: unknown): never {
  throw error instanceof LargeValueStoreError ? new OutputNotKept(error) : error;
}

// The body, abandoned (its promise left to settle alone) when the attempt's signal aborts first.
function raceAttempt<T>(body: () => T | Promise<T>, attempt: AbortSignal): () => Promise<Awaited<T>> {
  return () =>
    new Promise<Awaited<T>>((resolve, reject) => {
      // Rejections carry whatever the body threw: errors are stored as they are, not wrapped.
      const onAbort = (): void => reject(attempt.reason as Error);
      if (attempt.aborted) return onAbort();
      attempt.addEventListener('abort', onAbort, { once: true });
      Promise.resolve()
        .then(body)
        .then(
          (value) => resolve(value as Awaited<T>),
          (error: unknown) => reject(error as Error),
        )
        .finally(() => attempt.removeEventListener('abort', onAbort));
    });
}

// The body's writes and its checkpoint commit in one transaction. A transaction that fails on
// the connection (or loses a deadlock) is not the step's failure: if the lost reply was COMMIT's,
// the checkpoint is there and its output is returned; otherwise nothing was committed, so the
// attempt runs again without counting against the step's retries.
async function executeInTransaction<T>(
  run: ExecutionCore,
  body: () => T | Promise<T>,
  step: StepInfo,
  name: string,
  completed: (output: StoredValue) => NewCheckpoint,
): Promise<Awaited<T>> {
  const { db, serializer } = run.services;
  for (let rerun = 1; ; rerun++) {
    try {
      const dataSource = db.transactionDataSource();
      return await dataSource.transaction(async (manager) => {
        const transaction: StepTransactionScope = { manager, dataSource, open: true };
        let value: Awaited<T>;
        try {
          value = await contextStorage().run({ run, step, transaction }, async () => await body());
        } catch (error) {
          throw new StepBodyError(error);
        } finally {
          // Whatever the body left running (an abandoned attempt) must not write in, or after, the
          // transaction: the application's repositories refuse it from here on.
          transaction.open = false;
        }
        // An attempt that timed out must not commit: its retry may already be under way.
        if (step.signal.aborted) throw step.signal.reason;
        run.throwIfStopped();
        // A crash point after the effect: the transaction rolls back, as a killed process's does.
        if (crashesAt(run, 'after-effect', name, step)) {
          void run.crash(step.key);
          run.throwIfStopped();
        }
        let encoded: EncodedValue;
        let seen: unknown;
        try {
          ({ encoded, seen } = encodeOutput(serializer, value, run.id, step.key));
        } catch (error) {
          throw new UnstorableOutput(error);
        }
        // A value put in the store by an attempt that rolls back stays there, unreferenced.
        const output = await serializer.store(encoded, { runId: run.id, stepKey: step.key }).catch(notKept);
        await insertCheckpointIn(manager, db, { lease: run.lease, checkpoint: completed(output) });
        return seen as Awaited<T>;
      });
    } catch (thrown) {
      const fromBody = thrown instanceof StepBodyError;
      const error = fromBody ? thrown.error : thrown;
      if (error instanceof LeaseLostError) run.loseLease();
      const stored = error instanceof CheckpointAlreadyStoredError;
      // The body's own errors count only when they are the transaction's database failing (an
      // HTTP client's ECONNREFUSED is the step's failure, handled by its retry policy), including
      // a connection that failed while the transaction sat idle between statements.
      const transient =
        (isTransientError(error) && (!fromBody || error instanceof QueryFailedError)) ||
        isReleasedTransactionError(error);
      if (run.signal.aborted || (!stored && (!transient || rerun > maxTransactionReruns))) throw error;
      const checkpoint = await run.fenced(() => loadCheckpoint(db, run.id, step.key));
      if (checkpoint?.status === 'completed') {
        const what = `the output of step "${step.key}" of run "${run.id}"`;
        return (await serializer.load(checkpoint.output, what).catch(notKept)) as Awaited<T>;
      }
      if (stored) throw error;
      run.log.warn('the transaction of a step failed on the database and was rolled back; running it again', {
        step: step.key,
        stepAttempt: step.attempt,
        code: (error as { code?: unknown }).code,
        rerun,
      });
      await delay(transientBackOffMs(rerun), undefined, { signal: run.signal }).catch(() => undefined);
      run.throwIfStopped();
    }
  }
}

async function recordFailedAttempt(
  run: ExecutionCore,
  attempt: {
    key: string;
    seq: number;
    sequential: boolean;
    name: string;
    argsHash: string | null;
    error: unknown;
    attempts: number;
    delayMs: number;
  },
): Promise<void> {
  const { db } = run.services;
  const row = { ...attempt, error: run.serializeError(attempt.error) };
  await retryOnDisconnect(() => recordRetry(db, run.lease, row), run.signal).catch((error: unknown) => {
    if (error instanceof LeaseLostError) run.loseLease();
    run.throwIfStopped();
    throw error;
  });
  run.log.debug('step attempt failed; retrying', { step: attempt.key, stepAttempt: attempt.attempts });
}

function isThenable<T>(value: T | PromiseLike<T>): value is PromiseLike<T> {
  return typeof (value as { then?: unknown } | null | undefined)?.then === 'function';
}
