// Inserts a run unless its id exists: the id is the idempotency key, and two racing starts with
// the same id both end up with the one row (ON CONFLICT waits for the other insert to commit).
import type { ZartDatabase } from '../zart-database';
import type { StoredValue } from '../../serialization/serializer';

export interface NewRun {
  id: string;
  workflow: string;
  version: string | null;
  queue: string;
  input: StoredValue;
}

const insertSql = (t: { runs: string }) => `
INSERT INTO ${t.runs} (id, workflow, version, status, queue, input, available_at)
VALUES ($1, $2, $3, 'pending', $4, $5, now())
ON CONFLICT (id) DO NOTHING
RETURNING id`;

const existingSql = (t: { runs: string }) => `
SELECT workflow FROM ${t.runs} WHERE id = $1`;

/** Inserts the run; returns whether it was new and, if not, the existing run's workflow. */
export async function insertRun(
  db: ZartDatabase,
  run: NewRun,
): Promise<{ inserted: true } | { inserted: false; workflow: string }> {
  const inserted = await db.query(db.sql(insertSql), [
    run.id,
    run.workflow,
    run.version,
    run.queue,
    JSON.stringify(run.input),
  ]);
  if (inserted.rowCount === 1) return { inserted: true };
  const existing = await db.query<{ workflow: string }>(db.sql(existingSql), [run.id]);
  const row = existing.rows[0];
  // Deleted between the two statements (retention): treat as a lost race and report it as new.
  if (!row) return insertRun(db, run);
  return { inserted: false, workflow: row.workflow };
}
