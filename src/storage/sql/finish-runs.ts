// Records the final outcomes of several runs without a parent in one statement (group commit,
// storage/group-commit.ts), each fenced on its own lease: a run whose lease is gone is not written
// and not returned, so it fails only its own caller. A child run finishes alone (finish-run.ts),
// as its parent is woken in the same statement.
import type { ZartDatabase } from '../zart-database';
import type { RunOutcome } from './finish-run';
import type { RunLease } from './insert-checkpoint';

/** One run's finish: the lease it is fenced on and its outcome. */
export interface FinishingRun {
  lease: RunLease;
  outcome: RunOutcome;
}

// The runs are locked first, in id order, as every statement that locks several runs does
// (renew-leases.ts, insert-checkpoints.ts): two such statements meeting on the same runs in other
// orders deadlock. The update joins the locked rows, so it locks nothing else.
const finishSql = (t: { runs: string }) => `
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
SET status = b.status,
    output = b.output,
    error = b.error,
    lease_owner = NULL,
    lease_expires_at = NULL,
    finished_at = now(),
    updated_at = now()
FROM batch b, locked
WHERE r.id = locked.id AND r.id = b.id AND r.lease_owner = b.owner AND r.lease_epoch = b.epoch AND r.status = 'running'
RETURNING r.id, r.lease_epoch AS epoch`;

/** For each run, in order: whether its outcome was written (false: its lease was lost). */
export async function finishRuns(db: ZartDatabase, runs: readonly FinishingRun[]): Promise<boolean[]> {
  const { rows } = await db.query<{ id: string; epoch: number }>(
    db.sql(finishSql),
    [
      runs.map((r) => r.lease.runId),
      runs.map((r) => r.lease.owner),
      runs.map((r) => r.lease.epoch),
      runs.map((r) => r.outcome.status),
      runs.map((r) => (r.outcome.status === 'completed' ? JSON.stringify(r.outcome.output) : null)),
      runs.map((r) => (r.outcome.status === 'failed' ? JSON.stringify(r.outcome.error) : null)),
    ],
    db.statementName('zart_finish_runs'),
  );
  // By run and epoch: two executions of one run (a stale one and its successor) may share a batch.
  const written = new Set(rows.map((row) => `${row.id}/${row.epoch}`));
  return runs.map((r) => written.has(`${r.lease.runId}/${r.lease.epoch}`));
}
