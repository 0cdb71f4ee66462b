// startChild: inserts the child run (parent_id set, idempotent on its deterministic id) and the
// checkpoint that records the child's id, in one statement fenced on the parent's lease, so a
// child is started exactly once whatever happens to the parent's process. The child's deadline is
// never later than its parent's: a parent past its deadline leaves no child running on.
import { LeaseLostError } from '../../errors';
import type { StoredValue } from '../../serialization/serializer';
import type { ZartDatabase } from '../zart-database';
import type { RunLease } from './insert-checkpoint';
import type { NewRun } from './insert-run';

const insertSql = (t: { runs: string; steps: string }) => `
WITH fence AS (
  SELECT id, deadline_at FROM ${t.runs}
  WHERE id = $1 AND lease_owner = $2 AND lease_epoch = $3
  FOR SHARE
), child AS (
  INSERT INTO ${t.runs} (id, workflow, version, status, queue, input, parent_id, available_at, deadline_at, trace_context)
  SELECT $7, $8, $9, 'pending', $10, $11, fence.id, now(),
         least(CASE WHEN $12::double precision IS NULL THEN NULL
                    ELSE now() + make_interval(secs => $12::double precision / 1000) END,
               fence.deadline_at),
         $15
  FROM fence
  ON CONFLICT (id) DO NOTHING
  RETURNING id
), recorded AS (
  INSERT INTO ${t.steps} (run_id, key, seq, sequential, completion_seq, name, args_hash, status, output, attempts, started_at, finished_at)
  SELECT fence.id, $4, $5, $16, $17, $6, $13, 'completed', $14, 1, now(), now() FROM fence
  WHERE EXISTS (SELECT 1 FROM child)
  ON CONFLICT (run_id, key) DO NOTHING
)
SELECT (SELECT count(*)::int FROM fence) AS fenced,
       (SELECT count(*)::int FROM child) AS inserted,
       existing.workflow AS "existingWorkflow", existing.parent_id AS "existingParent"
FROM (SELECT 1) one
LEFT JOIN ${t.runs} existing ON existing.id = $7 AND NOT EXISTS (SELECT 1 FROM child)`;

/** What became of the child's id: started now, or already taken by another run. */
export type ChildStart =
  { started: true } | { started: false; existingWorkflow: string; existingParent: string | null };

/** The parent's checkpoint that records the child's id (or, for startChildren, the batch's ids). */
export interface ChildStartCheckpoint {
  key: string;
  seq: number;
  sequential: boolean;
  completionSeq: number;
  name: string;
  argsHash: string | null;
  output: StoredValue;
}

export async function insertChildRun(
  db: ZartDatabase,
  lease: RunLease,
  checkpoint: ChildStartCheckpoint,
  child: NewRun,
): Promise<ChildStart> {
  for (;;) {
    const started = await tryInsertChildRun(db, lease, checkpoint, child);
    // Taken by a run that committed after the statement's snapshot: the next statement sees it.
    if (started) return started;
  }
}

async function tryInsertChildRun(
  db: ZartDatabase,
  lease: RunLease,
  checkpoint: ChildStartCheckpoint,
  child: NewRun,
): Promise<ChildStart | undefined> {
  const { rows } = await db.query<{
    fenced: number;
    inserted: number;
    existingWorkflow: string | null;
    existingParent: string | null;
  }>(db.sql(insertSql), [
    lease.runId,
    lease.owner,
    lease.epoch,
    checkpoint.key,
    checkpoint.seq,
    checkpoint.name,
    child.id,
    child.workflow,
    child.version,
    child.queue,
    JSON.stringify(child.input),
    child.timeoutMs,
    checkpoint.argsHash,
    JSON.stringify(checkpoint.output),
    child.traceContext && JSON.stringify(child.traceContext),
    checkpoint.sequential,
    checkpoint.completionSeq,
  ]);
  const row = rows[0];
  if (row?.fenced !== 1) throw new LeaseLostError(lease.runId);
  if (row.inserted === 1) return { started: true };
  if (row.existingWorkflow === null) return undefined;
  return { started: false, existingWorkflow: row.existingWorkflow, existingParent: row.existingParent };
}
