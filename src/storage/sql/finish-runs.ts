// Records the final outcomes of several runs in one statement (group commit, storage/group-commit.ts),
// each fenced on its own lease: a run whose lease is gone is not written, so it fails only its own
// caller. A parent parked on a run finishing here (a child started with startChild) is woken in the
// same statement and told at once (NOTIFY) — only then, so finishes that wake nobody stay free of
// NOTIFY's lock. A child of a batch (startChildren) locks and wakes its parent only when no other
// child of its batch is left: the 500 children of a batch must not queue on their parent's row.
import type { ZartDatabase } from '../zart-database';
import type { RunLease } from './insert-checkpoint';
import { wakeUpChannel } from './notify-wake-up';
import { wakeBatchParent } from './wake-batch-parent';
import type { StoredValue } from '../../serialization/serializer';

export type RunOutcome = { status: 'completed'; output: StoredValue } | { status: 'failed'; error: StoredValue };

/** One run's finish: the lease it is fenced on and its outcome. */
export interface FinishingRun {
  lease: RunLease;
  outcome: RunOutcome;
  /** Told when the look for its batch's parent after the commit failed (the run is finished). */
  onWakeFailure?: (error: unknown) => void;
}

// The runs and the parents to wake are locked first, in id order, as every statement that locks
// several runs does (renew-leases.ts, insert-checkpoints.ts): two such statements meeting on the
// same runs in other orders deadlock, and PostgreSQL broke that only after deadlock_timeout. The
// locked rows are read as last committed (FOR UPDATE waits for and returns the newest version), and
// stay so until the commit: the lease fence and each parent's wait are decided on them, and the
// updates touch nothing else.
//
// A parent is locked for a single child finishing here, and for a child of a batch only when no
// other child of the batch is unfinished apart from those finishing here: a parent parking at this
// moment then waits for this commit, and its check after parking sees the child finished
// (wake-if-wait-over.ts). It is woken if it waits for a child finished here, or for a batch whose
// every child is finished here or before.
//
// `batches` says, for each batch with a child finished here, whether another child of it is left
// unfinished in this statement's snapshot (`others_left`), and whether every such child is running
// (`others_racing`: it may be finishing in another statement at this very moment, each seeing the
// other unfinished). Then the parent is looked at again after the commit (wake-batch-parent.ts),
// so that whichever commits last sees the whole batch done. A child left pending or waiting finishes
// later and sees this one.
const finishSql = (t: { runs: string }) => `
WITH batch AS (
  SELECT * FROM unnest($1::text[], $2::text[], $3::int[], $4::text[], $5::json[], $6::json[])
    AS b(id, owner, epoch, status, output, error)
), parents_to_lock AS (
  SELECT r.parent_id AS id FROM ${t.runs} r
  WHERE r.id = ANY($1::text[]) AND r.parent_id IS NOT NULL
    AND (r.batch_key IS NULL
         OR NOT EXISTS (SELECT 1 FROM ${t.runs} s
                        WHERE s.parent_id = r.parent_id AND s.batch_key = r.batch_key
                          AND s.status IN ('pending', 'running', 'waiting') AND s.id <> ALL($1::text[])))
), locked AS (
  SELECT id, status, lease_owner, lease_epoch, parent_id, batch_key, waiting_for FROM ${t.runs}
  WHERE id = ANY($1::text[]) OR id IN (SELECT id FROM parents_to_lock)
  ORDER BY id
  FOR UPDATE
), finishing AS (
  SELECT l.id, l.parent_id, l.batch_key, b.status, b.output, b.error
  FROM locked l JOIN batch b ON b.id = l.id AND b.owner = l.lease_owner AND b.epoch = l.lease_epoch
  WHERE l.status = 'running'
), batches AS (
  SELECT f.parent_id, f.batch_key, f.child_id,
         EXISTS (SELECT 1 FROM ${t.runs} s
                 WHERE s.parent_id = f.parent_id AND s.batch_key = f.batch_key
                   AND s.status IN ('pending', 'running', 'waiting')
                   AND s.id NOT IN (SELECT id FROM finishing)) AS others_left,
         NOT EXISTS (SELECT 1 FROM ${t.runs} s
                     WHERE s.parent_id = f.parent_id AND s.batch_key = f.batch_key
                       AND s.status IN ('pending', 'waiting')
                       AND s.id NOT IN (SELECT id FROM finishing)) AS others_racing
  FROM (SELECT parent_id, batch_key, min(id) AS child_id FROM finishing
        WHERE batch_key IS NOT NULL GROUP BY parent_id, batch_key) f
), to_wake AS (
  SELECT p.id FROM locked p
  WHERE p.status = 'waiting'
    AND EXISTS (SELECT 1 FROM finishing f LEFT JOIN batches bt USING (parent_id, batch_key)
                WHERE f.parent_id = p.id
                  AND ('child:' || f.id = ANY(string_to_array(p.waiting_for, E'\\n'))
                       OR ('children:' || f.batch_key = ANY(string_to_array(p.waiting_for, E'\\n'))
                           AND NOT bt.others_left)))
), finished AS (
  UPDATE ${t.runs} r
  SET status = f.status,
      output = f.output,
      error = f.error,
      lease_owner = NULL,
      lease_expires_at = NULL,
      finished_at = now(),
      updated_at = now()
  FROM finishing f
  WHERE r.id = f.id
  RETURNING r.id, r.lease_epoch AS epoch
), woken AS (
  UPDATE ${t.runs} p
  SET available_at = now()
  FROM to_wake w
  WHERE p.id = w.id
  RETURNING p.id
), notified AS (
  SELECT pg_notify($7, NULL) WHERE EXISTS (SELECT 1 FROM woken)
)
SELECT (SELECT coalesce(json_agg(json_build_object('id', id, 'epoch', epoch)), '[]') FROM finished) AS finished,
       (SELECT coalesce(json_agg(json_build_object('parentId', parent_id, 'batchKey', batch_key, 'childId', child_id)), '[]')
        FROM batches WHERE others_left AND others_racing) AS "lookAgain",
       (SELECT count(*)::int FROM notified) AS notified`;

/** For each run, in order: whether its outcome was written (false: its lease was lost). */
export async function finishRuns(db: ZartDatabase, runs: readonly FinishingRun[]): Promise<boolean[]> {
  const { rows } = await db.query<{
    finished: Array<{ id: string; epoch: number }>;
    lookAgain: Array<{ parentId: string; batchKey: string; childId: string }>;
  }>(
    db.sql(finishSql),
    [
      runs.map((r) => r.lease.runId),
      runs.map((r) => r.lease.owner),
      runs.map((r) => r.lease.epoch),
      runs.map((r) => r.outcome.status),
      runs.map((r) => (r.outcome.status === 'completed' ? JSON.stringify(r.outcome.output) : null)),
      runs.map((r) => (r.outcome.status === 'failed' ? JSON.stringify(r.outcome.error) : null)),
      wakeUpChannel(db.schema),
    ],
    db.statementName('zart_finish_runs'),
  );
  const { finished, lookAgain } = rows[0]!;
  // By run and epoch: two executions of one run (a stale one and its successor) may share a batch.
  const written = new Set(finished.map((row) => `${row.id}/${row.epoch}`));
  const answers = runs.map((r) => written.has(`${r.lease.runId}/${r.lease.epoch}`));
  // After the commit above, so that each look sees every sibling that committed before it; one per
  // batch, however many of its children finished here. Its failure loses nothing the runs need: the
  // parked parent looks again by itself (every 5 s). Not thrown: the finishes committed, and a retry
  // would find them done and answer that their leases were lost.
  await Promise.all(
    lookAgain.map(({ parentId, batchKey, childId }) =>
      wakeBatchParent(db, parentId, batchKey).catch((error: unknown) =>
        runs.find((r, i) => answers[i] && r.lease.runId === childId)?.onWakeFailure?.(error),
      ),
    ),
  );
  return answers;
}
