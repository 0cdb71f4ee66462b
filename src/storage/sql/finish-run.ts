// Records a run's final outcome, fenced on the lease: a worker that lost the run writes nothing.
// A parent run parked on this one (a child started with startChild) is woken in the same statement,
// and told at once (NOTIFY) — only then, so the plain finish path stays free of NOTIFY's lock.
// A child of a batch (startChildren) locks and wakes its parent only when no other child of its
// batch is left: the 500 children of a batch must not queue on their parent's row one by one.
import type { ZartDatabase } from '../zart-database';
import { wakeUpChannel } from './notify-wake-up';
import { wakeBatchParent } from './wake-batch-parent';
import type { StoredValue } from '../../serialization/serializer';

export type RunOutcome = { status: 'completed'; output: StoredValue } | { status: 'failed'; error: StoredValue };

// The run and its parent are locked first, in id order, as every statement that locks several
// runs does (renew-leases.ts): a worker renewing both while one finishes deadlocked otherwise, and
// PostgreSQL broke that only after deadlock_timeout, losing a whole renewal round. The updates
// below join the locked rows, so they lock nothing else and nothing out of order.
//
// For a child of a batch, `batch` says whether another child of the batch is unfinished (`others_left`),
// and whether every such child is running (`others_racing`: they may be finishing at this very moment,
// each seeing the others unfinished in its snapshot). Not the last: the parent is not locked, and
// a racing child looks again after its commit (wake-batch-parent.ts), so the child that commits
// last sees the whole batch done. A child left pending or waiting finishes later and sees this one.
const finishSql = (t: { runs: string }) => `
WITH me AS (
  SELECT parent_id, batch_key FROM ${t.runs} WHERE id = $1
), batch AS (
  SELECT EXISTS (SELECT 1 FROM ${t.runs} s, me
                 WHERE s.parent_id = me.parent_id AND s.batch_key = me.batch_key AND s.id <> $1
                   AND s.status IN ('pending', 'running', 'waiting')) AS others_left,
         NOT EXISTS (SELECT 1 FROM ${t.runs} s, me
                     WHERE s.parent_id = me.parent_id AND s.batch_key = me.batch_key
                       AND s.status IN ('pending', 'waiting')) AS others_racing
  FROM me WHERE me.batch_key IS NOT NULL
), locked AS (
  SELECT id FROM ${t.runs}
  WHERE id = $1 OR id = (SELECT parent_id FROM me WHERE NOT coalesce((SELECT others_left FROM batch), false))
  ORDER BY id
  FOR UPDATE
), finished AS (
  UPDATE ${t.runs} r
  SET status = $4,
      output = $5,
      error = $6,
      lease_owner = NULL,
      lease_expires_at = NULL,
      finished_at = now(),
      updated_at = now()
  FROM locked
  WHERE r.id = locked.id AND r.id = $1 AND r.lease_owner = $2 AND r.lease_epoch = $3 AND r.status = 'running'
  RETURNING r.id, r.parent_id, r.batch_key
), parent AS (
  -- The parent row is always updated (so locked), waiting or not, unless other children of this
  -- one's batch are left: a parent parking on this child (or its batch) at this moment then waits
  -- for this commit, and its check after parking sees the child finished (wake-if-wait-over.ts).
  -- Only a parent waiting for this child, or for this child's batch, is woken.
  UPDATE ${t.runs} p
  SET available_at = CASE WHEN p.status = 'waiting'
                               AND ('child:' || finished.id = ANY(string_to_array(p.waiting_for, E'\\n'))
                                    OR 'children:' || finished.batch_key = ANY(string_to_array(p.waiting_for, E'\\n')))
                          THEN now() ELSE p.available_at END
  FROM finished, locked
  WHERE p.id = finished.parent_id AND p.id = locked.id
  RETURNING p.id, p.available_at <= now() AND p.status = 'waiting' AS woken
), notified AS (
  SELECT pg_notify($7, NULL) FROM parent WHERE woken
)
SELECT (SELECT count(*)::int FROM finished) AS finished, (SELECT count(*)::int FROM notified) AS woken,
       (SELECT others_left AND others_racing FROM batch) AS "lookAgain", (SELECT parent_id FROM me) AS "parentId",
       (SELECT batch_key FROM me) AS "batchKey"`;

/** Returns false when the lease was lost (nothing was written). */
/** `onWakeFailure`: told when the post-commit look for a batch's parent failed (the run is finished). */
export async function finishRun(
  db: ZartDatabase,
  lease: { runId: string; owner: string; epoch: number },
  outcome: RunOutcome,
  onWakeFailure: (error: unknown) => void,
): Promise<boolean> {
  const { rows } = await db.query<{
    finished: number;
    lookAgain: boolean | null;
    parentId: string | null;
    batchKey: string | null;
  }>(db.sql(finishSql), [
    lease.runId,
    lease.owner,
    lease.epoch,
    outcome.status,
    outcome.status === 'completed' ? JSON.stringify(outcome.output) : null,
    outcome.status === 'failed' ? JSON.stringify(outcome.error) : null,
    wakeUpChannel(db.schema),
  ]);
  const row = rows[0];
  if (row?.finished !== 1) return false;
  // After the commit above, so that this statement sees every sibling that committed before it.
  // Its failure loses nothing the run needs: the parked parent looks again by itself (every 5 s).
  // Not thrown: the finish committed, and a retry of this function would find it done.
  if (row.lookAgain && row.parentId !== null && row.batchKey !== null)
    await wakeBatchParent(db, row.parentId, row.batchKey).catch(onWakeFailure);
  return true;
}
