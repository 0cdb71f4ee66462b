// Parks a run that waits for longer than a worker should hold it (a long sleep, an event): status
// waiting, lease cleared, claimable again at the wake time stored with its checkpoint (never, for a
// wait without a deadline, until something wakes it), at the run's deadline if that comes first, or
// at `recheckMs` for waits that should look again even if no wake-up comes. Fenced.
import type { ZartDatabase } from '../zart-database';
import type { RunLease } from './insert-checkpoint';

const suspendSql = (t: { runs: string; steps: string }) => `
UPDATE ${t.runs}
SET status = 'waiting',
    waiting_for = $5,
    available_at = least(coalesce((SELECT wake_at FROM ${t.steps} WHERE run_id = $1 AND key = $4), 'infinity'),
                         coalesce(deadline_at, 'infinity'),
                         CASE WHEN $6::double precision IS NULL THEN 'infinity'
                              ELSE now() + make_interval(secs => $6::double precision / 1000) END),
    lease_owner = NULL,
    lease_expires_at = NULL,
    updated_at = now()
WHERE id = $1 AND lease_owner = $2 AND lease_epoch = $3 AND status = 'running'`;

/** Returns false when the lease was lost (nothing was written). */
export async function suspendRun(
  db: ZartDatabase,
  lease: RunLease,
  wait: { key: string; waitingFor: string; recheckMs?: number },
): Promise<boolean> {
  const { rowCount } = await db.query(db.sql(suspendSql), [
    lease.runId,
    lease.owner,
    lease.epoch,
    wait.key,
    wait.waitingFor,
    wait.recheckMs ?? null,
  ]);
  return rowCount === 1;
}
