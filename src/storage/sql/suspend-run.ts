// Parks a run that waits for longer than a worker should hold it (a long sleep, an event, a child):
// status waiting, lease cleared, claimable again at the earliest wake time stored with the
// checkpoints it waits on (never, for waits without one, until something wakes it), at the run's
// deadline if that comes first, or at `recheckMs` for waits that should look again even if no
// wake-up comes. `waiting_for` holds one line per wait ('event:<name>', 'child:<id>', 'sleep'):
// senders and finishing children wake the run when their line is there. Fenced.
//
// In the same transaction, a second statement (wake-if-wait-over.ts) wakes the run at once if an
// event it waits for arrived, or a child it waits for finished, while it was parking. Both commit
// together, so no crash, dropped connection or stopped execution can leave a run parked without
// that check: the wake-up it would have missed cannot be lost.
import type { ZartDatabase } from '../zart-database';
import type { RunLease } from './insert-checkpoint';
import { wakeSql } from './wake-if-wait-over';

// A run already waiting under the same epoch was parked by this very statement, whose reply was
// lost: retrying it after a dropped connection parks it again with the same values.
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
WHERE id = $1 AND lease_epoch = $3
  AND ((lease_owner = $2 AND status = 'running') OR (lease_owner IS NULL AND status = 'waiting'))`;

/** What a parked run waits for. */
export interface Suspension {
  keys: readonly string[];
  waitingFor: readonly string[];
  recheckMs: number | null;
  /** Events and children whose arrival or finish ends the wait: checked after parking. */
  events: readonly string[];
  children: readonly string[];
  /** Batches of children (startChildren's checkpoint keys) whose last finish ends the wait. */
  batches: readonly string[];
}

/** Returns whether the run was parked (false: the lease was lost, nothing written) and whether it was woken at once. */
export async function suspendRun(
  db: ZartDatabase,
  lease: RunLease,
  wait: Suspension,
): Promise<{ parked: boolean; woken: boolean }> {
  return db.transaction(async (query) => {
    const { rowCount } = await query(db.sql(suspendSql), [
      lease.runId,
      lease.owner,
      lease.epoch,
      wait.keys,
      wait.waitingFor.join('\n'),
      wait.recheckMs,
    ]);
    if (rowCount !== 1) return { parked: false, woken: false };
    if (wait.events.length === 0 && wait.children.length === 0 && wait.batches.length === 0)
      return { parked: true, woken: false };
    const woken = await query(db.sql(wakeSql), [lease.runId, wait.events, wait.children, wait.batches]);
    return { parked: true, woken: woken.rowCount === 1 };
  });
}
