// Recovery after a simulated crash, test environments only: the lease of the dead execution ends
// now instead of after its full term, so a worker takes the run over through the very claim that
// follows a real crash (expired lease: new epoch, one more crash recovery counted).
import { wakeUpChannel } from '../storage/sql/notify-wake-up';
import type { ZartDatabase } from '../storage/zart-database';

// Fenced on the epoch: a run taken over meanwhile (its lease expired on its own) is left alone.
const expireSql = (t: { runs: string }) => `
UPDATE ${t.runs}
SET lease_expires_at = now() - interval '1 millisecond'
WHERE id = $1 AND lease_epoch = $2 AND status = 'running'
RETURNING pg_notify($3, NULL) IS NULL AS notified`;

/** Ends the lease of the execution of `runId` under `epoch`; false if it no longer holds one. */
export async function expireLease(db: ZartDatabase, runId: string, epoch: number): Promise<boolean> {
  const { rowCount } = await db.query(db.sql(expireSql), [runId, epoch, wakeUpChannel(db.schema)]);
  return rowCount === 1;
}
