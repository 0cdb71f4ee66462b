// Sends a failed run round again, keeping its completed checkpoints: failed and open step rows
// are deleted so those steps run again, attempt goes up, and the run is claimable at `delayMs`.
// Used by workflow-level retries (fenced on the lease) and by resume() (only from failed or cancelled).
import type { StoredValue } from '../../serialization/serializer';
import type { ZartDatabase } from '../zart-database';
import type { RunLease } from './insert-checkpoint';

const retrySql = (t: { runs: string; steps: string }) => `
WITH run AS (
  UPDATE ${t.runs}
  SET status = 'pending', attempt = attempt + 1, error = $4,
      available_at = now() + make_interval(secs => $5::double precision / 1000),
      lease_owner = NULL, lease_expires_at = NULL, updated_at = now()
  WHERE id = $1 AND lease_owner = $2 AND lease_epoch = $3 AND status = 'running'
  RETURNING id
), cleared AS (
  DELETE FROM ${t.steps} WHERE run_id IN (SELECT id FROM run) AND status NOT IN ('completed', 'sleeping')
)
SELECT id FROM run`;

const resumeSql = (t: { runs: string; steps: string }) => `
WITH run AS (
  UPDATE ${t.runs}
  SET status = 'pending', attempt = attempt + 1, error = NULL, output = NULL, finished_at = NULL,
      available_at = now(), updated_at = now(),
      -- A resumed run gets its whole timeout again, counted from now.
      deadline_at = now() + (deadline_at - created_at)
  WHERE id = $1 AND status IN ('failed', 'cancelled')
  RETURNING id
), cleared AS (
  DELETE FROM ${t.steps} WHERE run_id IN (SELECT id FROM run) AND status NOT IN ('completed', 'sleeping')
)
SELECT id FROM run`;

/** Workflow-level retry of the run this worker holds; false when the lease was lost. */
export async function retryRun(
  db: ZartDatabase,
  lease: RunLease,
  retry: { error: StoredValue; delayMs: number },
): Promise<boolean> {
  const { rowCount } = await db.query(db.sql(retrySql), [
    lease.runId,
    lease.owner,
    lease.epoch,
    JSON.stringify(retry.error),
    retry.delayMs,
  ]);
  return rowCount === 1;
}

/** Operator resume; false when the run is not failed or cancelled (or does not exist). */
export async function resumeRun(db: ZartDatabase, runId: string): Promise<boolean> {
  const { rowCount } = await db.query(db.sql(resumeSql), [runId]);
  return rowCount === 1;
}
