// Executes one claimed run up to its end: replays run() from the top, returning stored step
// outputs without calling the steps again, executing and checkpointing new steps, and finally
// recording the outcome. Every write is fenced on the lease this worker holds.
import { performance } from 'node:perf_hooks';
import { contextStorage, type RunScope, type StepInfo } from '../context/run-context';
import { LeaseLostError, NonDeterminismError, SerializationError, StepFailedError } from '../errors';
import type { ZartLogger } from '../logging/zart-logger';
import { instantiateInput } from '../registry/prepare-input';
import type { RegisteredWorkflow } from '../registry/workflow-registry';
import type { Serializer, StoredValue } from '../serialization/serializer';
import type { ClaimedRun } from '../storage/sql/claim-runs';
import { finishRun, type RunOutcome } from '../storage/sql/finish-run';
import { insertCheckpoint, type NewCheckpoint } from '../storage/sql/insert-checkpoint';
import { loadCheckpoints, type CheckpointRow } from '../storage/sql/load-checkpoints';
import type { ZartDatabase } from '../storage/zart-database';

/** @internal What an execution needs from the process around it. */
export interface ExecutionServices {
  db: ZartDatabase;
  serializer: Serializer;
  logger: ZartLogger;
  owner: string;
  resolve: (target: RegisteredWorkflow['target']) => object;
}

/** @internal How an execution ended on this worker. */
export type ExecutionEnd = 'completed' | 'failed' | 'lease-lost';

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
  /** Set when the run must fail whatever run() does next (non-determinism). */
  private fatal: Error | undefined;
  private handedBack = false;

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
  }

  get signal(): AbortSignal {
    return this.abort.signal;
  }

  /** Called by the worker when lease renewal finds the run owned by someone else. */
  loseLease(): void {
    if (!this.abort.signal.aborted) this.abort.abort(new LeaseLostError(this.id));
  }

  /** Called by the worker at shutdown: stop here, the run was handed back to other workers. */
  release(): void {
    this.handedBack = true;
    this.loseLease();
  }

  /** Replays the run to its end and records the outcome. */
  async execute(): Promise<ExecutionEnd> {
    const { serializer, logger } = this.services;
    this.checkpoints = await loadCheckpoints(this.services.db, this.id);
    let outcome: RunOutcome;
    try {
      const input = instantiateInput(this.definition, serializer.deserialize(this.claim.input));
      const instance = this.services.resolve(this.definition.target) as { run(input: unknown): unknown };
      const output = await contextStorage().run({ run: this }, () => instance.run(input));
      if (this.abort.signal.aborted) return this.stopped();
      if (this.fatal) throw this.fatal;
      outcome = { status: 'completed', output: serializer.serialize(output, `the output of run "${this.id}"`) };
    } catch (error) {
      if (this.abort.signal.aborted) return this.stopped();
      outcome = { status: 'failed', error: this.serializeError(this.fatal ?? error) };
    }
    const written = await finishRun(this.services.db, this.lease, outcome);
    if (!written) return this.stopped();
    logger.debug(`run ${outcome.status}`, { runId: this.id, workflow: this.workflow });
    return outcome.status;
  }

  private stopped(): ExecutionEnd {
    if (this.handedBack) {
      this.services.logger.debug('stopped a run handed back at shutdown', { runId: this.id });
    } else {
      this.services.logger.warn('lost the lease of a run; stopped executing it here, another worker resumes it', {
        runId: this.id,
      });
    }
    return 'lease-lost';
  }

  async callStep<T>(name: string, body: () => T | Promise<T>): Promise<Awaited<T>> {
    // Key and sequence are taken synchronously, before any await, so concurrent calls
    // (Promise.all) get the same keys on every replay.
    const n = this.callsPerName.get(name) ?? 0;
    this.callsPerName.set(name, n + 1);
    const key = `${name}#${n}`;
    const seq = this.nextSeq++;

    const stored = this.checkpoints.get(key);
    if (stored) return this.replay<T>(key, name, stored);
    this.throwIfStopped();

    const step: StepInfo = { key, attempt: 1, idempotencyKey: `${this.id}/${key}`, signal: this.abort.signal };
    const started = performance.now();
    let value: Awaited<T>;
    try {
      value = await contextStorage().run({ run: this, step }, async () => await body());
    } catch (error) {
      this.throwIfStopped();
      const failure = new StepFailedError(this.id, key, 1, error);
      await this.checkpoint({
        key,
        seq,
        name,
        status: 'failed',
        output: null,
        error: this.serializeError(failure),
        attempts: 1,
        durationMs: performance.now() - started,
      });
      throw failure;
    }
    this.throwIfStopped();
    let output: StoredValue;
    try {
      output = this.services.serializer.serialize(value, `the output of step "${key}" of run "${this.id}"`);
    } catch (error) {
      // Stored as the step's failure, so a replay throws the same error instead of re-running.
      await this.checkpoint({
        key,
        seq,
        name,
        status: 'failed',
        output: null,
        error: this.serializeError(error),
        attempts: 1,
        durationMs: performance.now() - started,
      });
      throw error;
    }
    await this.checkpoint({
      key,
      seq,
      name,
      status: 'completed',
      output,
      error: null,
      attempts: 1,
      durationMs: performance.now() - started,
    });
    return value;
  }

  private replay<T>(key: string, name: string, stored: CheckpointRow): Awaited<T> {
    if (stored.name !== name) {
      const error = new NonDeterminismError(
        this.id,
        key,
        `a call of step "${stored.name}"`,
        `a call of step "${name}"`,
      );
      this.fatal ??= error;
      throw error;
    }
    if (stored.status === 'failed') throw this.services.serializer.deserialize(stored.error);
    return this.services.serializer.deserialize(stored.output) as Awaited<T>;
  }

  private async checkpoint(checkpoint: NewCheckpoint): Promise<void> {
    try {
      await insertCheckpoint(this.services.db, this.lease, checkpoint);
    } catch (error) {
      if (error instanceof LeaseLostError) this.loseLease();
      throw error;
    }
  }

  private throwIfStopped(): void {
    if (this.abort.signal.aborted) throw this.abort.signal.reason as Error;
  }

  private get lease(): { runId: string; owner: string; epoch: number } {
    return { runId: this.id, owner: this.services.owner, epoch: this.epoch };
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
      const copy = Object.assign(Object.create(Object.getPrototypeOf(plain) as object) as Error, {});
      Object.defineProperty(copy, 'message', { value: plain.message, writable: true, configurable: true });
      Object.defineProperty(copy, 'stack', { value: plain.stack, writable: true, configurable: true });
      return serializer.serialize(copy, `the error of run "${this.id}"`);
    }
  }
}
