// An operator moves an unfinished run to another code version, so the workers serving that
// version claim (and replay) it: for runs whose version no live worker serves any more.
import type { ZartDatabase } from '../zart-database';

const moveSql = (t: { runs: string }) => `
UPDATE ${t.runs} SET version = $2, updated_at = now()
WHERE id = $1 AND status IN ('pending', 'waiting', 'running', 'failed')`;

/** False when the run is finished (completed or cancelled) or does not exist. */
export async function moveRun(db: ZartDatabase, runId: string, version: string): Promise<boolean> {
  const { rowCount } = await db.query(db.sql(moveSql), [runId, version]);
  return rowCount === 1;
}
