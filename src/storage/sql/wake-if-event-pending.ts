// After parking a run to wait for an event: if an event of that name is already there (sent while
// the run was parking), make the run claimable now. See insert-event.ts for why this closes the race.
import type { ZartDatabase } from '../zart-database';

const wakeSql = (t: { runs: string; events: string }) => `
UPDATE ${t.runs}
SET available_at = now()
WHERE id = $1 AND status = 'waiting' AND waiting_for = 'event:' || $2
  AND EXISTS (SELECT 1 FROM ${t.events} WHERE run_id = $1 AND name = $2 AND consumed_by_key IS NULL)`;

/** Returns true when the run was woken. */
export async function wakeIfEventPending(db: ZartDatabase, runId: string, event: string): Promise<boolean> {
  const { rowCount } = await db.query(db.sql(wakeSql), [runId, event]);
  return rowCount === 1;
}
