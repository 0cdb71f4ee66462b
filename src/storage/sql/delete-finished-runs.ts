// Retention: deletes finished runs (and, by cascade, their checkpoints and events) older than a
// given age, one batch per statement so no single transaction locks or bloats much at once.
import type { ZartDatabase } from '../zart-database';

// Served by runs_finished_idx; SKIP LOCKED leaves rows another session is touching for next time.
const deleteSql = (t: { runs: string }) => `
DELETE FROM ${t.runs}
WHERE id IN (
  SELECT id FROM ${t.runs}
  WHERE status IN ('completed', 'failed', 'cancelled')
    AND finished_at < now() - make_interval(secs => $1::double precision / 1000)
  ORDER BY finished_at
  LIMIT $2
  FOR UPDATE SKIP LOCKED
)`;

/** Deletes one batch; returns how many runs it deleted. */
export async function deleteFinishedRuns(db: ZartDatabase, olderThanMs: number, batchSize: number): Promise<number> {
  const { rowCount } = await db.query(db.sql(deleteSql), [olderThanMs, batchSize]);
  return rowCount;
}
