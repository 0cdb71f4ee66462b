// Creates or replaces a schedule. The next tick is computed by the caller from the database clock
// (readDatabaseNow); on a replace it is kept unless the cron expression or time zone changed, and
// a paused schedule stays paused: pausing is an operator's decision that a deploy must not undo.
import type { StoredValue } from '../../serialization/serializer';
import type { ZartDatabase } from '../zart-database';

/** @internal */
export interface ScheduleRowToSave {
  name: string;
  workflow: string;
  cron: string;
  timezone: string;
  input: StoredValue | null;
  overlap: string;
  catchUp: string;
  maxCatchUp: number;
  declaredBy: 'decorator' | 'api';
  nextTickAt: Date;
}

const saveSql = (t: { schedules: string }) => `
INSERT INTO ${t.schedules} AS s (name, workflow, cron, timezone, input, overlap, catch_up, max_catch_up, declared_by, next_tick_at)
VALUES ($1, $2, $3, $4, $5::json, $6, $7, $8, $9, $10)
ON CONFLICT (name) DO UPDATE
SET workflow = EXCLUDED.workflow, cron = EXCLUDED.cron, timezone = EXCLUDED.timezone, input = EXCLUDED.input,
    overlap = EXCLUDED.overlap, catch_up = EXCLUDED.catch_up, max_catch_up = EXCLUDED.max_catch_up,
    declared_by = EXCLUDED.declared_by,
    next_tick_at = CASE WHEN s.cron = EXCLUDED.cron AND s.timezone = EXCLUDED.timezone THEN s.next_tick_at
                        ELSE EXCLUDED.next_tick_at END,
    buffered_tick_at = CASE WHEN s.workflow = EXCLUDED.workflow THEN s.buffered_tick_at END,
    updated_at = now()`;

/** @internal */
export async function saveSchedule(db: ZartDatabase, row: ScheduleRowToSave): Promise<void> {
  await db.query(db.sql(saveSql), [
    row.name,
    row.workflow,
    row.cron,
    row.timezone,
    row.input === null ? null : JSON.stringify(row.input),
    row.overlap,
    row.catchUp,
    row.maxCatchUp,
    row.declaredBy,
    row.nextTickAt,
  ]);
}

/** @internal The database clock, which every tick is computed from. */
export async function readDatabaseNow(db: ZartDatabase): Promise<Date> {
  const [row] = (await db.query<{ now: Date }>('SELECT now() AS now')).rows;
  return row!.now;
}

const deleteUndeclaredSql = (t: { schedules: string }) => `
DELETE FROM ${t.schedules}
WHERE declared_by = 'decorator' AND workflow = ANY($1::text[]) AND NOT (name = ANY($2::text[]))
RETURNING name`;

/**
 * @internal Removes the @Schedule schedules of `workflows` (those this process registers) that the
 * code no longer declares; returns their names.
 */
export async function deleteUndeclaredSchedules(
  db: ZartDatabase,
  workflows: readonly string[],
  declared: readonly string[],
): Promise<string[]> {
  return (await db.query<{ name: string }>(db.sql(deleteUndeclaredSql), [workflows, declared])).rows.map((r) => r.name);
}
