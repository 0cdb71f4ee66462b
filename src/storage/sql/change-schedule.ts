// Pause, resume, remove and list schedules. Resuming computes the next tick from now: ticks that
// came while a schedule was paused start nothing (that is what pausing asks for).
import type { ZartDatabase } from '../zart-database';
import { wakeUpChannel } from './notify-wake-up';

/** @internal The payload of the wake-up that tells tickers a schedule was added, changed or resumed. */
export const schedulesChanged = 'schedules';

/**
 * @internal Wakes the tickers of every process, so a new or resumed schedule's first tick is not
 * missed while they sleep towards the next tick they knew of.
 */
export async function notifySchedulesChanged(db: ZartDatabase): Promise<void> {
  await db.query('SELECT pg_notify($1, $2)', [wakeUpChannel(db.schema), schedulesChanged]);
}

/** @internal A schedules row as listSchedules() reads it. */
export interface ScheduleRow {
  name: string;
  workflow: string;
  cron: string;
  timezone: string;
  overlap: string;
  catchUp: string;
  maxCatchUp: number;
  declaredBy: string;
  paused: boolean;
  nextTickAt: Date;
  lastTickAt: Date | null;
  lastRunId: string | null;
  bufferedTickAt: Date | null;
}

const columns = `name, workflow, cron, timezone, overlap, catch_up AS "catchUp", max_catch_up AS "maxCatchUp",
       declared_by AS "declaredBy", paused, next_tick_at AS "nextTickAt", last_tick_at AS "lastTickAt",
       last_run_id AS "lastRunId", buffered_tick_at AS "bufferedTickAt"`;

const listSql = (t: { schedules: string }) => `SELECT ${columns} FROM ${t.schedules} ORDER BY name`;

const getSql = (t: { schedules: string }) => `SELECT ${columns} FROM ${t.schedules} WHERE name = $1`;

/** @internal */
export async function listScheduleRows(db: ZartDatabase): Promise<ScheduleRow[]> {
  return (await db.query<ScheduleRow>(db.sql(listSql))).rows;
}

/** @internal */
export async function getScheduleRow(db: ZartDatabase, name: string): Promise<ScheduleRow | undefined> {
  return (await db.query<ScheduleRow>(db.sql(getSql), [name])).rows[0];
}

const pauseSql = (t: { schedules: string }) => `
UPDATE ${t.schedules} SET paused = true, updated_at = now() WHERE name = $1 RETURNING name`;

/** @internal Whether the schedule exists. */
export async function pauseSchedule(db: ZartDatabase, name: string): Promise<boolean> {
  return (await db.query(db.sql(pauseSql), [name])).rowCount === 1;
}

const resumeSql = (t: { schedules: string }) => `
UPDATE ${t.schedules}
SET paused = false, next_tick_at = CASE WHEN paused THEN $2 ELSE next_tick_at END, updated_at = now()
WHERE name = $1
RETURNING name`;

/** @internal Whether the schedule exists; `nextTickAt`: its first tick after now (database clock). */
export async function resumeSchedule(db: ZartDatabase, name: string, nextTickAt: Date): Promise<boolean> {
  return (await db.query(db.sql(resumeSql), [name, nextTickAt])).rowCount === 1;
}

const deleteSql = (t: { schedules: string }) => `DELETE FROM ${t.schedules} WHERE name = $1 RETURNING name`;

/** @internal Whether there was such a schedule. Runs it started are kept. */
export async function deleteSchedule(db: ZartDatabase, name: string): Promise<boolean> {
  return (await db.query(db.sql(deleteSql), [name])).rowCount === 1;
}
