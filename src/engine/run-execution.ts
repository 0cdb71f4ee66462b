// Executes one claimed run up to its end: replays run() from the top, returning stored step
// outputs without calling the steps again, executing and checkpointing new steps and waits
// (step-call.ts, durable-waits.ts), and finally recording the outcome. Every write is fenced on
// the lease this worker holds.
import { setMaxListeners } from 'node:events';
import { contextStorage, type RunScope, type StartedChildBatch, type StepPolicy } from '../context/run-context';
import { hashArguments } from './argument-hash';
import { CallSequence, patchMarkerPrefix, type CallPosition } from './call-sequence';
import { CompletionOrder } from './completion-order';
import {
  CrashLoopError,
  LeaseLostError,
  NonDeterminismError,
  SerializationError,
  DeadlineExceededError,
  SimulatedCrashError,
  WorkflowCancelledError,
} from '../errors';
import { withLogFields, type ZartLogger } from '../logging/zart-logger';
import type { ExecutionTrace } from '../observability/run-tracing';
import type { AnyClass } from '../registry/declarations';
import { instantiateInput } from '../registry/prepare-input';
import type { RegisteredWorkflow } from '../registry/workflow-registry';
import type { StoredValue } from '../serialization/serializer';
import { isConnectionError, retryOnDisconnect } from '../storage/reconnect';
import type { ClaimedRun } from '../storage/sql/claim-runs';
import type { RunOutcome } from '../storage/sql/finish-runs';
import type { NewCheckpoint, RunLease } from '../storage/sql/insert-checkpoint';
import { loadCheckpoints, type CheckpointRow } from '../storage/sql/load-checkpoints';
import { releaseRuns } from '../storage/sql/release-runs';
import { retryRun } from '../storage/sql/reset-run';
import { startChildBatch, takeBatchOutcomes } from './child-batches';
import { parkOn, sleepDurably, startChildOnce, takeChildOutcome, takeEvent } from './durable-waits';
import type { ExecutionCore, ExecutionServices } from './execution-core';
import { retryDelay } from './retry-policy';
import { RunParking } from './run-parking';
import { executeStep } from './step-call';
import { resolveWorkflowInstance } from './workflow-instance';
import { defaultStepPolicy } from './step-policy';

/** @internal How an execution ended on this worker. */
export type ExecutionEnd = 'completed' | 'failed' | 'released' | 'cancelled' | 'lease-lost' | 'crashed';

// setTimeout fires at once past 2^31 - 1 ms (24.8 days): a later deadline is not timed here, the
// next claim of the run (after a park or a takeover) enforces it.
const maxTimerMs = 2 ** 31 - 1;

/** @internal */
export class RunExecution implements RunScope, ExecutionCore {
  readonly id: string;
  readonly workflow: string;
  readonly attempt: number;
  readonly parentId: string | null;
  readonly epoch: number;
  readonly scheduledAt: Date | null;
  /** now() calls so far in this execution, counted in call order (replayed ones too). */
  private nowCalls = 0;
  private readonly abort = new AbortController();
  private sequence: CallSequence;
  /** Delivers the outcomes of concurrent calls in the order the history recorded (completion-order.ts). */
  private completion: CompletionOrder;
  /** The call the durable function being entered made (set synchronously by nextCall()). */
  private made: CallPosition | undefined;
  /** What each patched(id) decided in this execution: one answer per run and id. */
  private readonly patches = new Map<string, boolean>();
  /** Durable calls of the run in flight: a call made beside another one is concurrent. */
  private inFlight = 0;
  private checkpoints = new Map<string, CheckpointRow>();
  /** Set when the run must fail whatever run() does next (non-determinism, a storage error). */
  private fatal: Error | undefined;
  private releaseAsked = false;
  /** Parks the run once every durable call in flight is a wait (see run-parking.ts). */
  readonly parking = new RunParking((waits) => void parkOn(this, waits));
  /** Aborted by requestRelease(), so an in-process wait ends early at shutdown; made when first asked for. */
  private releaseController: AbortController | undefined;
  private handedBack = false;
  /** The outcome this execution recorded, if it finished the run: result() waiters here use it. */
  recordedOutcome: RunOutcome | undefined;
  readonly log: ZartLogger;
  readonly trace: ExecutionTrace | undefined;
  /** The error that failed the run (the live error, not its stored form), for its span. */
  private failure: unknown;

  constructor(
    readonly services: ExecutionServices,
    private readonly claim: ClaimedRun,
    private readonly definition: RegisteredWorkflow,
  ) {
    this.id = claim.id;
    this.workflow = claim.workflow;
    this.attempt = claim.attempt;
    this.parentId = claim.parentId;
    this.epoch = claim.leaseEpoch;
    this.log = withLogFields(services.logger, { runId: this.id, workflow: this.workflow, attempt: this.attempt });
    this.trace = services.tracing?.execution({
      id: this.id,
      workflow: this.workflow,
      attempt: this.attempt,
      epoch: this.epoch,
      takeover: claim.recoveries > 0,
      traceContext: claim.traceContext,
    });
    this.sequence = new CallSequence(this.id, []);
    this.completion = this.completionOrder([]);
    this.scheduledAt = claim.scheduledAt;
    // A fan-in over many children or steps waits on this signal once per concurrent call.
    setMaxListeners(0, this.abort.signal);
  }

  private completionOrder(history: Iterable<CheckpointRow>): CompletionOrder {
    return new CompletionOrder(history, (next) => {
      this.sequence.relax();
      this.log.warn(
        'the replay could not keep the order in which the calls of the run completed: the history has ' +
          `"${next.key}" (call ${next.seq}) completing next, and the code has not made it after the ` +
          'previous ones were delivered (does run() await something other than durable calls?); later ' +
          'calls are matched by key',
        { step: next.key },
      );
    });
  }

  get signal(): AbortSignal {
    return this.abort.signal;
  }

  get releaseSignal(): AbortSignal {
    if (!this.releaseController) {
      this.releaseController = new AbortController();
      setMaxListeners(0, this.releaseController.signal);
      if (this.releaseAsked) this.releaseController.abort();
    }
    return this.releaseController.signal;
  }

  get releaseRequested(): boolean {
    return this.releaseAsked;
  }

  get lease(): RunLease {
    return { runId: this.id, owner: this.services.owner, epoch: this.epoch };
  }

  /**
   * Called by the worker when lease renewal did not renew this execution's lease. A run being
   * parked is left to its park: the renewal may have come while the park committed (the run is
   * then waiting, no longer running here), and the park's fenced statement tells a lost lease
   * apart from that.
   */
  leaseNotRenewed(): void {
    if (!this.parking.parked) this.loseLease();
  }

  /** The lease is gone (another claim, a cancel, a fenced write refused): stop this execution. */
  loseLease(): void {
    this.stopWith(new LeaseLostError(this.id));
  }

  /**
   * Graceful shutdown: the run hands itself back at its next step boundary, after the step in
   * flight (if any) has finished and been checkpointed, so no step runs twice.
   */
  requestRelease(): void {
    this.releaseAsked = true;
    this.releaseController?.abort();
  }

  /** The run was cancelled (cancel()): abort in-flight work now; the run is already marked. */
  cancel(): void {
    this.stopWith(new WorkflowCancelledError(this.id));
  }

  /** Past the drain time: stop now; the worker hands the run back. */
  abandon(): void {
    this.handedBack = true;
    this.loseLease();
  }

  // A call's key (`name#n`, n counting that name's calls) and position, taken synchronously before
  // any await, so concurrent calls (Promise.all) get the same keys on every replay; a position the
  // history has another call at fails the run (call-sequence.ts).
  nextCall(name: string): CallPosition {
    try {
      this.made = this.sequence.next(name, this.inFlight);
      return this.made;
    } catch (error) {
      this.fatal ??= error as Error;
      throw error;
    }
  }

  /** Replays the run to its end and records the outcome (and ends this execution's span). */
  async execute(): Promise<ExecutionEnd> {
    const trace = this.trace;
    if (!trace) return this.executeToEnd();
    try {
      const end = await this.executeToEnd();
      trace.end(end, end === 'failed' ? this.failure : undefined);
      return end;
    } catch (error) {
      trace.end('error', error);
      throw error;
    }
  }

  private async executeToEnd(): Promise<ExecutionEnd> {
    const { serializer, db } = this.services;
    const logger = this.log;
    // The deadline (set once at the start, database clock) aborts the run wherever it is.
    const deadlineInMs = this.claim.deadlineInMs;
    const deadlineTimer =
      deadlineInMs === null || deadlineInMs > maxTimerMs
        ? undefined
        : setTimeout(() => this.stopWith(new DeadlineExceededError(this.id)), Math.max(0, deadlineInMs));
    let outcome: RunOutcome;
    try {
      if (deadlineInMs !== null && deadlineInMs <= 0) throw new DeadlineExceededError(this.id);
      // A run whose workers die at a step fails there (throwIfCrashLooping) once the takeovers
      // pass maxRecoveries. One that dies outside any step never gets there: it fails one takeover
      // later, here, before its checkpoints are even loaded.
      const { recoveries } = this.claim;
      if (recoveries > this.definition.maxRecoveries + 1)
        this.failFatally(new CrashLoopError(this.id, null, recoveries));
      // A fresh run (first claim, nothing forked into it) has no checkpoints to load.
      if (!this.claim.fresh) {
        this.checkpoints = await retryOnDisconnect(() => loadCheckpoints(db, this.id), this.abort.signal);
        this.sequence = new CallSequence(this.id, this.checkpoints.values());
        this.completion = this.completionOrder(this.checkpoints.values());
        // Values kept in the largeValues store: read before the replay, which deserializes synchronously.
        await serializer.fetchOutputs(this.checkpoints.values(), this.id);
      }
      const storedInput = await serializer.fetch(this.claim.input, `the input of run "${this.id}"`);
      const input = instantiateInput(this.definition, serializer.deserialize(storedInput));
      // Each execution asks for its own instance: a DI container may build it asynchronously.
      const instance = await resolveWorkflowInstance(this.services.resolve, this.definition.target);
      // No parking once run() has settled: a wait that lost a Promise.race may still be pending.
      const runWorkflow = (): unknown => contextStorage().run({ run: this }, () => instance.run(input));
      const running = Promise.resolve(this.trace ? this.trace.within(runWorkflow) : runWorkflow()).finally(() =>
        this.parking.close(),
      );
      // A test's crash point leaves run() pending forever, as a killed process would.
      const output = await (this.services.testHooks ? Promise.race([running, this.untilCrash(running)]) : running);
      if (this.abort.signal.aborted) throw this.abort.signal.reason;
      if (this.fatal) throw this.fatal;
      // A history call the code no longer made (removed, or run() now returns earlier).
      try {
        this.sequence.checkFinished();
      } catch (error) {
        this.failFatally(error as Error);
      }
      const encoded = serializer.encode(output, `the output of run "${this.id}"`);
      outcome = { status: 'completed', output: await serializer.store(encoded, { runId: this.id, stepKey: null }) };
    } catch (error) {
      const reason: unknown = this.abort.signal.aborted ? this.abort.signal.reason : undefined;
      if (reason !== undefined && !(reason instanceof DeadlineExceededError)) return this.stopped();
      const failure = reason ?? error;
      const retry = this.definition.retry;
      if (!reason && !this.fatal && this.attempt < retry.maxAttempts && retry.retryIf(error))
        return this.retryRun(error);
      this.failure = this.fatal ?? failure;
      outcome = { status: 'failed', error: this.serializeError(this.fatal ?? failure) };
    } finally {
      clearTimeout(deadlineTimer);
    }
    // Not this.abort.signal: a run aborted by its deadline still records the failure.
    // In a statement shared with the runs finishing beside it, children or not.
    const written = await this.services.finishes.write({
      lease: this.lease,
      outcome,
      parentId: this.parentId,
      onWakeFailure: (error) => this.warnBatchParentNotWoken(error),
    });
    if (!written) return this.stopped();
    this.recordedOutcome = outcome;
    this.services.metrics?.runFinished(this.workflow, outcome.status);
    logger.debug(`run ${outcome.status}`);
    return outcome.status;
  }

  // Every durable call counts as in flight while it runs, so the run parks only when all of them wait.
  // Its outcome reaches the workflow in its turn of the completion order; the call is taken (by
  // nextCall(), before the durable function's first await) as the function is entered.
  private tracked<T>(call: () => Promise<T>): Promise<T> {
    this.parking.enter();
    this.inFlight++;
    this.made = undefined;
    const left = (): void => {
      this.inFlight--;
      this.parking.leave();
    };
    let settled: Promise<T>;
    try {
      settled = call();
    } catch (error) {
      left();
      throw error;
    }
    return this.completion
      .inTurn(settled, this.made, () => this.inFlight > 1)
      .then(
        (value) => {
          left();
          return value;
        },
        (error: unknown) => {
          left();
          throw error;
        },
      );
  }

  private warnBatchParentNotWoken(error: unknown): void {
    this.log.warn(
      'finished, but could not wake the parent waiting for its batch of children; the parent looks again by itself within 5 s',
      { parentId: this.parentId, error: error instanceof Error ? error.message : String(error) },
    );
  }

  completeCall(call: CallPosition): number {
    return this.completion.complete(call);
  }

  releaseCall(call: CallPosition): void {
    this.completion.release(call);
  }

  callStep<T>(
    name: string,
    body: () => T | Promise<T>,
    args?: readonly unknown[],
    policy: StepPolicy = defaultStepPolicy,
  ): Promise<Awaited<T>> {
    return this.tracked(() => executeStep(this, name, body, args, policy));
  }

  sleep(durationMs: number): Promise<void> {
    return this.tracked(() => sleepDurably(this, durationMs));
  }

  waitForEvent(event: string, timeoutMs: number | null): Promise<unknown> {
    return this.tracked(() => takeEvent(this, event, timeoutMs));
  }

  startChild(
    workflow: AnyClass | string,
    input: unknown,
    id: string | undefined,
    queue: string | undefined,
  ): Promise<string> {
    return this.tracked(() => startChildOnce(this, workflow, input, id, queue));
  }

  awaitChild(childId: string): Promise<unknown> {
    return this.tracked(() => takeChildOutcome(this, childId));
  }

  startChildren(
    workflow: AnyClass | string,
    inputs: readonly unknown[],
    ids: readonly string[] | undefined,
  ): Promise<StartedChildBatch> {
    return this.tracked(() => startChildBatch(this, workflow, inputs, ids));
  }

  awaitChildren(batch: StartedChildBatch): Promise<unknown[]> {
    return this.tracked(() => takeBatchOutcomes(this, batch));
  }

  // A marker in the history means the run took the patch; no marker where the history goes on
  // past this point means it was recorded before the patch; else the run reaches the patch for
  // the first time and records the marker (awaited: no later call may be stored without it, or a
  // replay would take the old branch). Markers hold no position, so removing a deprecated patch
  // from the code later leaves the positions of the other calls as they were.
  async patched(id: string, deprecated: boolean): Promise<boolean> {
    const decided = this.patches.get(id);
    if (decided !== undefined) return decided;
    const key = `${patchMarkerPrefix}${id}`;
    let taken = true;
    if (!this.sequence.recorded(key)) {
      if (this.sequence.replayingPastHere) taken = deprecated;
      else {
        this.patches.set(id, true);
        await this.atStepBoundary();
        // No completion number: a marker is not a call, nothing waits for it.
        const marker = {
          key,
          seq: this.sequence.position,
          sequential: false,
          completionSeq: null,
          name: key,
          argsHash: null,
        };
        await this.checkpoint({
          ...marker,
          status: 'completed',
          output: null,
          error: null,
          attempts: 1,
          durationMs: 0,
          replacesOpenRow: false,
        });
      }
    }
    this.patches.set(id, taken);
    return taken;
  }

  // Workflow-level retry: the run goes round again later, its completed checkpoints kept.
  private async retryRun(error: unknown): Promise<ExecutionEnd> {
    const { db, onSuspended } = this.services;
    const delayMs = retryDelay(this.definition.retry, this.attempt);
    const stored = this.serializeError(error);
    const done = await retryOnDisconnect(() => retryRun(db, this.lease, { error: stored, delayMs }), this.abort.signal);
    if (!done) return this.stopped();
    this.log.info('run failed; retrying it from its checkpoints', { delayMs });
    onSuspended(delayMs);
    return 'released';
  }

  // A fenced write that may outlive a dropped connection; a lost lease stops the execution.
  async fenced<T>(write: () => Promise<T>): Promise<T> {
    return retryOnDisconnect(write, this.abort.signal).catch((error: unknown) => {
      if (error instanceof LeaseLostError) this.loseLease();
      this.throwIfStopped();
      throw error;
    });
  }

  // A replayed call must be the call the history recorded: same step, same arguments.
  checkSameCall(key: string, name: string, argsHash: string | null, stored: CheckpointRow): void {
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

  replayOutcome<T>(stored: CheckpointRow): Awaited<T> {
    if (stored.status === 'failed') throw this.services.serializer.deserialize(stored.error);
    return this.services.serializer.deserialize(stored.output) as Awaited<T>;
  }

  checkpoint(checkpoint: NewCheckpoint): Promise<void> {
    return this.services.checkpoints
      .write({ lease: this.lease, checkpoint }, this.abort.signal)
      .catch((error: unknown) => {
        if (error instanceof LeaseLostError) this.loseLease();
        this.throwIfStopped();
        // Not the step's failure: the checkpoint could not be stored. The run fails with this
        // error whatever the workflow does with it, so it cannot continue on a missing checkpoint.
        this.fatal ??= error as Error;
        throw error;
      });
  }

  // Hands the run back (fenced), wakes other workers, and stops this execution.
  async releaseHere(): Promise<void> {
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

  stored(key: string): CheckpointRow | undefined {
    return this.checkpoints.get(key);
  }

  atStepBoundary(): Promise<void> | undefined {
    this.throwIfFatal();
    // Synchronous unless the run is handed back here: most steps pass with no promise made.
    if (this.releaseRequested) return this.releaseHere().then(() => this.throwIfStopped());
    this.throwIfStopped();
    return undefined;
  }

  throwIfFatal(): void {
    if (this.fatal) throw this.fatal;
  }

  throwIfCrashLooping(key: string): void {
    const { recoveries } = this.claim;
    if (recoveries > this.definition.maxRecoveries) this.failFatally(new CrashLoopError(this.id, key, recoveries));
  }

  failFatally(error: Error): never {
    this.fatal ??= error;
    throw error;
  }

  handBack(): void {
    this.handedBack = true;
    this.stopWith(new LeaseLostError(this.id));
  }

  /** Every stop goes here: the first reason stays. */
  stopWith(error: Error): void {
    if (this.abort.signal.aborted) return;
    this.abort.abort(error);
    // A stopped execution keeps no order: calls waiting for their turn go on, to stop at once.
    // (Called here, not from an 'abort' listener: adding one cost 17 us of every run's start.)
    this.completion.relax();
  }

  crash(key: string): Promise<never> {
    this.stopWith(new SimulatedCrashError(this.id, key));
    return new Promise<never>(() => undefined);
  }

  // Rejects when the execution dies on a crash point; whatever `running` does later is ignored.
  private untilCrash(running: Promise<unknown>): Promise<never> {
    running.catch(() => undefined);
    return new Promise<never>((_, reject) => {
      const onAbort = (): void => {
        if (this.abort.signal.reason instanceof SimulatedCrashError) reject(this.abort.signal.reason);
      };
      if (this.abort.signal.aborted) onAbort();
      else this.abort.signal.addEventListener('abort', onAbort, { once: true });
    });
  }

  currentTime(): Date {
    return this.services.testHooks?.now() ?? new Date();
  }

  timeForNow(): Date {
    const first = this.nowCalls++ === 0;
    return first && this.scheduledAt ? new Date(this.scheduledAt) : this.currentTime();
  }

  private stopped(): ExecutionEnd {
    if (this.abort.signal.reason instanceof SimulatedCrashError) {
      this.log.debug('the execution died on a crash point of the test');
      return 'crashed';
    }
    if (this.abort.signal.reason instanceof WorkflowCancelledError) {
      this.log.debug('stopped a cancelled run');
      return 'cancelled';
    }
    if (this.handedBack) {
      this.log.debug('handed the run back (shutdown or a long wait)');
      return 'released';
    }
    this.log.warn('lost the lease of a run; stopped executing it here, another worker resumes it');
    this.services.metrics?.leaseLost(this.workflow);
    return 'lease-lost';
  }

  throwIfStopped(): void {
    if (this.abort.signal.aborted) throw this.abort.signal.reason as Error;
  }

  hashArguments(args: readonly unknown[] | undefined): string | null {
    return hashArguments(this.services.serializer, args);
  }

  // An error that cannot itself be stored (say, a field holding a function) is kept as its class,
  // name, message and stack, so the failure is still recorded and replayable.
  serializeError(error: unknown): StoredValue {
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
