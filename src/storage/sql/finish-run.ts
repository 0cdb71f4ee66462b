// Records a run's final outcome, fenced on the lease: a worker that lost the run writes nothing.
// A parent run parked on this one (a child started with startChild) is woken in the same statement,
// and told at once (NOTIFY) — only then, so the plain finish path stays free of NOTIFY's lock.
import type { ZartDatabase } from '../zart-database';
import { wakeUpChannel } from './notify-wake-up';
import type { StoredValue } from '../../serialization/serializer';

export type RunOutcome = { status: 'completed'; output: StoredValue } | { status: 'failed'; error: StoredValue };

// The run and its parent are locked first, in id order, as every statement that locks several
// runs does (renew-leases.ts): a worker renewing both while one finishes deadlocked otherwise, and
// PostgreSQL broke that only after deadlock_timeout, losing a whole renewal round. The updates
// below join the locked rows, so they lock nothing else and nothing out of order.
const finishSql = (t: { runs: string }) => `
WITH locked AS (
  SELECT id FROM ${t.runs}
  WHERE id = $1 OR id = (SELECT parent_id FROM ${t.runs} WHERE id = $1)
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
  RETURNING r.id, r.parent_id
), parent AS (
  -- The parent row is always updated (so locked), waiting or not: a parent parking on this child
  -- at this moment then waits for this commit, and its check after parking sees the child
  -- finished (see wake-if-wait-over.ts). Only a parent waiting for this child is woken.
  UPDATE ${t.runs} p
  SET available_at = CASE WHEN p.status = 'waiting' AND 'child:' || finished.id = ANY(string_to_array(p.waiting_for, E'\\n'))
                          THEN now() ELSE p.available_at END
  FROM finished, locked
  WHERE p.id = finished.parent_id AND p.id = locked.id
  RETURNING p.id, p.available_at <= now() AND p.status = 'waiting' AS woken
), notified AS (
  SELECT pg_notify($7, NULL) FROM parent WHERE woken
)
SELECT (SELECT count(*)::int FROM finished) AS finished, (SELECT count(*)::int FROM notified) AS woken`;

/** Returns false when the lease was lost (nothing was written). */
export async function finishRun(
  db: ZartDatabase,
  lease: { runId: string; owner: string; epoch: number },
  outcome: RunOutcome,
): Promise<boolean> {
  const { rows } = await db.query<{ finished: number }>(db.sql(finishSql), [
    lease.runId,
    lease.owner,
    lease.epoch,
    outcome.status,
    outcome.status === 'completed' ? JSON.stringify(outcome.output) : null,
    outcome.status === 'failed' ? JSON.stringify(outcome.error) : null,
    wakeUpChannel(db.schema),
  ]);
  return rows[0]?.finished === 1;
}
