// Records the final outcomes of several runs in one statement (group commit, storage/group-commit.ts),
// each fenced on its own lease: a run whose lease is gone is not written, so it fails only its own
// caller. A parent parked on a run finishing here (a child started with startChild) is woken in the
// same statement and told at once (NOTIFY) — only then, so finishes that wake nobody stay free of
// NOTIFY's lock. A child of a batch (startChildren) locks and wakes its parent only when no other
// child of its batch is left: the 500 children of a batch must not queue on their parent's row.
import type { ZartDatabase } from '../zart-database';
import type { RunLease } from './insert-checkpoint';
import { wakeUpChannel } from './notify-wake-up';
import type { StoredValue } from '../../serialization/serializer';

export type RunOutcome = { status: 'completed'; output: StoredValue } | { status: 'failed'; error: StoredValue };

/** One run's finish: the lease it is fenced on and its outcome. */
export interface FinishingRun {
  lease: RunLease;
  outcome: RunOutcome;
  /** Told when the look at its batch's parent after the commit failed (the run is finished). */
  onWakeFailure?: (error: unknown) => void;
  /** The run's parent: null when it has none, undefined when not known (taken as possibly one). */
  parentId?: string | null;
}

// What a finish sets on a run, from the row `from` (its outcome): both statements below finish
// a run the same way.
const finishAssignments = (from: string): string => `status = ${from}.status,
    output = ${from}.output,
    error = ${from}.error,
    lease_owner = NULL,
    lease_expires_at = NULL,
    finished_at = now(),
    updated_at = now()`;

// A batch of runs known to have no parent, with no batch to look at again, finishes with this one:
// nothing to wake, so nothing of the statement below but the fenced update. That statement's
// custom plans cost 1 to 1.5 ms of planning each (W1: a lone run's finish took 1.8 ms, the
// connection not having run it five times yet); this one plans in a tenth of that.
const finishParentlessSql = (t: { runs: string }) => `
WITH batch AS (
  SELECT * FROM unnest($1::text[], $2::text[], $3::int[], $4::text[], $5::json[], $6::json[])
    AS b(id, owner, epoch, status, output, error)
), locked AS (
  SELECT id FROM ${t.runs}
  WHERE id = ANY($1::text[])
  ORDER BY id
  FOR UPDATE
)
UPDATE ${t.runs} r
SET ${finishAssignments('b')}
FROM batch b, locked
WHERE r.id = locked.id AND r.id = b.id AND r.lease_owner = b.owner AND r.lease_epoch = b.epoch AND r.status = 'running'
RETURNING r.id, r.lease_epoch AS epoch`;

// A lone run known to have no parent, with no batch to look at, finishes with a plain fenced
// update of its row: the batch statement's unnest and its lock of the rows in id order (against
// deadlocks between batches) cost a lone finish twice the round trip of a checkpoint (W1 end to
// end), and a statement that locks one row cannot deadlock.
const finishOneSql = (t: { runs: string }) => `
UPDATE ${t.runs} r
SET ${finishAssignments('b')}
FROM (VALUES ($4::text, $5::json, $6::json)) AS b(status, output, error)
WHERE r.id = $1 AND r.lease_owner = $2 AND r.lease_epoch = $3 AND r.status = 'running'
RETURNING r.id, r.lease_epoch AS epoch`;

/** A batch of children to look at again: its parent is woken if it waits for the batch and none is left. */
export interface BatchLook {
  parentId: string;
  batchKey: string;
}

// The runs and the parents to wake are locked first, in id order, as every statement that locks
// several runs does (renew-leases.ts, insert-checkpoints.ts): two such statements meeting on the
// same runs in other orders deadlock, and PostgreSQL broke that only after deadlock_timeout. The
// locked rows are read as last committed (FOR UPDATE waits for and returns the newest version), and
// stay so until the commit: the lease fence and each parent's wait are decided on them, and the
// updates touch nothing else.
//
// A parent is locked for a single child finishing here, and for a batch (of a child finishing
// here, or looked at again) only when none of its children is unfinished apart from those finishing
// here: a parent parking at this moment then waits for this commit, and its check after parking
// sees the children finished (wake-if-wait-over.ts). It is woken if it waits for a child finished
// here, or for a batch whose every child is finished here or before.
//
// Children of one batch finishing in statements that run at once each see the others unfinished
// (`others_left`), and none wakes the parent. So a statement that finished a child of a batch with
// others left asks for a look at the batch again (`lookAgain`), in a statement sent after this one
// committed (finish-writer.ts): the look after the statement that commits last sees every child
// finished, and locks and wakes the parent. A look again is never itself looked at again.
/** @internal The statement text, exported for EXPLAIN in tests. */
export const finishSql = (t: { runs: string }) => `
WITH batch AS (
  SELECT * FROM unnest($1::text[], $2::text[], $3::int[], $4::text[], $5::json[], $6::json[])
    AS b(id, owner, epoch, status, output, error)
), involved AS (
  SELECT parent_id, batch_key FROM ${t.runs} WHERE id = ANY($1::text[]) AND batch_key IS NOT NULL
  UNION
  SELECT * FROM unnest($8::text[], $9::text[]) AS look(parent_id, batch_key)
), parents_to_lock AS (
  SELECT parent_id AS id FROM ${t.runs} WHERE id = ANY($1::text[]) AND parent_id IS NOT NULL AND batch_key IS NULL
  UNION
  SELECT i.parent_id FROM involved i
  WHERE NOT EXISTS (SELECT 1 FROM ${t.runs} s
                    WHERE s.parent_id = i.parent_id AND s.batch_key = i.batch_key
                      AND s.status IN ('pending', 'running', 'waiting') AND s.id <> ALL($1::text[]))
), locked AS (
  SELECT id, status, lease_owner, lease_epoch, parent_id, batch_key, waiting_for FROM ${t.runs}
  -- One list of ids, not "id = ANY(...) OR id IN (...)": PostgreSQL reads an OR across a
  -- subquery with a scan of the whole table (1.7 ms a finish with 20,000 runs kept, growing).
  WHERE id IN (SELECT unnest($1::text[]) UNION SELECT id FROM parents_to_lock)
  ORDER BY id
  FOR UPDATE
), finishing AS (
  SELECT l.id, l.parent_id, l.batch_key, b.status, b.output, b.error
  FROM locked l JOIN batch b ON b.id = l.id AND b.owner = l.lease_owner AND b.epoch = l.lease_epoch
  WHERE l.status = 'running'
), batches AS (
  SELECT i.parent_id, i.batch_key,
         EXISTS (SELECT 1 FROM ${t.runs} s
                 WHERE s.parent_id = i.parent_id AND s.batch_key = i.batch_key
                   AND s.status IN ('pending', 'running', 'waiting')
                   AND s.id NOT IN (SELECT id FROM finishing)) AS others_left,
         (SELECT min(f.id) FROM finishing f
          WHERE f.parent_id = i.parent_id AND f.batch_key = i.batch_key) AS finished_child
  FROM involved i
), to_wake AS (
  SELECT p.id FROM locked p
  WHERE p.status = 'waiting'
    AND (EXISTS (SELECT 1 FROM finishing f
                 WHERE f.parent_id = p.id AND 'child:' || f.id = ANY(string_to_array(p.waiting_for, E'\\n')))
         OR EXISTS (SELECT 1 FROM batches bt
                    WHERE bt.parent_id = p.id AND NOT bt.others_left
                      AND 'children:' || bt.batch_key = ANY(string_to_array(p.waiting_for, E'\\n'))))
), finished AS (
  UPDATE ${t.runs} r
  SET ${finishAssignments('f')}
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
       (SELECT coalesce(json_agg(json_build_object('parentId', parent_id, 'batchKey', batch_key,
                                                   'finishedChild', finished_child)), '[]')
        FROM batches WHERE others_left AND finished_child IS NOT NULL) AS "lookAgain",
       (SELECT count(*)::int FROM notified) AS notified`;

/** A batch to look at again after the commit, and the run finished here that asked for it. */
export interface LookAgain extends BatchLook {
  finishedChild: string;
}

/**
 * For each run, in order: whether its outcome was written (false: its lease was lost); and the
 * batches to look at again once this statement committed. `looks`: batches looked at again here.
 */
export async function finishRuns(
  db: ZartDatabase,
  runs: readonly FinishingRun[],
  looks: readonly BatchLook[] = [],
): Promise<{ written: boolean[]; lookAgain: LookAgain[] }> {
  const outcomes = [
    runs.map((r) => r.lease.runId),
    runs.map((r) => r.lease.owner),
    runs.map((r) => r.lease.epoch),
    runs.map((r) => r.outcome.status),
    runs.map((r) => (r.outcome.status === 'completed' ? JSON.stringify(r.outcome.output) : null)),
    runs.map((r) => (r.outcome.status === 'failed' ? JSON.stringify(r.outcome.error) : null)),
  ];
  // By run and epoch: two executions of one run (a stale one and its successor) may share a batch.
  const writtenOf = (finished: ReadonlyArray<{ id: string; epoch: number }>): boolean[] => {
    const written = new Set(finished.map((row) => `${row.id}/${row.epoch}`));
    return runs.map((r) => written.has(`${r.lease.runId}/${r.lease.epoch}`));
  };
  if (looks.length === 0 && runs.every((r) => r.parentId === null)) {
    const alone = runs.length === 1;
    const { rows } = await db.query<{ id: string; epoch: number }>(
      db.sql(alone ? finishOneSql : finishParentlessSql),
      alone ? outcomes.map((column) => column[0]) : outcomes,
      db.statementName(alone ? 'zart_finish_run' : 'zart_finish_parentless'),
    );
    return { written: writtenOf(rows), lookAgain: [] };
  }
  const { rows } = await db.query<{ finished: Array<{ id: string; epoch: number }>; lookAgain: LookAgain[] }>(
    db.sql(finishSql),
    [...outcomes, wakeUpChannel(db.schema), looks.map((l) => l.parentId), looks.map((l) => l.batchKey)],
    db.statementName('zart_finish_runs'),
  );
  const { finished, lookAgain } = rows[0]!;
  return { written: writtenOf(finished), lookAgain };
}
