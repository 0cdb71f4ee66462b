// Time skipping, test environments only: instead of moving a clock, moves every time stored in one
// schema back by the skipped span, so that SQL comparing them with PostgreSQL's now() (claims,
// wake-ups, event timeouts, retry back-offs, deadlines) sees that span as passed. Production SQL
// is untouched and no setting can turn this on: only these statements, run by a TestEnvironment.
// Leases and worker heartbeats are not moved: a skip must not expire every lease at once and hand
// runs in flight to another worker.
import { wakeUpChannel } from '../storage/sql/notify-wake-up';
import type { ZartDatabase } from '../storage/zart-database';

// Runs are locked in id order first, as every statement that locks several runs does (see
// renew-leases.ts), so a skip racing a worker's batched writes cannot deadlock with them.
// The NOTIFY goes out at commit: workers claim the runs that became due at once.
const skipSql = (t: { runs: string; steps: string; events: string }) => `
WITH span AS (
  SELECT make_interval(secs => $1::double precision / 1000) AS d
), locked AS (
  SELECT id FROM ${t.runs} ORDER BY id FOR UPDATE
), runs AS (
  UPDATE ${t.runs} r
  SET available_at = r.available_at - span.d, deadline_at = r.deadline_at - span.d,
      created_at = r.created_at - span.d, updated_at = r.updated_at - span.d,
      started_at = r.started_at - span.d, finished_at = r.finished_at - span.d
  FROM span, locked
  WHERE r.id = locked.id
  RETURNING r.id
), steps AS (
  UPDATE ${t.steps} s
  SET wake_at = s.wake_at - span.d, started_at = s.started_at - span.d, finished_at = s.finished_at - span.d
  FROM span
  RETURNING s.run_id
), events AS (
  UPDATE ${t.events} e SET created_at = e.created_at - span.d FROM span RETURNING e.id
)
SELECT (SELECT count(*)::int FROM runs) AS runs, (SELECT count(*)::int FROM steps) AS steps,
       (SELECT count(*)::int FROM events) AS events, pg_notify($2, NULL) IS NULL AS notified`;

/** Moves every stored time of the schema `ms` milliseconds back and wakes the workers. */
export async function skipStoredTimes(db: ZartDatabase, ms: number): Promise<void> {
  await db.query(db.sql(skipSql), [ms, wakeUpChannel(db.schema)]);
}

// The timers of the schema: when the next one fires, and whether any run is due or executing now
// (then nothing is skipped). A parent parked on a child is rechecked every few seconds; that
// recheck is not a timer of the workflow, so for such runs only their own stored wake times and
// deadline count, else every skip would stop at the next recheck.
const nextTimerSql = (t: { runs: string; steps: string }) => `
SELECT EXISTS (SELECT 1 FROM ${t.runs}
               WHERE status = 'running' OR (status IN ('pending', 'waiting') AND available_at <= now())) AS busy,
       (extract(epoch FROM least(
          (SELECT min(available_at) FROM ${t.runs}
           WHERE (status = 'pending' OR (status = 'waiting' AND position('child:' IN coalesce(waiting_for, '')) = 0))
             AND available_at > now() AND available_at < 'infinity'),
          (SELECT min(least(r.deadline_at,
                            (SELECT min(s.wake_at) FROM ${t.steps} s
                             WHERE s.run_id = r.id AND s.status IN ('sleeping', 'retrying', 'waiting') AND s.wake_at > now())))
           FROM ${t.runs} r
           WHERE r.status = 'waiting' AND position('child:' IN coalesce(r.waiting_for, '')) > 0)
        ) - now()) * 1000)::float8 AS "nextInMs"`;

/** Whether a run of the schema executes or is due, and the milliseconds to its next timer (undefined: none). */
export async function readTimers(db: ZartDatabase): Promise<{ busy: boolean; nextInMs: number | undefined }> {
  const { rows } = await db.query<{ busy: boolean; nextInMs: number | null }>(db.sql(nextTimerSql));
  const row = rows[0];
  return {
    busy: row?.busy ?? false,
    nextInMs: row?.nextInMs === null || row?.nextInMs === undefined ? undefined : Math.max(0, row.nextInMs),
  };
}
