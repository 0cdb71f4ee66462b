// The current run and step, carried by one AsyncLocalStorage (kept on globalThis so every copy of
// zart shares it). The engine implements RunScope; decorators and durable functions only read it.

import { AsyncLocalStorage } from 'node:async_hooks';
import type { DataSource, EntityManager } from 'typeorm';
import type { ResolvedRetryPolicy } from '../engine/retry-policy';
import type { AnyClass } from '../registry/declarations';

/** @internal How a step call is executed: its retry policy, and whether it runs in a transaction. */
export interface StepPolicy {
  readonly retry: ResolvedRetryPolicy;
  readonly transaction: boolean;
  /** Bound of one attempt, or null. */
  readonly timeoutMs: number | null;
}

/** What `currentRun()` returns. */
export interface RunInfo {
  /** The run id (its idempotency key). */
  readonly id: string;
  /** The workflow name. */
  readonly workflow: string;
  /** 1, plus one per workflow-level retry or resume(); a replay after a crash is the same attempt. */
  readonly attempt: number;
  /** Id of the run that started this one as a child, or null. */
  readonly parentId: string | null;
  /** Aborted when this worker stops executing the run (lease lost, shutdown). */
  readonly signal: AbortSignal;
  /** The tick's time when a schedule started this run (see schedule()), else null. */
  readonly scheduledAt: Date | null;
}

/** What `currentStep()` returns inside a step. */
export interface StepInfo {
  /** `name#n`: unique within the run, stable across replays. */
  readonly key: string;
  /** 1 for the first attempt. */
  readonly attempt: number;
  /** `runId/key`: stable across replays and crashes; pass it to external APIs for idempotency. */
  readonly idempotencyKey: string;
  /** Aborted when the run stops on this worker. */
  readonly signal: AbortSignal;
}

/** @internal A batch started by startChildren(): its checkpoint key and its children's ids, in input order. */
export interface StartedChildBatch {
  readonly key: string;
  readonly ids: readonly string[];
}

/** @internal The engine's side of a running workflow. */
export interface RunScope extends RunInfo {
  /** Executes or replays one step call; `args` (of a decorated step) are hashed for replay checks. */
  callStep<T>(
    name: string,
    body: () => T | Promise<T>,
    args?: readonly unknown[],
    policy?: StepPolicy,
  ): Promise<Awaited<T>>;
  /** A durable sleep. */
  sleep(durationMs: number): Promise<void>;
  /** A durable wait for an event sent to this run; null: no timeout. */
  waitForEvent(event: string, timeoutMs: number | null): Promise<unknown>;
  /** Starts a child run exactly once (in `queue`, else its workflow's); resolves with its id. */
  startChild(
    workflow: AnyClass | string,
    input: unknown,
    id: string | undefined,
    queue: string | undefined,
  ): Promise<string>;
  /** A durable wait for a child run's outcome. */
  awaitChild(childId: string): Promise<unknown>;
  /** Starts a batch of child runs exactly once, in one durable call; `ids` undefined: derived ids. */
  startChildren(
    workflow: AnyClass | string,
    inputs: readonly unknown[],
    ids: readonly string[] | undefined,
  ): Promise<StartedChildBatch>;
  /** A durable wait for every child of a batch: their outputs in input order. */
  awaitChildren(batch: StartedChildBatch): Promise<unknown[]>;
  /**
   * `patched(id)` (and `deprecatePatch(id)`, which only records): whether this run takes the new
   * code's branch, decided once per run and kept in a marker checkpoint.
   */
  patched(id: string, deprecated: boolean): Promise<boolean>;
  /** The time for now() to checkpoint: the clock, or a test environment's skipped clock. */
  currentTime(): Date;
  /**
   * What the next now() call checkpoints: the tick's time for the first call in a scheduled run,
   * else currentTime(). Called in call order (before any await), so replays count alike.
   */
  timeForNow(): Date;
}

/** @internal */
export interface ContextFrame {
  run: RunScope;
  /** Set while a step body runs: nested step calls inside it run plainly. */
  step?: StepInfo;
  /** Set while a `transaction: true` step runs: its transaction, which also writes the checkpoint. */
  transaction?: StepTransactionScope;
}

/** @internal The transaction of a `transaction: true` step, as the step's code reaches it. */
export interface StepTransactionScope {
  /** The transaction's EntityManager (`stepTransaction()`). */
  readonly manager: EntityManager;
  /** The DataSource it runs on: only this DataSource's own manager and repositories join it. */
  readonly dataSource: DataSource;
  /** False once the step's body settled: code it left running can no longer use the transaction. */
  open: boolean;
}

const key = Symbol.for('zart.context');

/** @internal The AsyncLocalStorage that holds the current frame. */
export function contextStorage(): AsyncLocalStorage<ContextFrame> {
  const holder = globalThis as { [key]?: AsyncLocalStorage<ContextFrame> };
  return (holder[key] ??= new AsyncLocalStorage<ContextFrame>());
}

/**
 * @internal Calls `work` outside any run's frame (the worker's own context). Not
 * AsyncLocalStorage#exit(): on Node 20 it turns the async hooks off and on again around the call,
 * which cost each run started here 20 us.
 */
export function outsideAnyRun<T>(work: () => T): T {
  return contextStorage().run(undefined as unknown as ContextFrame, work);
}

/** @internal The current frame, or undefined outside a workflow. */
export function currentFrame(): ContextFrame | undefined {
  return contextStorage().getStore();
}
