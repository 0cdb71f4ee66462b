// Claims up to `limit` runnable runs for one worker in one statement: pending or waiting runs that
// are due, and running runs whose lease expired (their worker died). SKIP LOCKED lets any number
// of workers claim at once without blocking each other; every claim bumps lease_epoch, which
// fences the previous owner's late writes (see insert-checkpoint.ts, finish-runs.ts).
import type { ZartDatabase } from '../zart-database';
import type { StoredValue } from '../../serialization/serializer';

export interface ClaimedRun {
  id: string;
  workflow: string;
  input: StoredValue;
  attempt: number;
  parentId: string | null;
  leaseEpoch: number;
  /** Milliseconds to the run's deadline by the database clock; null without one. */
  deadlineInMs: number | null;
  /** Times in a row the run was taken over from a dead worker without making progress. */
  recoveries: number;
  queue: string;
  /** The W3C trace context stored with the run at its start (observability/trace-context.ts). */
  traceContext: unknown;
  /** Seconds from the run becoming due to this claim (the wake-up latency); null for a takeover. */
  dueForSeconds: number | null;
  /** The tick's time when a schedule started the run, else null. */
  scheduledAt: Date | null;
  /**
   * The run has no checkpoints: this is its first claim and nothing was forked into it, so its
   * replay needs no load (engine/run-execution.ts).
   */
  fresh: boolean;
}

// Each branch is served by a partial index (runs_claimable_idx, runs_leased_idx), so finished
// history does not slow the claim down. Lease times come from the database clock.
/** @internal The statement text, exported for EXPLAIN in tests and benchmarks. */
export const claimSql = (t: { runs: string; steps: string }) => `
WITH due AS (
  SELECT id, started_at IS NULL AS first_start FROM ${t.runs}
  WHERE status IN ('pending', 'waiting') AND available_at <= now()
    AND queue = ANY($2::text[]) AND workflow = ANY($3::text[])
    AND ($7::text[] IS NULL OR version IS NULL OR version = ANY($7::text[]))
  ORDER BY priority DESC, available_at
  LIMIT $4
  FOR UPDATE SKIP LOCKED
), expired AS (
  SELECT id, false AS first_start FROM ${t.runs}
  WHERE status = 'running' AND lease_expires_at < now()
    AND queue = ANY($2::text[]) AND workflow = ANY($3::text[])
    AND id <> ALL($6::text[])
    AND ($7::text[] IS NULL OR version IS NULL OR version = ANY($7::text[]))
  ORDER BY lease_expires_at
  LIMIT $4
  FOR UPDATE SKIP LOCKED
), candidates AS (
  SELECT * FROM due UNION ALL SELECT * FROM expired
  LIMIT $4
)
UPDATE ${t.runs} AS r
SET ${claimAssignments(t, 'now()')}
FROM candidates
WHERE r.id = candidates.id
RETURNING ${claimedRunColumns(t, 'now()')}`;

/**
 * @internal What a claim sets on each claimed run, with `now` the claim's clock expression: both
 * claims (this one and claim-queue-runs.ts) take a run the same way.
 */
export const claimAssignments = (t: { steps: string }, now: string): string => `status = 'running',
    lease_owner = $1,
    lease_epoch = r.lease_epoch + 1,
    lease_expires_at = ${now} + make_interval(secs => $5::double precision / 1000),
    waiting_for = NULL,
    -- A takeover of an expired lease is a crash recovery; it counts as one more in a row unless
    -- the run has checkpointed or failed an attempt since the last one. Any other claim resets it.
    -- The steps are only counted on this rare branch.
    recoveries = CASE WHEN r.status <> 'running' THEN 0
                      WHEN r.progress_mark IS NOT DISTINCT FROM (SELECT count(*) + coalesce(sum(s.attempts), 0)
                                                                FROM ${t.steps} s WHERE s.run_id = r.id)
                      THEN r.recoveries + 1
                      ELSE 1 END,
    progress_mark = CASE WHEN r.status <> 'running' THEN NULL
                         ELSE (SELECT count(*) + coalesce(sum(s.attempts), 0) FROM ${t.steps} s WHERE s.run_id = r.id) END,
    started_at = coalesce(r.started_at, ${now}),
    updated_at = ${now}`;

/**
 * @internal The columns of a ClaimedRun, returned by both claims, whose candidates carry
 * `first_start` (the run had never been claimed). Only a fork (fork-run.ts) gives such a run
 * checkpoints: one primary-key probe of the steps, for first starts only, tells it apart, so the
 * execution of a fresh run skips loading its checkpoints (0.2 statements per step in W2).
 */
export const claimedRunColumns = (t: { steps: string }, now: string): string => `r.id, r.workflow, r.input, r.attempt,
    r.parent_id AS "parentId", r.lease_epoch AS "leaseEpoch",
    (extract(epoch FROM r.deadline_at - ${now}) * 1000)::float8 AS "deadlineInMs", r.recoveries,
    r.queue, r.trace_context AS "traceContext",
    CASE WHEN r.recoveries = 0 THEN extract(epoch FROM ${now} - r.available_at)::float8 END AS "dueForSeconds",
    r.scheduled_at AS "scheduledAt",
    candidates.first_start AND NOT EXISTS (SELECT 1 FROM ${t.steps} s WHERE s.run_id = r.id) AS fresh`;

export async function claimRuns(
  db: ZartDatabase,
  claim: {
    owner: string;
    queues: readonly string[];
    workflows: readonly string[];
    limit: number;
    leaseMs: number;
    /** Runs the claiming worker executes itself: never taken over by it (see worker.ts). */
    executing: readonly string[];
    /** Code versions the worker serves (replays); null: every run, whatever its version. */
    versions: readonly string[] | null;
  },
): Promise<ClaimedRun[]> {
  const { rows } = await db.query<ClaimedRun>(
    db.sql(claimSql),
    [claim.owner, claim.queues, claim.workflows, claim.limit, claim.leaseMs, claim.executing, claim.versions],
    db.statementName('zart_claim_runs'),
  );
  return rows;
}
