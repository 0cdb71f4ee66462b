// The statements of one ticker pass, run in one transaction: lock the schedules that have a tick
// due (SKIP LOCKED: one process decides for each schedule, the others pass it by), insert the
// runs of the ticks that fire, and advance the schedule. Because the runs and the advance commit
// together, and a tick's run id holds its time (ON CONFLICT DO NOTHING), a tick starts one run
// however many processes tick.
import type { StoredValue } from '../../serialization/serializer';
import type { TransactionQuery, ZartDatabase } from '../zart-database';

/** @internal A locked schedule row with what its overlap policy needs. */
export interface DueScheduleRow {
  name: string;
  workflow: string;
  cron: string;
  timezone: string;
  input: StoredValue | null;
  overlap: string;
  catchUp: string;
  maxCatchUp: number;
  nextTickAt: Date;
  bufferedTickAt: Date | null;
  lastRunStatus: string | null;
  now: Date;
}

const lockDueSql = (t: { schedules: string; runs: string }) => `
SELECT s.name, s.workflow, s.cron, s.timezone, s.input, s.overlap, s.catch_up AS "catchUp",
       s.max_catch_up AS "maxCatchUp", s.next_tick_at AS "nextTickAt",
       s.buffered_tick_at AS "bufferedTickAt", r.status AS "lastRunStatus", now() AS now
FROM ${t.schedules} s
LEFT JOIN ${t.runs} r ON r.id = s.last_run_id
WHERE NOT s.paused AND s.workflow = ANY($1::text[])
  AND (s.next_tick_at <= now() OR s.buffered_tick_at IS NOT NULL)
ORDER BY s.next_tick_at
LIMIT $2
FOR UPDATE OF s SKIP LOCKED`;

/** @internal Locks up to `limit` schedules with a due or buffered tick, of the given workflows. */
export async function lockDueSchedules(
  db: ZartDatabase,
  query: TransactionQuery,
  workflows: readonly string[],
  limit: number,
): Promise<DueScheduleRow[]> {
  return (await query<DueScheduleRow>(db.sql(lockDueSql), [workflows, limit])).rows;
}

const insertRunsSql = (t: { runs: string }) => `
INSERT INTO ${t.runs} (id, workflow, version, status, queue, input, available_at, deadline_at, scheduled_at)
SELECT tick.id, $3, $4, 'pending', $5, $6::json, now(),
       CASE WHEN $7::double precision IS NULL THEN NULL ELSE now() + make_interval(secs => $7::double precision / 1000) END,
       tick.at
FROM unnest($1::text[], $2::timestamptz[]) AS tick(id, at)
ON CONFLICT (id) DO NOTHING
RETURNING id`;

/** @internal The runs of the ticks that fire; returns the ids actually inserted. */
export async function insertScheduledRuns(
  db: ZartDatabase,
  query: TransactionQuery,
  runs: {
    ids: string[];
    ticks: Date[];
    workflow: string;
    version: string | null;
    queue: string;
    input: StoredValue | null;
    timeoutMs: number | null;
  },
): Promise<string[]> {
  const params = [
    runs.ids,
    runs.ticks,
    runs.workflow,
    runs.version,
    runs.queue,
    runs.input === null ? null : JSON.stringify(runs.input),
    runs.timeoutMs,
  ];
  return (await query<{ id: string }>(db.sql(insertRunsSql), params)).rows.map((row) => row.id);
}

const advanceSql = (t: { schedules: string }) => `
UPDATE ${t.schedules}
SET next_tick_at = $2, last_tick_at = coalesce($3, last_tick_at), last_run_id = coalesce($4, last_run_id),
    buffered_tick_at = $5, updated_at = now()
WHERE name = $1`;

/** @internal Moves a schedule past the ticks this pass decided about. */
export async function advanceSchedule(
  db: ZartDatabase,
  query: TransactionQuery,
  advance: {
    name: string;
    nextTickAt: Date;
    lastTickAt: Date | null;
    lastRunId: string | null;
    bufferedTickAt: Date | null;
  },
): Promise<void> {
  await query(db.sql(advanceSql), [
    advance.name,
    advance.nextTickAt,
    advance.lastTickAt,
    advance.lastRunId,
    advance.bufferedTickAt,
  ]);
}

const nextDueSql = (t: { schedules: string }) => `
SELECT (extract(epoch FROM min(next_tick_at) - now()) * 1000)::float8 AS "inMs",
       bool_or(buffered_tick_at IS NOT NULL) AS buffered
FROM ${t.schedules}
WHERE NOT paused AND workflow = ANY($1::text[])`;

/**
 * @internal Milliseconds to the earliest tick of the given workflows' active schedules (null:
 * none), and whether a tick is buffered (its run starts when the live one finishes).
 */
export async function nextScheduleDue(
  db: ZartDatabase,
  workflows: readonly string[],
): Promise<{ inMs: number | null; buffered: boolean }> {
  const [row] = (await db.query<{ inMs: number | null; buffered: boolean | null }>(db.sql(nextDueSql), [workflows]))
    .rows;
  return { inMs: row?.inMs ?? null, buffered: row?.buffered ?? false };
}
