// Parks a run that waits for longer than a worker should hold it (a long sleep, an event, a child):
// status waiting, lease cleared, claimable again at the earliest wake time stored with the
// checkpoints it waits on (never, for waits without one, until something wakes it), at the run's
// deadline if that comes first, or at `recheckMs` for waits that should look again even if no
// wake-up comes. `waiting_for` holds one line per wait ('event:<name>', 'child:<id>', 'sleep'):
// senders and finishing children wake the run when their line is there. Fenced.
import type { ZartDatabase } from '../zart-database';
import type { RunLease } from './insert-checkpoint';

const suspendSql = (t: { runs: string; steps: string }) => `
UPDATE ${t.runs}
SET status = 'waiting',
    waiting_for = $5,
    available_at = least(coalesce((SELECT min(wake_at) FROM ${t.steps} WHERE run_id = $1 AND key = ANY($4::text[])), 'infinity'),
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
  wait: { keys: readonly string[]; waitingFor: readonly string[]; recheckMs: number | null },
): Promise<boolean> {
  const { rowCount } = await db.query(db.sql(suspendSql), [
    lease.runId,
    lease.owner,
    lease.epoch,
    wait.keys,
    wait.waitingFor.join('\n'),
    wait.recheckMs,
  ]);
  return rowCount === 1;
}
