// What the parts of an execution (step calls, durable waits) share: the run's identity, lease and
// stop signal, the services of the process, and the bookkeeping of its replay (keys, checkpoints).
import type { RunScope } from '../context/run-context';
import type { ZartLogger } from '../logging/zart-logger';
import type { ExecutionTrace, RunTracing } from '../observability/run-tracing';
import type { ZartMetrics } from '../observability/zart-metrics';
import type { WorkflowResolver } from '../options/resolve-options';
import type { WorkflowRegistry } from '../registry/workflow-registry';
import type { StoredValue } from '../serialization/serializer';
import type { ValueSerializer } from '../serialization/value-serializer';
import type { CheckpointWriter } from '../storage/checkpoint-writer';
import type { FinishWriter } from '../storage/finish-writer';
import type { ClaimedRun } from '../storage/sql/claim-runs';
import type { NewCheckpoint, RunLease } from '../storage/sql/insert-checkpoint';
import type { StartClaim } from '../storage/sql/insert-runs';
import type { CheckpointRow } from '../storage/sql/load-checkpoints';
import type { ZartDatabase } from '../storage/zart-database';
import type { WakeUpPublisher } from '../wake-ups/wake-up-publisher';
import type { CallPosition } from './call-sequence';
import type { RunParking } from './run-parking';
import type { TestHooks } from './test-hooks';

/** @internal What an execution needs from the process around it. */
export interface ExecutionServices {
  db: ZartDatabase;
  serializer: ValueSerializer;
  logger: ZartLogger;
  owner: string;
  /** The instance that executes this execution of the run (at once or as a promise). */
  resolve: WorkflowResolver;
  checkpoints: CheckpointWriter;
  /** Finishes of all runs, children or not, group-committed (finish-writer.ts); true when written. */
  finishes: FinishWriter;
  wakeUps: WakeUpPublisher;
  /** Waits up to this long are held in-process; longer ones park the run (status waiting). */
  maxInProcessWaitMs: number;
  /** A run was parked until `wakeInMs` from now: the worker sets a timer to claim it then. */
  onSuspended: (wakeInMs: number) => void;
  /** Slots of this worker for up to `wanted` runs being started, to insert them claimed by it (or null). */
  reserveStart: (queue: string, wanted: number) => StartClaim | null;
  /** The start that reserveStart() gave `claim` for ended: `runs` were inserted claimed, to execute now. */
  startReserved: (claim: StartClaim, runs: readonly ClaimedRun[]) => void;
  /** The workflows children may be started from. */
  registry: WorkflowRegistry;
  /** The queues a child may be started in (resolve-run-queue.ts). */
  knownQueues: ReadonlySet<string>;
  /** Only in a zart/testing environment: a skipped clock and crash points. */
  testHooks?: TestHooks | undefined;
  /** Undefined when metrics are off. */
  metrics: ZartMetrics | undefined;
  /** Undefined when tracing is off (or @opentelemetry/api is not installed). */
  tracing: RunTracing | undefined;
}

/** @internal One execution of a run, as its step calls and durable waits see it. */
export interface ExecutionCore extends RunScope {
  readonly id: string;
  readonly services: ExecutionServices;
  readonly lease: RunLease;
  /** Aborted when this execution must stop: parked, handed back, cancelled, past its deadline, lease lost. */
  readonly signal: AbortSignal;
  /** Aborted at shutdown, so an in-process wait ends early. */
  readonly releaseSignal: AbortSignal;
  /** Shutdown asked the run to be handed back at its next step boundary. */
  readonly releaseRequested: boolean;
  readonly parking: RunParking;
  /** The services' logger with this run's id, workflow and attempt on every line. */
  readonly log: ZartLogger;
  /** This execution's span; undefined when tracing is off. */
  readonly trace: ExecutionTrace | undefined;

  /**
   * The next call's key (`name#n`) and position; taken synchronously, before any await. Throws
   * NonDeterminismError (and fails the run) when the history has another call at that position.
   */
  nextCall(name: string): CallPosition;
  /**
   * The call's completion number, for its final checkpoint: taken once (when the checkpoint is
   * built), and the call's outcome is delivered in that order (engine/completion-order.ts).
   */
  completeCall(call: CallPosition): number;
  /** The call took a completion number it did not write (no event to consume): later calls need not wait for it. */
  releaseCall(call: CallPosition): void;
  /** The checkpoint stored under `key` when this execution began. */
  stored(key: string): CheckpointRow | undefined;
  /** Throws NonDeterminismError (and fails the run) if a replayed call contradicts its history. */
  checkSameCall(key: string, name: string, argsHash: string | null, stored: CheckpointRow): void;
  /** The stored output, or the stored failure thrown. */
  replayOutcome<T>(stored: CheckpointRow): Awaited<T>;
  /** Writes a checkpoint, fenced; a write that cannot be stored fails the run. */
  checkpoint(checkpoint: NewCheckpoint): Promise<void>;
  /** A fenced write that may outlive a dropped connection; a lost lease stops the execution. */
  fenced<T>(write: () => Promise<T>): Promise<T>;
  throwIfStopped(): void;
  /**
   * Before new work (not a replay): fails with the run's fatal error, hands the run back if
   * shutdown asked for it, and stops if the execution was stopped. Undefined when there was
   * nothing to wait for (the usual case).
   */
  atStepBoundary(): Promise<void> | undefined;
  /** Throws the error that fails the run whatever it does next, if there is one. */
  throwIfFatal(): void;
  /** Fails the run with CrashLoopError at `key` if dead workers took it over too often in a row. */
  throwIfCrashLooping(key: string): void;
  /** Records `error` as the run's fatal error and throws it. */
  failFatally(error: Error): never;
  /** Hands the run back (shutdown) and stops this execution. */
  releaseHere(): Promise<void>;
  loseLease(): void;
  /** The run was parked: stop this execution, which handed it back. */
  handBack(): void;
  /** Stop this execution with `error` (the run stays leased here until the lease expires). */
  stopWith(error: Error): void;
  /**
   * A test's crash point: the execution dies here as in a killed process. It writes nothing more
   * and keeps its lease until the lease expires; the returned promise never settles.
   */
  crash(key: string): Promise<never>;
  hashArguments(args: readonly unknown[] | undefined): string | null;
  serializeError(error: unknown): StoredValue;
}
