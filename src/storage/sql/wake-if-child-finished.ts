// After parking a run to wait for a child: if the child finished meanwhile (its finish saw the
// parent still running, so it woke nobody), make the parent claimable now.
import type { ZartDatabase } from '../zart-database';

const wakeSql = (t: { runs: string }) => `
UPDATE ${t.runs}
SET available_at = now()
WHERE id = $1 AND status = 'waiting' AND waiting_for = 'child:' || $2
  AND EXISTS (SELECT 1 FROM ${t.runs} WHERE id = $2 AND status IN ('completed', 'failed', 'cancelled'))`;

export async function wakeIfChildFinished(db: ZartDatabase, runId: string, childId: string): Promise<boolean> {
  const { rowCount } = await db.query(db.sql(wakeSql), [runId, childId]);
  return rowCount === 1;
}
