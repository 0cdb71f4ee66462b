// Batches of children (startChildren): a whole batch started in one durable call (one statement,
// one checkpoint), and one durable wait for all of its outcomes, which parks the parent until the
// last child of the batch finishes and then reads every outcome in one statement. The per-child
// path (startChild, a child's result()) costs a statement per start and a wake-up per finish.
import {
  RunIdConflictError,
  RunNotFoundError,
  ValidationError,
  WorkflowCancelledError,
  WorkflowFailedError,
} from '../errors';
import type { StartedChildBatch } from '../context/run-context';
import type { StoredTraceContext } from '../observability/trace-context';
import type { AnyClass } from '../registry/declarations';
import { prepareInput } from '../registry/prepare-input';
import type { RegisteredWorkflow } from '../registry/workflow-registry';
import type { StoredValue } from '../serialization/serializer';
import type { ClaimedRun } from '../storage/sql/claim-runs';
import {
  insertChildRuns,
  type ChildBatchStart,
  type ClaimedChild,
  type NewChildBatch,
} from '../storage/sql/insert-child-runs';
import { claimedAtStart } from '../storage/sql/insert-runs';
import { loadCheckpoint } from '../storage/sql/load-checkpoints';
import { readChildBatchOutcomes } from '../storage/sql/read-child-batch-outcomes';
import { childBatchName, childBatchResultsPrefix } from './call-sequence';
import { childRecheckMs, park, recordOutcome } from './durable-waits';
import type { ExecutionCore } from './execution-core';

/**
 * Starts every child of a batch exactly once, in one statement with the checkpoint that records
 * their ids (storage/sql/insert-child-runs.ts). A replay gets the same ids and starts nothing.
 */
export async function startChildBatch(
  run: ExecutionCore,
  workflow: AnyClass | string,
  inputs: readonly unknown[],
  ids: readonly string[] | undefined,
): Promise<StartedChildBatch> {
  const { db, serializer, registry, wakeUps, metrics } = run.services;
  const definition = registry.get(workflow);
  const name = childBatchName;
  const call = run.nextCall(name);
  const { key, seq, sequential } = call;
  const argsHash = run.hashArguments([definition.name, inputs, ids ?? null]);
  const stored = run.stored(key);
  if (stored) {
    run.checkSameCall(key, name, argsHash, stored);
    return { key, ids: run.replayOutcome<string[]>(stored) };
  }
  await run.atStepBoundary();
  const prepared = await Promise.all(inputs.map((input, i) => prepareBatchInput(definition, i, input)));
  const childIds = ids ? [...ids] : inputs.map((_, i) => `${run.id}/${key}/${i}`);
  const storedInputs: StoredValue[] = [];
  for (const [i, input] of prepared.entries()) {
    const childId = childIds[i]!;
    const encoded = serializer.encode(input, `the input of child workflow "${definition.name}" (inputs[${i}])`);
    storedInputs.push(await serializer.store(encoded, { runId: childId, stepKey: null }));
  }
  const output = serializer.serialize(childIds, 'the ids of a batch of children');
  const batch = {
    ids: childIds,
    workflow: definition.name,
    version: definition.version,
    queue: definition.queue,
    inputs: storedInputs,
    timeoutMs: definition.timeoutMs,
  };
  // Where this worker has room, the first children start claimed by it and execute at once.
  const claim = run.services.reserveStart(definition.queue, childIds.length);
  let claimedChildren: ClaimedRun[] = [];
  const insert = async (traceContext: StoredTraceContext | null): Promise<ChildBatchStart> => {
    const inserted = await run.fenced(() =>
      insertChildRuns(
        db,
        run.lease,
        { key, seq, sequential, completionSeq: run.completeCall(call), name, argsHash, output },
        { ...batch, traceContext },
        claim,
      ),
    );
    if (inserted.started) claimedChildren = claimedAt(inserted.claimed, { ...batch, traceContext }, run.id);
    return inserted;
  };
  let start: ChildBatchStart;
  try {
    // One span for the batch's start; every child continues this run's trace under it.
    start = run.trace ? await run.trace.started(definition.name, `${run.id}/${key}`, insert) : await insert(null);
  } finally {
    if (claim) run.services.startReserved(claim, claimedChildren);
  }
  if (!start.started) {
    // Our own statement, retried after its reply was lost, finds the batch it committed.
    if (start.existingParent === run.id) {
      const own = await run.fenced(() => loadCheckpoint(db, run.id, key));
      if (own?.status === 'completed') return { key, ids: childIds };
    }
    const conflict = new RunIdConflictError(
      start.takenId,
      start.existingWorkflow,
      definition.name,
      `startChildren(${definition.name}, inputs, { ids }): id "${start.takenId}" already belongs to ${
        start.existingParent === null ? 'a top-level run' : `a child of run "${start.existingParent}"`
      } of workflow "${start.existingWorkflow}", so no child of the batch was started; every child id must be new.`,
    );
    // Stored, so a replay throws the same error whatever has become of that other run.
    const failed = { status: 'failed', output: null, error: run.serializeError(conflict) } as const;
    await recordOutcome(run, call, { name, argsHash }, failed);
    throw conflict;
  }
  for (let i = 0; i < childIds.length; i++) metrics?.runStarted(definition.name);
  // Children left pending are for a claim round, here or in another process.
  if (claimedChildren.length < childIds.length) void wakeUps.publish();
  return { key, ids: childIds };
}

// The children inserted claimed, as a claim hands runs over (insert-runs.ts, claimedAtStart).
function claimedAt(claimed: readonly ClaimedChild[], batch: NewChildBatch, parentId: string): ClaimedRun[] {
  if (claimed.length === 0) return [];
  const indexOf = new Map(batch.ids.map((id, i) => [id, i]));
  return claimed.map(({ id, deadlineInMs }) => {
    const { workflow, version, queue, timeoutMs, traceContext } = batch;
    const input = batch.inputs[indexOf.get(id)!]!;
    return claimedAtStart({ id, workflow, version, queue, input, timeoutMs, traceContext, deadlineInMs }, parentId);
  });
}

/**
 * A durable wait for every child of a batch: their outputs in input order, checkpointed once the
 * last one has finished; or, if any failed or was cancelled, the first such failure in input order.
 * Until then the parent is parked, and only the batch's last child wakes it.
 */
export async function takeBatchOutcomes(run: ExecutionCore, batch: StartedChildBatch): Promise<unknown[]> {
  const { db, serializer } = run.services;
  const name = `${childBatchResultsPrefix}${batch.key}`;
  const call = run.nextCall(name);
  const { key } = call;
  const stored = run.stored(key);
  if (stored) {
    run.checkSameCall(key, name, null, stored);
    return run.replayOutcome<unknown[]>(stored);
  }
  await run.atStepBoundary();
  const read = await run.fenced(() => readChildBatchOutcomes(db, run.id, batch.key, batch.ids));
  if (read.unfinished > 0) {
    // The batch's last child wakes the parent; the parent also looks again every 5 s, so no lost
    // wake-up can leave it waiting forever.
    const recheck = { wakeInMs: childRecheckMs, recheckMs: childRecheckMs };
    return park(run, { key, waitingFor: `children:${batch.key}`, batchKey: batch.key, ...recheck, inProcess: false });
  }
  const outputs: unknown[] = [];
  for (const childId of batch.ids) {
    const row = read.outcomes.get(childId);
    if (!row) throw new RunNotFoundError(childId);
    if (row.status === 'completed') {
      const what = `the output of run "${childId}"`;
      outputs.push(await serializer.load(row.output, what).catch((error: Error) => run.failFatally(error)));
      continue;
    }
    const failure =
      row.status === 'cancelled'
        ? new WorkflowCancelledError(childId)
        : new WorkflowFailedError(childId, serializer.deserialize(row.error));
    await recordOutcome(
      run,
      call,
      { name, argsHash: null },
      {
        status: 'failed',
        output: null,
        error: run.serializeError(failure),
      },
    );
    throw failure;
  }
  const encoded = serializer.encode(outputs, `the outputs of the children of batch "${batch.key}"`);
  const output = await serializer.store(encoded, { runId: run.id, stepKey: key });
  await recordOutcome(run, call, { name, argsHash: null }, { status: 'completed', output, error: null });
  // What a replay will return: read back from the stored text.
  return serializer.readBack(encoded) as unknown[];
}

// Validated like startWorkflow's input; a failure names the input of the batch it is about.
function prepareBatchInput(definition: RegisteredWorkflow, index: number, input: unknown): Promise<unknown> {
  return prepareInput(definition, input).catch((error: unknown) => {
    if (!(error instanceof ValidationError)) throw error;
    const failures = error.failures.map((f) => ({ ...f, property: `inputs[${index}].${f.property}` }));
    throw new ValidationError(definition.name, failures);
  });
}
