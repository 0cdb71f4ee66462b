// startChildren: inserts a whole batch of child runs (parent_id and batch_key set, deterministic
// ids) and the one checkpoint that records their ids, in one statement fenced on the parent's
// lease. All or nothing: a batch whose ids any run already has inserts no child, so a parent killed
// mid-batch has started either every child of the batch or none, and its replay starts the same
// ids. One statement instead of one per child: W5 (docs/performance.md) spent most of its time on
// per-child starts. Where the parent's worker has room, the first children of the batch (as many
// as it holds slots for) are inserted claimed by it, as startWorkflow's starts are (insert-runs.ts):
// running, leased at epoch 1, executed at once without a claim round, unless a due run waits in
// their queue at their priority (0) or above, which must go first.
import { LeaseLostError } from '../../errors';
import type { StoredValue } from '../../serialization/serializer';
import type { ZartDatabase } from '../zart-database';
import type { ChildStartCheckpoint } from './insert-child-run';
import type { RunLease } from './insert-checkpoint';
import type { NewRun } from './insert-run';
import type { StartClaim } from './insert-runs';

// `taken` reads the batch's ids first: one of them taken (a retry of this very statement after a
// lost reply, or another run's id) inserts nothing. A run committing one of the ids after this
// statement's snapshot makes the insert fail on the primary key, and the statement is run again.
// `claimable` is how many children go to the worker $18 ($20 slots; 0 without a claim): the due
// runs ahead of them are found through runs_claimable_idx, as the claim finds them.
const insertSql = (t: { runs: string; steps: string }) => `
WITH fence AS (
  SELECT id, deadline_at FROM ${t.runs}
  WHERE id = $1 AND lease_owner = $2 AND lease_epoch = $3
  FOR SHARE
), taken AS (
  SELECT id, workflow, parent_id FROM ${t.runs} WHERE id = ANY($7::text[]) LIMIT 1
), claimable AS (
  SELECT CASE WHEN $18::text IS NULL OR EXISTS (
                SELECT 1 FROM ${t.runs} q
                WHERE q.status IN ('pending', 'waiting') AND q.available_at <= now()
                  AND q.queue = $10 AND q.priority >= 0
              ) THEN 0 ELSE $20::int END AS n
), children AS (
  INSERT INTO ${t.runs} (id, workflow, version, status, queue, input, parent_id, batch_key, available_at, deadline_at,
                         trace_context, lease_owner, lease_epoch, lease_expires_at, started_at)
  SELECT batch.id, $8, $9, CASE WHEN batch.n <= claimable.n THEN 'running' ELSE 'pending' END, $10, batch.input::json,
         fence.id, $4, now(),
         least(CASE WHEN $12::double precision IS NULL THEN NULL
                    ELSE now() + make_interval(secs => $12::double precision / 1000) END,
               fence.deadline_at),
         $15,
         CASE WHEN batch.n <= claimable.n THEN $18 END, CASE WHEN batch.n <= claimable.n THEN 1 ELSE 0 END,
         CASE WHEN batch.n <= claimable.n THEN now() + make_interval(secs => $19::double precision / 1000) END,
         CASE WHEN batch.n <= claimable.n THEN now() END
  FROM fence, claimable, unnest($7::text[], $11::text[]) WITH ORDINALITY AS batch(id, input, n)
  WHERE NOT EXISTS (SELECT 1 FROM taken)
  RETURNING id, status = 'running' AS claimed, (extract(epoch FROM deadline_at - now()) * 1000)::float8 AS deadline_in_ms
), recorded AS (
  INSERT INTO ${t.steps} (run_id, key, seq, sequential, completion_seq, name, args_hash, status, output, attempts, started_at, finished_at)
  SELECT fence.id, $4, $5, $16, $17, $6, $13, 'completed', $14, 1, now(), now() FROM fence
  WHERE NOT EXISTS (SELECT 1 FROM taken)
  ON CONFLICT (run_id, key) DO NOTHING
)
SELECT (SELECT count(*)::int FROM fence) AS fenced,
       (SELECT count(*)::int FROM children) AS inserted,
       (SELECT coalesce(json_agg(json_build_object('id', id, 'deadlineInMs', deadline_in_ms)), '[]')
        FROM children WHERE claimed) AS claimed,
       taken.id AS "takenId", taken.workflow AS "existingWorkflow", taken.parent_id AS "existingParent"
FROM (SELECT 1) one
LEFT JOIN taken ON true`;

/** The children of one batch: one workflow, one id and one input per child. */
export interface NewChildBatch extends Omit<NewRun, 'id' | 'input'> {
  ids: readonly string[];
  inputs: readonly StoredValue[];
}

/**
 * What became of the batch: every child started now (`claimed`: those inserted claimed by the
 * worker that asked, with their deadlines by the database clock), or none because `takenId` was taken.
 */
export type ChildBatchStart =
  | { started: true; claimed: ClaimedChild[] }
  | { started: false; takenId: string; existingWorkflow: string; existingParent: string | null };

/** A child inserted claimed: its id, and milliseconds to its deadline (null without one). */
export interface ClaimedChild {
  id: string;
  deadlineInMs: number | null;
}

export async function insertChildRuns(
  db: ZartDatabase,
  lease: RunLease,
  checkpoint: ChildStartCheckpoint,
  batch: NewChildBatch,
  claim: StartClaim | null,
): Promise<ChildBatchStart> {
  for (;;) {
    try {
      return await tryInsertChildRuns(db, lease, checkpoint, batch, claim);
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
  claim: StartClaim | null,
): Promise<ChildBatchStart> {
  const { rows } = await db.query<{
    fenced: number;
    inserted: number;
    claimed: ClaimedChild[];
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
    claim?.owner ?? null,
    claim?.leaseMs ?? null,
    claim?.slots ?? 0,
  ]);
  const row = rows[0];
  if (row?.fenced !== 1) throw new LeaseLostError(lease.runId);
  if (row.takenId === null || row.existingWorkflow === null) return { started: true, claimed: row.claimed };
  return {
    started: false,
    takenId: row.takenId,
    existingWorkflow: row.existingWorkflow,
    existingParent: row.existingParent,
  };
}
