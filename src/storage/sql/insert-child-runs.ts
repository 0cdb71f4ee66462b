// startChildren: inserts a whole batch of child runs (parent_id and batch_key set, deterministic
// ids) and the one checkpoint that records their ids, in one statement fenced on the parent's
// lease. All or nothing: a batch whose ids any run already has inserts no child, so a parent killed
// mid-batch has started either every child of the batch or none, and its replay starts the same
// ids. One statement instead of one per child: W5 (docs/performance.md) spent most of its time on
// per-child starts.
import { LeaseLostError } from '../../errors';
import type { StoredValue } from '../../serialization/serializer';
import type { ZartDatabase } from '../zart-database';
import type { ChildStartCheckpoint } from './insert-child-run';
import type { RunLease } from './insert-checkpoint';
import type { NewRun } from './insert-run';

// `taken` reads the batch's ids first: one of them taken (a retry of this very statement after a
// lost reply, or another run's id) inserts nothing. A run committing one of the ids after this
// statement's snapshot makes the insert fail on the primary key, and the statement is run again.
const insertSql = (t: { runs: string; steps: string }) => `
WITH fence AS (
  SELECT id, deadline_at FROM ${t.runs}
  WHERE id = $1 AND lease_owner = $2 AND lease_epoch = $3
  FOR SHARE
), taken AS (
  SELECT id, workflow, parent_id FROM ${t.runs} WHERE id = ANY($7::text[]) LIMIT 1
), children AS (
  INSERT INTO ${t.runs} (id, workflow, version, status, queue, input, parent_id, batch_key, available_at, deadline_at, trace_context)
  SELECT batch.id, $8, $9, 'pending', $10, batch.input::json, fence.id, $4, now(),
         least(CASE WHEN $12::double precision IS NULL THEN NULL
                    ELSE now() + make_interval(secs => $12::double precision / 1000) END,
               fence.deadline_at),
         $15
  FROM fence, unnest($7::text[], $11::text[]) AS batch(id, input)
  WHERE NOT EXISTS (SELECT 1 FROM taken)
  RETURNING 1
), recorded AS (
  INSERT INTO ${t.steps} (run_id, key, seq, sequential, completion_seq, name, args_hash, status, output, attempts, started_at, finished_at)
  SELECT fence.id, $4, $5, $16, $17, $6, $13, 'completed', $14, 1, now(), now() FROM fence
  WHERE NOT EXISTS (SELECT 1 FROM taken)
  ON CONFLICT (run_id, key) DO NOTHING
)
SELECT (SELECT count(*)::int FROM fence) AS fenced,
       (SELECT count(*)::int FROM children) AS inserted,
       taken.id AS "takenId", taken.workflow AS "existingWorkflow", taken.parent_id AS "existingParent"
FROM (SELECT 1) one
LEFT JOIN taken ON true`;

/** The children of one batch: one workflow, one id and one input per child. */
export interface NewChildBatch extends Omit<NewRun, 'id' | 'input'> {
  ids: readonly string[];
  inputs: readonly StoredValue[];
}

/** What became of the batch: every child started now, or none because `takenId` was taken. */
export type ChildBatchStart =
  { started: true } | { started: false; takenId: string; existingWorkflow: string; existingParent: string | null };

export async function insertChildRuns(
  db: ZartDatabase,
  lease: RunLease,
  checkpoint: ChildStartCheckpoint,
  batch: NewChildBatch,
): Promise<ChildBatchStart> {
  for (;;) {
    try {
      return await tryInsertChildRuns(db, lease, checkpoint, batch);
    } catch (error) {
      // An id taken by a run that committed after the statement's snapshot: the next one sees it.
      if ((error as { code?: unknown }).code !== '23505') throw error;
    }
  }
}

async function tryInsertChildRuns(
  db: ZartDatabase,
  lease: RunLease,
  checkpoint: ChildStartCheckpoint,
  batch: NewChildBatch,
): Promise<ChildBatchStart> {
  const { rows } = await db.query<{
    fenced: number;
    inserted: number;
    takenId: string | null;
    existingWorkflow: string | null;
    existingParent: string | null;
  }>(db.sql(insertSql), [
    lease.runId,
    lease.owner,
    lease.epoch,
    checkpoint.key,
    checkpoint.seq,
    checkpoint.name,
    batch.ids,
    batch.workflow,
    batch.version,
    batch.queue,
    batch.inputs.map((input) => JSON.stringify(input)),
    batch.timeoutMs,
    checkpoint.argsHash,
    JSON.stringify(checkpoint.output),
    batch.traceContext && JSON.stringify(batch.traceContext),
    checkpoint.sequential,
    checkpoint.completionSeq,
  ]);
  const row = rows[0];
  if (row?.fenced !== 1) throw new LeaseLostError(lease.runId);
  if (row.takenId === null || row.existingWorkflow === null) return { started: true };
  return {
    started: false,
    takenId: row.takenId,
    existingWorkflow: row.existingWorkflow,
    existingParent: row.existingParent,
  };
}
