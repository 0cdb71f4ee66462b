// Executes one claimed run up to its end: replays run() from the top, returning stored step
// outputs without calling the steps again, executing and checkpointing new steps, and finally
// recording the outcome. Every write is fenced on the lease this worker holds.
import { createHash } from 'node:crypto';
import { setMaxListeners } from 'node:events';
import { performance } from 'node:perf_hooks';
import { setTimeout as delay } from 'node:timers/promises';
import { contextStorage, type RunScope, type StepInfo, type StepPolicy } from '../context/run-context';
import {
  LeaseLostError,
  NonDeterminismError,
  SerializationError,
  DeadlineExceededError,
  RunIdConflictError,
  RunNotFoundError,
  StepFailedError,
  StepTimeoutError,
  WaitTimeoutError,
  WorkflowCancelledError,
  WorkflowFailedError,
} from '../errors';
import type { ZartLogger } from '../logging/zart-logger';
import { retryDelay } from './retry-policy';
import { RunParking, type PendingWait } from './run-parking';
import { defaultStepPolicy } from './step-policy';
import { instantiateInput } from '../registry/prepare-input';
import type { AnyClass } from '../registry/declarations';
import { prepareInput } from '../registry/prepare-input';
import type { RegisteredWorkflow, WorkflowRegistry } from '../registry/workflow-registry';
import type { Serializer, StoredValue } from '../serialization/serializer';
import type { CheckpointWriter } from '../storage/checkpoint-writer';
import { isConnectionError, isTransientError, retryOnDisconnect } from '../storage/reconnect';
import type { ClaimedRun } from '../storage/sql/claim-runs';
import { finishRun, type RunOutcome } from '../storage/sql/finish-run';
import { insertCheckpointIn, type NewCheckpoint, type RunLease } from '../storage/sql/insert-checkpoint';
import { loadCheckpoint, loadCheckpoints, type CheckpointRow } from '../storage/sql/load-checkpoints';
import { consumeEvent } from '../storage/sql/consume-event';
import { recordEventWait } from '../storage/sql/record-event-wait';
import { insertChildRun } from '../storage/sql/insert-child-run';
import { readRunOutcome } from '../storage/sql/read-run-outcome';
import { recordRetry } from '../storage/sql/record-retry';
import { recordSleep } from '../storage/sql/record-sleep';
import { releaseRuns } from '../storage/sql/release-runs';
import { retryRun } from '../storage/sql/reset-run';
import { suspendRun } from '../storage/sql/suspend-run';
import { wakeIfWaitOver } from '../storage/sql/wake-if-wait-over';
import type { ZartDatabase } from '../storage/zart-database';
import type { WakeUpPublisher } from '../wake-ups/wake-up-publisher';

// How often a parent parked on a child looks at it again without being woken.
const childRecheckMs = 5_000;

// A transactional step's output that cannot be stored: thrown out of the transaction so it rolls
// back, then recorded as the step's failure.
class UnstorableOutput extends Error {
  constructor(readonly error: unknown) {
    super('the output of a transactional step cannot be stored');
  }
}

/** @internal What an execution needs from the process around it. */
export interface ExecutionServices {
  db: ZartDatabase;
  serializer: Serializer;
  logger: ZartLogger;
  owner: string;
  resolve: (target: RegisteredWorkflow['target']) => object;
  checkpoints: CheckpointWriter;
  wakeUps: WakeUpPublisher;
  /** Waits up to this long are held in-process; longer ones park the run (status waiting). */
  maxInProcessWaitMs: number;
  /** A run was parked until `wakeInMs` from now: the worker sets a timer to claim it then. */
  onSuspended: (wakeInMs: number) => void;
  /** The workflows children may be started from. */
  registry: WorkflowRegistry;
}

/** @internal How an execution ended on this worker. */
export type ExecutionEnd = 'completed' | 'failed' | 'released' | 'cancelled' | 'lease-lost';

/** @internal */
export class RunExecution implements RunScope {
  readonly id: string;
  readonly workflow: string;
  readonly attempt: number;
  readonly parentId: string | null;
  readonly epoch: number;
  private readonly abort = new AbortController();
  private readonly callsPerName = new Map<string, number>();
  private nextSeq = 0;
  private checkpoints = new Map<string, CheckpointRow>();
  /** Set when the run must fail whatever run() does next (non-determinism, a storage error). */
  private fatal: Error | undefined;
  private releaseRequested = false;
  /** Parks the run once every durable call in flight is a wait (see run-parking.ts). */
  private readonly parking = new RunParking((waits) => void this.parkOn(waits));
  /** Aborted by requestRelease(), so an in-process wait ends early at shutdown. */
  private readonly releaseSignal = new AbortController();
  private handedBack = false;
  /** The outcome this execution recorded, if it finished the run: result() waiters here use it. */
  recordedOutcome: RunOutcome | undefined;

  constructor(
    private readonly services: ExecutionServices,
    private readonly claim: ClaimedRun,
    private readonly definition: RegisteredWorkflow,
  ) {
    this.id = claim.id;
    this.workflow = claim.workflow;
    this.attempt = claim.attempt;
    this.parentId = claim.parentId;
    this.epoch = claim.leaseEpoch;
    // A fan-in over many children or steps waits on this signal once per concurrent call.
    setMaxListeners(0, this.abort.signal, this.releaseSignal.signal);
  }

  get signal(): AbortSignal {
    return this.abort.signal;
  }

  get lease(): RunLease {
    return { runId: this.id, owner: this.services.owner, epoch: this.epoch };
  }

  /** Called by the worker when lease renewal finds the run owned by someone else. */
  loseLease(): void {
    if (!this.abort.signal.aborted) this.abort.abort(new LeaseLostError(this.id));
  }

  /**
   * Graceful shutdown: the run hands itself back at its next step boundary, after the step in
   * flight (if any) has finished and been checkpointed, so no step runs twice.
   */
  requestRelease(): void {
    this.releaseRequested = true;
    this.releaseSignal.abort();
  }

  /** The run was cancelled (cancel()): abort in-flight work now; the run is already marked. */
  cancel(): void {
    if (!this.abort.signal.aborted) this.abort.abort(new WorkflowCancelledError(this.id));
  }

  /** Past the drain time: stop now; the worker hands the run back. */
  abandon(): void {
    this.handedBack = true;
    this.loseLease();
  }

  // A call's key (`name#n`, n counting that name's calls) and sequence number, taken synchronously
  // before any await, so concurrent calls (Promise.all) get the same keys on every replay.
  private nextCall(name: string): { key: string; seq: number } {
    const n = this.callsPerName.get(name) ?? 0;
    this.callsPerName.set(name, n + 1);
    return { key: `${name}#${n}`, seq: this.nextSeq++ };
  }

  /** Replays the run to its end and records the outcome. */
  async execute(): Promise<ExecutionEnd> {
    const { serializer, logger, db } = this.services;
    // The deadline (set once at the start, database clock) aborts the run wherever it is.
    const deadlineInMs = this.claim.deadlineInMs;
    const deadlineTimer =
      deadlineInMs === null
        ? undefined
        : setTimeout(() => this.abort.abort(new DeadlineExceededError(this.id)), Math.max(0, deadlineInMs));
    let outcome: RunOutcome;
    try {
      if (deadlineInMs !== null && deadlineInMs <= 0) throw new DeadlineExceededError(this.id);
      this.checkpoints = await retryOnDisconnect(() => loadCheckpoints(db, this.id), this.abort.signal);
      const input = instantiateInput(this.definition, serializer.deserialize(this.claim.input));
      const instance = this.services.resolve(this.definition.target) as { run(input: unknown): unknown };
      // No parking once run() has settled: a wait that lost a Promise.race may still be pending.
      const output = await Promise.resolve(contextStorage().run({ run: this }, () => instance.run(input))).finally(() =>
        this.parking.close(),
      );
      if (this.abort.signal.aborted) throw this.abort.signal.reason;
      if (this.fatal) throw this.fatal;
      outcome = { status: 'completed', output: serializer.serialize(output, `the output of run "${this.id}"`) };
    } catch (error) {
      const reason: unknown = this.abort.signal.aborted ? this.abort.signal.reason : undefined;
      if (reason !== undefined && !(reason instanceof DeadlineExceededError)) return this.stopped();
      const failure = reason ?? error;
      const retry = this.definition.retry;
      if (!reason && !this.fatal && this.attempt < retry.maxAttempts && retry.retryIf(error))
        return this.retryRun(error);
      outcome = { status: 'failed', error: this.serializeError(this.fatal ?? failure) };
    } finally {
      clearTimeout(deadlineTimer);
    }
    // Not this.abort.signal: a run aborted by its deadline still records the failure.
    const written = await retryOnDisconnect(() => finishRun(db, this.lease, outcome), new AbortController().signal);
    if (!written) return this.stopped();
    this.recordedOutcome = outcome;
    logger.debug(`run ${outcome.status}`, { runId: this.id, workflow: this.workflow });
    return outcome.status;
  }

  // Every durable call counts as in flight while it runs, so the run parks only when all of them wait.
  private async tracked<T>(call: () => Promise<T>): Promise<T> {
    this.parking.enter();
    try {
      return await call();
    } finally {
      this.parking.leave();
    }
  }

  callStep<T>(
    name: string,
    body: () => T | Promise<T>,
    args?: readonly unknown[],
    policy: StepPolicy = defaultStepPolicy,
  ): Promise<Awaited<T>> {
    return this.tracked(() => this.executeStep(name, body, args, policy));
  }

  sleep(durationMs: number): Promise<void> {
    return this.tracked(() => this.sleepDurably(durationMs));
  }

  waitForEvent(event: string, timeoutMs: number | null): Promise<unknown> {
    return this.tracked(() => this.takeEvent(event, timeoutMs));
  }

  startChild(workflow: AnyClass | string, input: unknown, id: string | undefined): Promise<string> {
    return this.tracked(() => this.startChildOnce(workflow, input, id));
  }

  awaitChild(childId: string): Promise<unknown> {
    return this.tracked(() => this.takeChildOutcome(childId));
  }

  private async executeStep<T>(
    name: string,
    body: () => T | Promise<T>,
    args: readonly unknown[] | undefined,
    policy: StepPolicy,
  ): Promise<Awaited<T>> {
    const { retry } = policy;
    const { key, seq } = this.nextCall(name);
    const argsHash = this.hashArguments(args);

    const stored = this.checkpoints.get(key);
    let attempt = 1;
    if (stored) {
      this.checkSameCall(key, name, argsHash, stored);
      if (stored.status !== 'retrying') return this.replayOutcome<T>(stored);
      // Between attempts when the run stopped: wait out the stored delay, then the next attempt.
      attempt = stored.attempts + 1;
      await this.waitUntilWake(key, 'retry', stored.wakeInMs ?? 0);
    }
    if (this.fatal) throw this.fatal;
    if (this.releaseRequested) await this.releaseHere();
    this.throwIfStopped();

    for (; ; attempt++) {
      const step: { -readonly [K in keyof StepInfo]: StepInfo[K] } = {
        key,
        attempt,
        idempotencyKey: `${this.id}/${key}`,
        signal: this.abort.signal,
      };
      const started = performance.now();
      const checkpoint = (outcome: Pick<NewCheckpoint, 'status' | 'output' | 'error'>): Promise<void> =>
        this.checkpoint({
          key,
          seq,
          name,
          argsHash,
          attempts: attempt,
          durationMs: performance.now() - started,
          ...outcome,
        });
      let value: Awaited<T>;
      // Only a step with a timeout gets a signal of its own per attempt: AbortSignal.any() and the
      // race cost about a tenth of a plain step's time (bench W1), so plain steps skip them.
      const attemptAbort = policy.timeoutMs === null ? undefined : new AbortController();
      const attemptBody = attemptAbort ? this.race(body, attemptAbort.signal) : body;
      if (attemptAbort) {
        step.signal = AbortSignal.any([this.abort.signal, attemptAbort.signal]);
        this.bound(attemptAbort, policy.timeoutMs!, key);
      }
      try {
        if (policy.transaction) {
          // The body's writes and the checkpoint commit together; nothing is left to do after.
          return await this.executeInTransaction(attemptBody, step, (output) => ({
            key,
            seq,
            name,
            argsHash,
            attempts: attempt,
            durationMs: performance.now() - started,
            status: 'completed',
            output,
            error: null,
          }));
        }
        value = await contextStorage().run({ run: this, step }, async () => await attemptBody());
      } catch (error) {
        this.throwIfStopped();
        if (error instanceof UnstorableOutput) {
          // As for a plain step: stored as the failure, not retried (the same value fails again).
          await checkpoint({ status: 'failed', output: null, error: this.serializeError(error.error) });
          throw error.error;
        }
        if (error instanceof StepTimeoutError)
          this.services.logger.warn('a step attempt timed out', { runId: this.id, stepKey: key });
        if (attempt < retry.maxAttempts && retry.retryIf(error)) {
          const delayMs = retryDelay(retry, attempt);
          await this.recordFailedAttempt({ key, seq, name, argsHash, error, attempts: attempt, delayMs });
          await this.waitUntilWake(key, 'retry', delayMs);
          if (this.releaseRequested) await this.releaseHere();
          this.throwIfStopped();
          continue;
        }
        const failure = new StepFailedError(this.id, key, attempt, error);
        await checkpoint({ status: 'failed', output: null, error: this.serializeError(failure) });
        throw failure;
      }
      attemptAbort?.abort();
      this.throwIfStopped();
      let output: StoredValue;
      try {
        output = this.services.serializer.serialize(value, `the output of step "${key}" of run "${this.id}"`);
      } catch (error) {
        // Stored as the step's failure, so a replay throws the same error instead of re-running.
        await checkpoint({ status: 'failed', output: null, error: this.serializeError(error) });
        throw error;
      }
      await checkpoint({ status: 'completed', output, error: null });
      return value;
    }
  }

  // Past `timeoutMs` the attempt's signal aborts with StepTimeoutError (see race()).
  private bound(attempt: AbortController, timeoutMs: number, key: string): void {
    const timer = setTimeout(() => attempt.abort(new StepTimeoutError(key, timeoutMs)), timeoutMs);
    timer.unref();
    attempt.signal.addEventListener('abort', () => clearTimeout(timer), { once: true });
  }

  // The body, abandoned (its promise left to settle alone) when the attempt's signal aborts first.
  private race<T>(body: () => T | Promise<T>, attempt: AbortSignal): () => Promise<Awaited<T>> {
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
  private async executeInTransaction<T>(
    body: () => T | Promise<T>,
    step: StepInfo,
    completed: (output: StoredValue) => NewCheckpoint,
  ): Promise<Awaited<T>> {
    const { db, serializer, logger } = this.services;
    for (;;) {
      try {
        return await db.transactionDataSource().transaction(async (manager) => {
          const value = await contextStorage().run({ run: this, step, transaction: manager }, async () => await body());
          // An attempt that timed out must not commit: its retry may already be under way.
          if (step.signal.aborted) throw step.signal.reason;
          this.throwIfStopped();
          let output: StoredValue;
          try {
            output = serializer.serialize(value, `the output of step "${step.key}" of run "${this.id}"`);
          } catch (error) {
            throw new UnstorableOutput(error);
          }
          await insertCheckpointIn(manager, db, { lease: this.lease, checkpoint: completed(output) });
          return value;
        });
      } catch (error) {
        if (error instanceof LeaseLostError) this.loseLease();
        if (!isTransientError(error) || this.abort.signal.aborted) throw error;
        const stored = await this.fenced(() => loadCheckpoint(db, this.id, step.key));
        if (stored?.status === 'completed') return serializer.deserialize(stored.output) as Awaited<T>;
        logger.warn('the transaction of a step failed on the connection and was rolled back; running it again', {
          runId: this.id,
          stepKey: step.key,
          code: (error as { code?: unknown }).code,
        });
      }
    }
  }

  private async recordFailedAttempt(attempt: {
    key: string;
    seq: number;
    name: string;
    argsHash: string | null;
    error: unknown;
    attempts: number;
    delayMs: number;
  }): Promise<void> {
    const { db, logger } = this.services;
    const row = { ...attempt, error: this.serializeError(attempt.error) };
    await retryOnDisconnect(() => recordRetry(db, this.lease, row), this.abort.signal).catch((error: unknown) => {
      if (error instanceof LeaseLostError) this.loseLease();
      this.throwIfStopped();
      throw error;
    });
    logger.debug('step attempt failed; retrying', { runId: this.id, stepKey: attempt.key, attempt: attempt.attempts });
  }

  // Workflow-level retry: the run goes round again later, its completed checkpoints kept.
  private async retryRun(error: unknown): Promise<ExecutionEnd> {
    const { db, logger, onSuspended } = this.services;
    const delayMs = retryDelay(this.definition.retry, this.attempt);
    const stored = this.serializeError(error);
    const done = await retryOnDisconnect(() => retryRun(db, this.lease, { error: stored, delayMs }), this.abort.signal);
    if (!done) return this.stopped();
    logger.info('run failed; retrying it from its checkpoints', { runId: this.id, attempt: this.attempt, delayMs });
    onSuspended(delayMs);
    return 'released';
  }

  /**
   * A durable sleep: the wake time is stored once (database clock). Short sleeps are waited here,
   * holding the lease; longer ones, or any at shutdown, park the run until the wake time.
   */
  private async sleepDurably(durationMs: number): Promise<void> {
    const name = 'zart.sleep';
    const { key, seq } = this.nextCall(name);

    let wakeInMs: number;
    const stored = this.checkpoints.get(key);
    if (stored) {
      if (stored.name !== name || stored.status !== 'sleeping') {
        const error = new NonDeterminismError(this.id, key, `a call of step "${stored.name}"`, 'a durable sleep');
        this.fatal ??= error;
        throw error;
      }
      wakeInMs = stored.wakeInMs ?? 0;
    } else {
      if (this.fatal) throw this.fatal;
      this.throwIfStopped();
      const { db } = this.services;
      const sleep = { key, seq, name, durationMs };
      await retryOnDisconnect(() => recordSleep(db, this.lease, sleep), this.abort.signal).catch((error: unknown) => {
        if (error instanceof LeaseLostError) this.loseLease();
        this.throwIfStopped();
        throw error;
      });
      wakeInMs = durationMs;
    }
    await this.waitUntilWake(key, 'sleep', wakeInMs);
  }

  /**
   * Waits for the next event `event` sent to this run: consumes one that is already buffered,
   * else records the wait (its deadline stored once) and parks the run until an event wakes it.
   */
  private async takeEvent(event: string, timeoutMs: number | null): Promise<unknown> {
    const name = `zart.event:${event}`;
    const { key, seq } = this.nextCall(name);

    const stored = this.checkpoints.get(key);
    if (stored) {
      this.checkSameCall(key, name, null, stored);
      if (stored.status !== 'waiting') return this.replayOutcome(stored);
    }
    if (this.fatal) throw this.fatal;
    if (this.releaseRequested) await this.releaseHere();
    this.throwIfStopped();
    const { db, serializer } = this.services;
    const wait = { key, event, seq, name };
    const consumed = await this.fenced(() => consumeEvent(db, this.lease, wait));
    if (consumed) return serializer.deserialize(consumed.payload);
    if (!stored) {
      await this.fenced(() => recordEventWait(db, this.lease, { key, seq, name, timeoutMs }));
    } else if (stored.wakeInMs !== null && stored.wakeInMs <= 0) {
      const timeout = new WaitTimeoutError(`event "${event}" for run "${this.id}"`, timeoutMs ?? 0);
      await this.checkpoint({
        key,
        seq,
        name,
        argsHash: null,
        status: 'failed',
        output: null,
        error: this.serializeError(timeout),
        attempts: 1,
        durationMs: 0,
      });
      throw timeout;
    }
    const wakeInMs = stored?.wakeInMs ?? timeoutMs ?? Infinity;
    return this.park({ key, waitingFor: `event:${event}`, event, wakeInMs, inProcess: false });
  }

  /** Starts a child run exactly once: the child row and the checkpoint of its id commit together. */
  private async startChildOnce(workflow: AnyClass | string, input: unknown, id: string | undefined): Promise<string> {
    const { db, serializer, registry, wakeUps } = this.services;
    const definition = registry.get(workflow);
    const name = 'zart.child';
    const { key, seq } = this.nextCall(name);
    const argsHash = this.hashArguments([definition.name, input, id ?? null]);
    const stored = this.checkpoints.get(key);
    if (stored) {
      this.checkSameCall(key, name, argsHash, stored);
      return this.replayOutcome<string>(stored);
    }
    if (this.fatal) throw this.fatal;
    if (this.releaseRequested) await this.releaseHere();
    this.throwIfStopped();
    const prepared = await prepareInput(definition, input);
    const childId = id ?? `${this.id}/${key}`;
    const child = {
      id: childId,
      workflow: definition.name,
      version: definition.version,
      queue: definition.queue,
      input: serializer.serialize(prepared, `the input of child workflow "${definition.name}"`),
      timeoutMs: definition.timeoutMs,
    };
    const output = serializer.serialize(childId, 'a child id');
    const start = await this.fenced(() => insertChildRun(db, this.lease, { key, seq, name, argsHash, output }, child));
    const record = (outcome: Pick<NewCheckpoint, 'status' | 'output' | 'error'>): Promise<void> =>
      this.checkpoint({ key, seq, name, argsHash, attempts: 1, durationMs: 0, ...outcome });
    if (!start.started) {
      const conflict = new RunIdConflictError(
        childId,
        start.existingWorkflow,
        definition.name,
        `startChild(${definition.name}, { id: "${childId}" }): that id already belongs to ${
          start.existingParent === null ? 'a top-level run' : `a child of run "${start.existingParent}"`
        } of workflow "${start.existingWorkflow}"; a child id must be new (it starts exactly one run).`,
      );
      // Stored, so a replay throws the same error whatever has become of that other run.
      await record({ status: 'failed', output: null, error: this.serializeError(conflict) });
      throw conflict;
    }
    void wakeUps.publish();
    return childId;
  }

  /** A durable wait for a child's outcome, checkpointed once the child has finished. */
  private async takeChildOutcome(childId: string): Promise<unknown> {
    const { db, serializer } = this.services;
    const name = `zart.child-result:${childId}`;
    const { key, seq } = this.nextCall(name);
    const stored = this.checkpoints.get(key);
    if (stored) {
      this.checkSameCall(key, name, null, stored);
      return this.replayOutcome(stored);
    }
    if (this.fatal) throw this.fatal;
    if (this.releaseRequested) await this.releaseHere();
    this.throwIfStopped();
    const row = await this.fenced(() => readRunOutcome(db, childId));
    if (!row) throw new RunNotFoundError(childId);
    const record = (outcome: Pick<NewCheckpoint, 'status' | 'output' | 'error'>): Promise<void> =>
      this.checkpoint({ key, seq, name, argsHash: null, attempts: 1, durationMs: 0, ...outcome });
    if (row.status === 'completed') {
      await record({ status: 'completed', output: row.output, error: null });
      return serializer.deserialize(row.output);
    }
    if (row.status === 'failed' || row.status === 'cancelled') {
      const failure =
        row.status === 'cancelled'
          ? new WorkflowCancelledError(childId)
          : new WorkflowFailedError(childId, serializer.deserialize(row.error));
      await record({ status: 'failed', output: null, error: this.serializeError(failure) });
      throw failure;
    }
    // A child's finish wakes the parent; the parent also looks again every 5 s, so no lost wake-up
    // can leave it waiting forever.
    const recheck = { wakeInMs: childRecheckMs, recheckMs: childRecheckMs };
    return this.park({ key, waitingFor: `child:${childId}`, childId, ...recheck, inProcess: false });
  }

  // A fenced write that may outlive a dropped connection; a lost lease stops the execution.
  private async fenced<T>(write: () => Promise<T>): Promise<T> {
    return retryOnDisconnect(write, this.abort.signal).catch((error: unknown) => {
      if (error instanceof LeaseLostError) this.loseLease();
      this.throwIfStopped();
      throw error;
    });
  }

  /** Waits until a stored wake time: in-process when short, else parks the run (and stops here). */
  private async waitUntilWake(key: string, waitingFor: string, wakeInMs: number): Promise<void> {
    if (wakeInMs <= 0) return;
    if (wakeInMs <= this.services.maxInProcessWaitMs && !this.releaseRequested) {
      // Held here, but a wait racing it that must park the run parks it with this wake time too.
      const wait = { key, waitingFor, wakeInMs, inProcess: true };
      this.parking.block(wait);
      try {
        const interrupted = AbortSignal.any([this.abort.signal, this.releaseSignal.signal]);
        await delay(wakeInMs, undefined, { signal: interrupted }).catch(() => undefined);
      } finally {
        this.parking.unblock(wait);
      }
      this.throwIfStopped();
      if (!this.releaseRequested) return;
    }
    await this.park({ key, waitingFor, wakeInMs, inProcess: false });
  }

  // Blocks this call until the run parks (with every other wait in flight) and stops here, or
  // until the run is stopped otherwise (cancelled, past its deadline, lease lost).
  private async park(wait: PendingWait): Promise<never> {
    this.parking.block(wait);
    try {
      await new Promise<void>((resolve) => {
        if (this.abort.signal.aborted) resolve();
        else this.abort.signal.addEventListener('abort', () => resolve(), { once: true });
      });
    } finally {
      this.parking.unblock(wait);
    }
    throw this.abort.signal.reason as Error;
  }

  // Parks the run on all its waits: claimable again at the earliest wake time, or when one of its
  // events arrives or children finishes; then stops this execution.
  private async parkOn(waits: PendingWait[]): Promise<void> {
    const { db, onSuspended, logger } = this.services;
    const rechecks = waits.flatMap((wait) => (wait.recheckMs === undefined ? [] : [wait.recheckMs]));
    const suspension = {
      keys: waits.map((wait) => wait.key),
      waitingFor: [...new Set(waits.map((wait) => wait.waitingFor))],
      recheckMs: rechecks.length > 0 ? Math.min(...rechecks) : null,
    };
    const over = {
      events: waits.flatMap((wait) => (wait.event === undefined ? [] : [wait.event])),
      children: waits.flatMap((wait) => (wait.childId === undefined ? [] : [wait.childId])),
    };
    try {
      const parked = await retryOnDisconnect(() => suspendRun(db, this.lease, suspension), this.abort.signal);
      if (!parked) return this.loseLease();
      const wokenAtOnce = await retryOnDisconnect(() => wakeIfWaitOver(db, this.id, over), this.abort.signal);
      onSuspended(wokenAtOnce ? 0 : Math.min(...waits.map((wait) => wait.wakeInMs)));
      this.handedBack = true;
      this.abort.abort(new LeaseLostError(this.id));
    } catch (error) {
      if (this.abort.signal.aborted) return;
      // The run stays leased to this worker until the lease expires; another claim replays it.
      logger.error('could not park a waiting run; it is retried when its lease expires', {
        runId: this.id,
        error: (error as Error).message,
      });
      this.abort.abort(error);
    }
  }

  // A replayed call must be the call the history recorded: same step, same arguments.
  private checkSameCall(key: string, name: string, argsHash: string | null, stored: CheckpointRow): void {
    let mismatch: string | undefined;
    if (stored.name !== name) mismatch = `a call of step "${stored.name}"`;
    else if (stored.argsHash !== null && argsHash !== null && stored.argsHash !== argsHash) {
      mismatch = `a call of step "${name}" with other arguments (hash ${stored.argsHash.slice(0, 12)})`;
    }
    if (!mismatch) return;
    const actual = argsHash
      ? `a call of step "${name}" (arguments hash ${argsHash.slice(0, 12)})`
      : `a call of step "${name}"`;
    const error = new NonDeterminismError(this.id, key, mismatch, actual);
    this.fatal ??= error;
    throw error;
  }

  private replayOutcome<T>(stored: CheckpointRow): Awaited<T> {
    if (stored.status === 'failed') throw this.services.serializer.deserialize(stored.error);
    return this.services.serializer.deserialize(stored.output) as Awaited<T>;
  }

  private async checkpoint(checkpoint: NewCheckpoint): Promise<void> {
    try {
      await this.services.checkpoints.write({ lease: this.lease, checkpoint }, this.abort.signal);
    } catch (error) {
      if (error instanceof LeaseLostError) this.loseLease();
      this.throwIfStopped();
      // Not the step's failure: the checkpoint could not be stored. The run fails with this
      // error whatever the workflow does with it, so it cannot continue on a missing checkpoint.
      this.fatal ??= error as Error;
      throw error;
    }
  }

  // Hands the run back (fenced), wakes other workers, and stops this execution.
  private async releaseHere(): Promise<void> {
    const { db, owner, wakeUps } = this.services;
    await retryOnDisconnect(
      () => releaseRuns(db, owner, [{ id: this.id, epoch: this.epoch }]),
      this.abort.signal,
    ).catch((error: unknown) => {
      if (!isConnectionError(error) && !this.abort.signal.aborted) throw error;
    });
    void wakeUps.publish();
    this.handedBack = true;
    this.loseLease();
  }

  private stopped(): ExecutionEnd {
    if (this.abort.signal.reason instanceof WorkflowCancelledError) {
      this.services.logger.debug('stopped a cancelled run', { runId: this.id });
      return 'cancelled';
    }
    if (this.handedBack) {
      this.services.logger.debug('handed the run back (shutdown or a long wait)', { runId: this.id });
      return 'released';
    }
    this.services.logger.warn('lost the lease of a run; stopped executing it here, another worker resumes it', {
      runId: this.id,
    });
    return 'lease-lost';
  }

  private throwIfStopped(): void {
    if (this.abort.signal.aborted) throw this.abort.signal.reason as Error;
  }

  // A hash of a decorated step's arguments, stored with its checkpoint, so a replay that calls
  // the key with other arguments is caught. Arguments that cannot be serialized are not hashed.
  private hashArguments(args: readonly unknown[] | undefined): string | null {
    if (args === undefined || args.length === 0) return null;
    try {
      const stored = this.services.serializer.serialize(args, 'step arguments');
      return createHash('sha256').update(JSON.stringify(stored)).digest('hex');
    } catch {
      return null;
    }
  }

  // An error that cannot itself be stored (say, a field holding a function) is kept as its class,
  // name, message and stack, so the failure is still recorded and replayable.
  private serializeError(error: unknown): StoredValue {
    const { serializer } = this.services;
    try {
      return serializer.serialize(error, `the error of run "${this.id}"`);
    } catch (problem) {
      if (!(problem instanceof SerializationError)) throw problem;
      const plain = error instanceof Error ? error : new Error(String(error));
      const copy = Object.create(Object.getPrototypeOf(plain) as object) as Error;
      Object.defineProperty(copy, 'message', { value: plain.message, writable: true, configurable: true });
      Object.defineProperty(copy, 'stack', { value: plain.stack, writable: true, configurable: true });
      return serializer.serialize(copy, `the error of run "${this.id}"`);
    }
  }
}
