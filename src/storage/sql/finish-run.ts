// Records a run's final outcome, fenced on the lease: a worker that lost the run writes nothing.
import type { ZartDatabase } from '../zart-database';
import type { StoredValue } from '../../serialization/serializer';

export type RunOutcome = { status: 'completed'; output: StoredValue } | { status: 'failed'; error: StoredValue };

const finishSql = (t: { runs: string }) => `
UPDATE ${t.runs}
SET status = $4,
    output = $5,
    error = $6,
    lease_owner = NULL,
    lease_expires_at = NULL,
    finished_at = now(),
    updated_at = now()
WHERE id = $1 AND lease_owner = $2 AND lease_epoch = $3 AND status = 'running'`;

/** Returns false when the lease was lost (nothing was written). */
export async function finishRun(
  db: ZartDatabase,
  lease: { runId: string; owner: string; epoch: number },
  outcome: RunOutcome,
): Promise<boolean> {
  const { rowCount } = await db.query(db.sql(finishSql), [
    lease.runId,
    lease.owner,
    lease.epoch,
    outcome.status,
    outcome.status === 'completed' ? JSON.stringify(outcome.output) : null,
    outcome.status === 'failed' ? JSON.stringify(outcome.error) : null,
  ]);
  return rowCount === 1;
}
