// cancel(): marks a run and all its descendants (children started with startChild) cancelled,
// clears their leases and bumps the epoch, so a worker executing one can write nothing more, and
// tells the workers at once (NOTIFY with the ids) so in-flight steps see their abort signal fire.
// A parent waiting on a cancelled child is woken, so its await rejects instead of waiting forever.
import type { RunStatus } from '../entities';
import type { ZartDatabase } from '../zart-database';
import { wakeUpChannel } from './notify-wake-up';

/** The LISTEN/NOTIFY channel that carries cancelled run ids, one per notification. */
export function cancelChannel(schema: string): string {
  return `zart_cancel_${schema}`;
}

// The tree and the parent of its root are locked first, in id order, as every statement that locks
// several runs does (see renew-leases.ts); the updates only touch rows locked here.
const cancelSql = (t: { runs: string }) => `
WITH RECURSIVE tree AS (
  SELECT id FROM ${t.runs} WHERE id = $1
  UNION
  SELECT child.id FROM ${t.runs} child JOIN tree ON child.parent_id = tree.id
), locked AS (
  SELECT id FROM ${t.runs}
  WHERE id IN (SELECT id FROM tree) OR id = (SELECT parent_id FROM ${t.runs} WHERE id = $1)
  ORDER BY id
  FOR UPDATE
), cancelled AS (
  UPDATE ${t.runs} r
  SET status = 'cancelled', lease_owner = NULL, lease_expires_at = NULL, lease_epoch = r.lease_epoch + 1,
      waiting_for = NULL, finished_at = now(), updated_at = now()
  FROM tree, locked
  WHERE r.id = tree.id AND r.id = locked.id AND r.status IN ('pending', 'running', 'waiting')
  RETURNING r.id, r.workflow
), parents AS (
  -- As in finish-runs.ts: the parent row is always locked, and woken only if it waits for the child.
  UPDATE ${t.runs} p
  -- A parent waiting on the child's batch is woken too: it reads the batch again, and parks again
  -- if other children of the batch are left.
  SET available_at = CASE WHEN p.status = 'waiting'
                               AND ('child:' || c.id = ANY(string_to_array(p.waiting_for, E'\\n'))
                                    OR 'children:' || child.batch_key = ANY(string_to_array(p.waiting_for, E'\\n')))
                          THEN now() ELSE p.available_at END
  FROM cancelled c JOIN ${t.runs} child ON child.id = c.id, locked
  -- A parent cancelled by this same statement is left to the cancelled CTE (one update per row).
  WHERE p.id = child.parent_id AND p.id = locked.id AND p.id NOT IN (SELECT id FROM tree)
  RETURNING p.id, p.status = 'waiting' AND p.available_at <= now() AS woken
), notified AS (
  -- One notification per run: a payload is capped at 8,000 bytes, a tree of runs is not.
  SELECT pg_notify($2, id) FROM cancelled
), woken AS (
  SELECT pg_notify($3, NULL) FROM parents WHERE parents.woken
)
SELECT (SELECT status FROM ${t.runs} WHERE id = $1) AS status,
       (SELECT count(*)::int FROM cancelled) AS cancelled,
       (SELECT coalesce(array_agg(workflow), '{}') FROM cancelled) AS workflows,
       (SELECT count(*)::int FROM notified) AS notified,
       (SELECT count(*)::int FROM woken) AS woken`;

/**
 * Returns the run's status after the statement (undefined: no such run), how many were cancelled
 * and the workflow of each (for the runs-finished metric).
 */
export async function cancelRuns(
  db: ZartDatabase,
  runId: string,
): Promise<{ status: RunStatus | undefined; cancelled: number; workflows: string[] }> {
  const { rows } = await db.query<{ status: RunStatus | null; cancelled: number; workflows: string[] }>(
    db.sql(cancelSql),
    [runId, cancelChannel(db.schema), wakeUpChannel(db.schema)],
  );
  return {
    status: rows[0]?.status ?? undefined,
    cancelled: rows[0]?.cancelled ?? 0,
    workflows: rows[0]?.workflows ?? [],
  };
}
