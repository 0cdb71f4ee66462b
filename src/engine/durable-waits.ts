// The durable waits of a run (a sleep, an event, a child's start and outcome) and how a run waits:
// in-process for a short wake time, else parked with every other wait in flight (run-parking.ts).
import { setTimeout as delay } from 'node:timers/promises';
import {
  NonDeterminismError,
  RunIdConflictError,
  RunNotFoundError,
  WaitTimeoutError,
  WorkflowCancelledError,
  WorkflowFailedError,
} from '../errors';
import type { StoredTraceContext } from '../observability/trace-context';
import { resolveRunQueue } from '../queues/resolve-run-queue';
import type { AnyClass } from '../registry/declarations';
import { prepareInput } from '../registry/prepare-input';
import { retryOnDisconnect } from '../storage/reconnect';
import { consumeEvent } from '../storage/sql/consume-event';
import type { NewCheckpoint } from '../storage/sql/insert-checkpoint';
import { insertChildRun, type ChildStart } from '../storage/sql/insert-child-run';
import { loadCheckpoint } from '../storage/sql/load-checkpoints';
import { readRunOutcome } from '../storage/sql/read-run-outcome';
import { recordEventWait } from '../storage/sql/record-event-wait';
import { recordSleep } from '../storage/sql/record-sleep';
import { suspendRun } from '../storage/sql/suspend-run';
import type { CallPosition } from './call-sequence';
import type { ExecutionCore } from './execution-core';
import type { PendingWait } from './run-parking';

/** How often a parent parked on a child (or a batch of children) looks again without being woken. */
export const childRecheckMs = 5_000;

/** The outcome of a durable call that ran nothing of its own (a wait's end, a refused child). */
export function recordOutcome(
  run: ExecutionCore,
  call: CallPosition,
  what: { name: string; argsHash: string | null },
  outcome: Pick<NewCheckpoint, 'status' | 'output' | 'error'>,
): Promise<void> {
  const { key, seq, sequential } = call;
  const completionSeq = run.completeCall(call);
  // A wait's end replaces the row recorded when it began (sleep, event wait, child).
  return run.checkpoint({
    key,
    seq,
    sequential,
    completionSeq,
    ...what,
    attempts: 1,
    durationMs: 0,
    replacesOpenRow: true,
    ...outcome,
  });
}

/**
 * A durable sleep: the wake time is stored once (database clock). Short sleeps are waited here,
 * holding the lease; longer ones, or any at shutdown, park the run until the wake time.
 */
export async function sleepDurably(run: ExecutionCore, durationMs: number): Promise<void> {
  const name = 'zart.sleep';
  const { key, seq, sequential } = run.nextCall(name);

  let wakeInMs: number;
  const stored = run.stored(key);
  if (stored) {
    if (stored.name !== name || stored.status !== 'sleeping') {
      const error = new NonDeterminismError(run.id, key, `a call of step "${stored.name}"`, 'a durable sleep');
      run.failFatally(error);
    }
    wakeInMs = stored.wakeInMs ?? 0;
  } else {
    run.throwIfFatal();
    run.throwIfStopped();
    const { db } = run.services;
    const sleep = { key, seq, sequential, name, durationMs };
    await run.fenced(() => recordSleep(db, run.lease, sleep));
    wakeInMs = durationMs;
  }
  await waitUntilWake(run, key, 'sleep', wakeInMs);
}

/**
 * Waits for the next event `event` sent to this run: consumes one that is already buffered,
 * else records the wait (its deadline stored once) and parks the run until an event wakes it.
 */
export async function takeEvent(run: ExecutionCore, event: string, timeoutMs: number | null): Promise<unknown> {
  const name = `zart.event:${event}`;
  const call = run.nextCall(name);
  const { key, seq, sequential } = call;

  const stored = run.stored(key);
  if (stored) {
    run.checkSameCall(key, name, null, stored);
    if (stored.status !== 'waiting') return run.replayOutcome(stored);
  }
  await run.atStepBoundary();
  const { db, serializer } = run.services;
  const wait = { key, event, seq, sequential, name, completionSeq: run.completeCall(call) };
  const consumed = await run.fenced(() => consumeEvent(db, run.lease, wait));
  if (!consumed) run.releaseCall(call);
  if (consumed)
    return serializer
      .load(consumed.payload, `the payload of event "${event}"`)
      .catch((error: Error) => run.failFatally(error));
  if (!stored) {
    await run.fenced(() => recordEventWait(db, run.lease, { key, seq, sequential, name, timeoutMs }));
  } else if (stored.wakeInMs !== null && stored.wakeInMs <= 0) {
    const timeout = new WaitTimeoutError(`event "${event}" for run "${run.id}"`, timeoutMs ?? 0);
    const failed = { status: 'failed', output: null, error: run.serializeError(timeout) } as const;
    await recordOutcome(run, call, { name, argsHash: null }, failed);
    throw timeout;
  }
  const wakeInMs = stored?.wakeInMs ?? timeoutMs ?? Infinity;
  return park(run, { key, waitingFor: `event:${event}`, event, wakeInMs, inProcess: false });
}

/** Starts a child run exactly once: the child row and the checkpoint of its id commit together. */
export async function startChildOnce(
  run: ExecutionCore,
  workflow: AnyClass | string,
  input: unknown,
  id: string | undefined,
  queue: string | undefined,
): Promise<string> {
  const { db, serializer, registry, wakeUps, metrics, knownQueues } = run.services;
  const definition = registry.get(workflow);
  // Checked before the call takes its key, so a replay fails at the same place. The queue is left
  // out of the argument hash: runs started before the option existed replay unchanged.
  const childQueue = resolveRunQueue(queue, definition.queue, knownQueues, 'startChild(workflow, input, options)');
  const name = 'zart.child';
  const call = run.nextCall(name);
  const { key, seq, sequential } = call;
  const argsHash = run.hashArguments([definition.name, input, id ?? null]);
  const stored = run.stored(key);
  if (stored) {
    run.checkSameCall(key, name, argsHash, stored);
    return run.replayOutcome<string>(stored);
  }
  await run.atStepBoundary();
  const prepared = await prepareInput(definition, input);
  const childId = id ?? `${run.id}/${key}`;
  const child = {
    id: childId,
    workflow: definition.name,
    version: definition.version,
    queue: childQueue,
    input: await serializer.store(serializer.encode(prepared, `the input of child workflow "${definition.name}"`), {
      runId: childId,
      stepKey: null,
    }),
    timeoutMs: definition.timeoutMs,
  };
  const output = serializer.serialize(childId, 'a child id');
  const insert = (traceContext: StoredTraceContext | null): Promise<ChildStart> =>
    run.fenced(() =>
      insertChildRun(
        db,
        run.lease,
        { key, seq, sequential, completionSeq: run.completeCall(call), name, argsHash, output },
        { ...child, traceContext },
      ),
    );
  // The child's executions continue this run's trace, under a span of its start.
  const start = run.trace ? await run.trace.started(definition.name, childId, insert) : await insert(null);
  if (!start.started) {
    // Our own statement, retried after its reply was lost, finds the child it committed.
    if (start.existingParent === run.id) {
      const own = await run.fenced(() => loadCheckpoint(db, run.id, key));
      if (own?.status === 'completed') return childId;
    }
    const conflict = new RunIdConflictError(
      childId,
      start.existingWorkflow,
      definition.name,
      `startChild(${definition.name}, { id: "${childId}" }): that id already belongs to ${
        start.existingParent === null ? 'a top-level run' : `a child of run "${start.existingParent}"`
      } of workflow "${start.existingWorkflow}"; a child id must be new (it starts exactly one run).`,
    );
    // Stored, so a replay throws the same error whatever has become of that other run.
    const failed = { status: 'failed', output: null, error: run.serializeError(conflict) } as const;
    await recordOutcome(run, call, { name, argsHash }, failed);
    throw conflict;
  }
  metrics?.runStarted(definition.name);
  void wakeUps.publish();
  return childId;
}

/** A durable wait for a child's outcome, checkpointed once the child has finished. */
export async function takeChildOutcome(run: ExecutionCore, childId: string): Promise<unknown> {
  const { db, serializer } = run.services;
  const name = `zart.child-result:${childId}`;
  const call = run.nextCall(name);
  const { key } = call;
  const stored = run.stored(key);
  if (stored) {
    run.checkSameCall(key, name, null, stored);
    return run.replayOutcome(stored);
  }
  await run.atStepBoundary();
  const row = await run.fenced(() => readRunOutcome(db, childId));
  if (!row) throw new RunNotFoundError(childId);
  const what = { name, argsHash: null };
  if (row.status === 'completed') {
    await recordOutcome(run, call, what, { status: 'completed', output: row.output, error: null });
    return serializer
      .load(row.output, `the output of run "${childId}"`)
      .catch((error: Error) => run.failFatally(error));
  }
  if (row.status === 'failed' || row.status === 'cancelled') {
    const failure =
      row.status === 'cancelled'
        ? new WorkflowCancelledError(childId)
        : new WorkflowFailedError(childId, serializer.deserialize(row.error));
    await recordOutcome(run, call, what, { status: 'failed', output: null, error: run.serializeError(failure) });
    throw failure;
  }
  // A child's finish wakes the parent; the parent also looks again every 5 s, so no lost wake-up
  // can leave it waiting forever.
  const recheck = { wakeInMs: childRecheckMs, recheckMs: childRecheckMs };
  return park(run, { key, waitingFor: `child:${childId}`, childId, ...recheck, inProcess: false });
}

/** Waits until a stored wake time: in-process when short, else parks the run (and stops here). */
export async function waitUntilWake(
  run: ExecutionCore,
  key: string,
  waitingFor: string,
  wakeInMs: number,
): Promise<void> {
  if (wakeInMs <= 0) return;
  if (wakeInMs <= run.services.maxInProcessWaitMs && !run.releaseRequested) {
    // Held here, but a wait racing it that must park the run parks it with this wake time too.
    const wait = { key, waitingFor, wakeInMs, inProcess: true };
    run.parking.block(wait);
    try {
      const interrupted = AbortSignal.any([run.signal, run.releaseSignal]);
      await delay(wakeInMs, undefined, { signal: interrupted }).catch(() => undefined);
      if (run.parking.parked) await stopped(run);
    } finally {
      run.parking.unblock(wait);
    }
    run.throwIfStopped();
    if (!run.releaseRequested) return;
  }
  await park(run, { key, waitingFor, wakeInMs, inProcess: false });
}

/**
 * Blocks this call until the run parks (with every other wait in flight) and stops here, or
 * until the run is stopped otherwise (cancelled, past its deadline, lease lost).
 */
export async function park(run: ExecutionCore, wait: PendingWait): Promise<never> {
  run.parking.block(wait);
  try {
    await stopped(run);
  } finally {
    run.parking.unblock(wait);
  }
  throw run.signal.reason as Error;
}

// Resolves when this execution stops (parked, cancelled, past its deadline, lease lost).
function stopped(run: ExecutionCore): Promise<void> {
  return new Promise<void>((resolve) => {
    if (run.signal.aborted) resolve();
    else run.signal.addEventListener('abort', () => resolve(), { once: true });
  });
}

// Parks the run on all its waits: claimable again at the earliest wake time, or when one of its
// events arrives or children finishes; then stops this execution. The park and its check for a
// wake-up that came meanwhile commit together (suspend-run.ts): an execution stopped while parking
// (cancelled, past its deadline, lease lost) has either parked the run with that check, or written
// nothing and left the run to whoever stopped it.
export async function parkOn(run: ExecutionCore, waits: PendingWait[]): Promise<void> {
  const { db, onSuspended } = run.services;
  const rechecks = waits.flatMap((wait) => (wait.recheckMs === undefined ? [] : [wait.recheckMs]));
  const suspension = {
    keys: waits.map((wait) => wait.key),
    waitingFor: [...new Set(waits.map((wait) => wait.waitingFor))],
    recheckMs: rechecks.length > 0 ? Math.min(...rechecks) : null,
    events: waits.flatMap((wait) => (wait.event === undefined ? [] : [wait.event])),
    children: waits.flatMap((wait) => (wait.childId === undefined ? [] : [wait.childId])),
    batches: waits.flatMap((wait) => (wait.batchKey === undefined ? [] : [wait.batchKey])),
  };
  try {
    const { parked, woken } = await retryOnDisconnect(() => suspendRun(db, run.lease, suspension), run.signal);
    if (!parked) return run.loseLease();
    onSuspended(woken ? 0 : Math.min(...waits.map((wait) => wait.wakeInMs)));
    run.handBack();
  } catch (error) {
    if (run.signal.aborted) return;
    // The run stays leased to this worker until the lease expires; another claim replays it.
    run.log.error('could not park a waiting run; it is retried when its lease expires', {
      error: (error as Error).message,
    });
    run.stopWith(error as Error);
  }
}
