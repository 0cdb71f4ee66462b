// Claims runs of one queue with flow control (concurrency, rate limit, partition concurrency) for
// one worker. Claims of one queue take turns on a transaction-scoped advisory lock, and the claim
// statement runs after the lock is granted, so its snapshot sees every claim committed before it:
// the counts it checks the limits against are exact, whatever the number of processes. Unlimited
// queues never come here (claim-runs.ts serves them, with no lock and no counting).
import type { ResolvedQueueOptions } from '../../queues/resolve-queue-options';
import type { ZartDatabase } from '../zart-database';
import { claimAssignments, claimedRunColumns, type ClaimedRun } from './claim-runs';

// Runs of the queue that count against its limits: every `running` run, including one whose lease
// expired (its process may still execute it until the takeover). Parked runs are `waiting` and
// free their slot. A takeover of an expired lease moves no run into `running`, so it needs no room.
// A rate limit counts first starts (a run's first claim), logged in queue_starts with the claim
// statement's own timestamp; the log is pruned to the last window as it goes. statement_timestamp()
// rather than now(): now() is when the transaction began, before the wait for the lock. The window
// ($9) is the period plus 1 ms and open at its far end: see rateWindowMs.
// The head of the queue is read through runs_claimable_idx in claim order, skipping partitions
// that are full; runs_queue_running_idx counts the running ones. Runs without a partition key
// form the partition '' (an empty key is refused at the start), so partitions join by equality.
/** @internal The statement text, exported for EXPLAIN in tests and benchmarks. */
export const claimQueueSql = (t: { runs: string; steps: string; queueStarts: string }) => `
WITH running AS (
  SELECT coalesce(partition_key, '') AS partition FROM ${t.runs} WHERE status = 'running' AND queue = $2
), running_partitions AS (
  SELECT partition, count(*)::int AS n FROM running GROUP BY partition
), recent_starts AS (
  SELECT count(*)::int AS n, min(started_at) AS oldest FROM ${t.queueStarts}
  WHERE $8::int IS NOT NULL AND queue = $2
    AND started_at > statement_timestamp() - make_interval(secs => $9::double precision / 1000)
), room AS (
  SELECT greatest(0, least($4::int, coalesce($7::int - (SELECT count(*)::int FROM running), $4::int))) AS runs,
         coalesce($8::int - (SELECT n FROM recent_starts), $4::int) AS starts
), head AS (
  SELECT id, coalesce(partition_key, '') AS partition, priority, available_at, started_at IS NULL AS first_start
  FROM ${t.runs}
  WHERE status IN ('pending', 'waiting') AND available_at <= statement_timestamp()
    AND queue = $2 AND workflow = ANY($3::text[])
    AND ($12::text[] IS NULL OR version IS NULL OR version = ANY($12::text[]))
    AND ($10::int IS NULL
         OR coalesce(partition_key, '') NOT IN (SELECT partition FROM running_partitions WHERE n >= $10::int))
  ORDER BY priority DESC, available_at
  -- Past the runs there is room for only when some of them may be skipped (partitions, rate).
  LIMIT CASE WHEN $10::int IS NULL AND $8::int IS NULL THEN (SELECT runs FROM room) ELSE $11 END
), within_partitions AS (
  SELECT * FROM (
    SELECT h.*, row_number() OVER (PARTITION BY h.partition ORDER BY priority DESC, available_at, id)
                + coalesce(p.n, 0) AS nth
    FROM head h LEFT JOIN running_partitions p ON p.partition = h.partition
  ) ranked
  WHERE $10::int IS NULL OR nth <= $10::int
), within_rate AS (
  SELECT * FROM (
    SELECT w.*, count(*) FILTER (WHERE first_start) OVER (ORDER BY priority DESC, available_at, id) AS nth_start
    FROM within_partitions w
  ) ranked
  WHERE NOT first_start OR nth_start <= (SELECT starts FROM room)
  ORDER BY priority DESC, available_at, id
  LIMIT (SELECT runs FROM room)
), due AS (
  SELECT r.id, w.first_start FROM ${t.runs} r JOIN within_rate w ON w.id = r.id
  WHERE r.status IN ('pending', 'waiting') AND r.available_at <= statement_timestamp()
  FOR UPDATE OF r SKIP LOCKED
), expired AS (
  SELECT id, false AS first_start FROM ${t.runs}
  WHERE status = 'running' AND lease_expires_at < statement_timestamp()
    AND queue = $2 AND workflow = ANY($3::text[])
    AND ($12::text[] IS NULL OR version IS NULL OR version = ANY($12::text[]))
    AND id <> ALL($6::text[])
  ORDER BY lease_expires_at
  LIMIT $4
  FOR UPDATE SKIP LOCKED
), candidates AS (
  SELECT * FROM expired UNION ALL SELECT * FROM due
  LIMIT $4
), claimed AS (
  UPDATE ${t.runs} AS r
  SET ${claimAssignments(t, 'statement_timestamp()')}
  FROM candidates
  WHERE r.id = candidates.id
  RETURNING ${claimedRunColumns(t, 'statement_timestamp()')}, candidates.first_start
), logged AS (
  INSERT INTO ${t.queueStarts} (queue, started_at, run_id)
  SELECT $2, statement_timestamp(), id FROM claimed WHERE first_start AND $8::int IS NOT NULL
), pruned AS (
  DELETE FROM ${t.queueStarts}
  WHERE $8::int IS NOT NULL AND queue = $2
    AND started_at <= statement_timestamp() - make_interval(secs => $9::double precision / 1000)
)
SELECT coalesce((SELECT json_agg(claimed) FROM claimed), '[]'::json) AS runs,
       -- When the rate limit held a start back: milliseconds until the oldest start leaves the window.
       (SELECT CASE WHEN $8::int IS NOT NULL AND oldest IS NOT NULL
                     AND (SELECT starts FROM room) - (SELECT count(*) FROM claimed WHERE first_start) <= 0
                    THEN greatest(0, extract(epoch FROM oldest + make_interval(secs => $9::double precision / 1000)
                                                        - statement_timestamp()) * 1000)::float8
               END
        FROM recent_starts) AS "nextStartInMs"`;

const lockSql = 'SELECT pg_advisory_xact_lock(hashtextextended($1, 0))';

// The rate limit must hold for the start times users read, and those are milliseconds (Date, JSON):
// two starts 1000.4 ms apart by the database clock read as 1000 ms apart, inside one closed
// 1-second window. So a start counts until 1 ms past its period: starts fewer than period + 1 ms
// apart share a window, which covers every pair whose times rounded down to the millisecond are at
// most a period apart. This was the rate-limit test's overshoot (issue 12): exact windows of the
// database's microseconds never held more than the limit, windows of the millisecond times did when
// a claim came less than 1 ms after a window reopened. It costs a period 1 ms longer.
const reportedTimeResolutionMs = 1;
const rateWindowMs = (periodMs: number): number => periodMs + reportedTimeResolutionMs;

// How far past the head of the queue a claim looks for runs of partitions that have room. A larger
// backlog of one partition ahead of the others only makes the claims smaller, never wrong.
const headScanRows = 1_000;

export interface QueueClaim {
  runs: ClaimedRun[];
  /** The rate limit held runs back: the window opens again in this many milliseconds. */
  nextStartInMs: number | null;
}

/** @internal */
export async function claimQueueRuns(
  db: ZartDatabase,
  queue: ResolvedQueueOptions,
  claim: {
    owner: string;
    workflows: readonly string[];
    /** Code versions the worker serves (as in claim-runs.ts); null: every run, whatever its version. */
    versions: readonly string[] | null;
    limit: number;
    leaseMs: number;
    executing: readonly string[];
  },
): Promise<QueueClaim> {
  const sql = db.sql(claimQueueSql);
  return db.transaction(async (query) => {
    await query(lockSql, [`zart.queue:${db.schema}:${queue.name}`]);
    const { rows } = await query<{ runs: Array<ClaimedRun & { first_start?: boolean }>; nextStartInMs: number | null }>(
      sql,
      [
        claim.owner,
        queue.name,
        claim.workflows,
        claim.limit,
        claim.leaseMs,
        claim.executing,
        queue.concurrency,
        queue.rateLimit?.limit ?? null,
        queue.rateLimit ? rateWindowMs(queue.rateLimit.periodMs) : null,
        queue.partitionConcurrency,
        Math.max(headScanRows, claim.limit),
        claim.versions,
      ],
    );
    const row = rows[0];
    // Through json_agg a timestamp arrives as text: the run's tick time is a Date like claim-runs.ts's.
    const runs = (row?.runs ?? []).map(({ first_start: _firstStart, ...run }) => ({
      ...run,
      scheduledAt: run.scheduledAt === null ? null : new Date(run.scheduledAt),
    }));
    return { runs, nextStartInMs: row?.nextStartInMs ?? null };
  });
}
