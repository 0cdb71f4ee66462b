// Inserts the runs of several concurrent startWorkflow() calls in one statement (group commit,
// storage/group-commit.ts). A run whose id or de-duplication key is taken is skipped, not waited
// on with a retry here: its caller settles it alone with insert-run.ts, which tells an existing
// run, a live duplicate and a lost race apart, so every caller still gets its own typed answer.
import type { ZartDatabase } from '../zart-database';
import type { NewRun, RunPlacement } from './insert-run';

/** One start of the batch. */
export interface StartingRun {
  run: NewRun;
  placement: RunPlacement;
}

// As insert-run.ts, row by row: a delayed run's deadline counts from its start.
const insertSql = (t: { runs: string }) => `
WITH batch AS (
  SELECT b.*, coalesce(b.start_at, now() + make_interval(secs => coalesce(b.delay_ms, 0) / 1000)) AS at
  FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::json[], $6::float8[], $7::int[],
              $8::text[], $9::text[], $10::timestamptz[], $11::float8[], $12::json[])
    AS b(id, workflow, version, queue, input, timeout_ms, priority, partition_key, deduplication_key,
         start_at, delay_ms, trace_context)
)
INSERT INTO ${t.runs} (id, workflow, version, status, queue, input, available_at, deadline_at,
                       priority, partition_key, deduplication_key, trace_context)
SELECT id, workflow, version, 'pending', queue, input, at,
       CASE WHEN timeout_ms IS NULL THEN NULL
            ELSE greatest(at, now()) + make_interval(secs => timeout_ms / 1000) END,
       priority, partition_key, deduplication_key, trace_context
FROM batch
ON CONFLICT DO NOTHING
RETURNING id, workflow, greatest(0, extract(epoch FROM available_at - now()) * 1000)::float8 AS "startsInMs"`;

/**
 * For each start, in order: milliseconds until the new run is claimable, or null when it was not
 * inserted (its id or de-duplication key is taken; the caller finds out which with insertRun()).
 */
export async function insertRuns(db: ZartDatabase, starts: readonly StartingRun[]): Promise<Array<number | null>> {
  const column = <T>(pick: (start: StartingRun) => T): T[] => starts.map(pick);
  const { rows } = await db.query<{ id: string; workflow: string; startsInMs: number }>(
    db.sql(insertSql),
    [
      column((s) => s.run.id),
      column((s) => s.run.workflow),
      column((s) => s.run.version),
      column((s) => s.run.queue),
      column((s) => JSON.stringify(s.run.input) ?? null),
      column((s) => s.run.timeoutMs),
      column((s) => s.placement.priority),
      column((s) => s.placement.partitionKey),
      column((s) => s.placement.deduplicationKey),
      column((s) => s.placement.startAt),
      column((s) => s.placement.delayMs),
      column((s) => (s.run.traceContext === null ? null : JSON.stringify(s.run.traceContext))),
    ],
    db.statementName('zart_insert_runs'),
  );
  // Two starts of one id in a batch insert one row: it answers the first of them with the same
  // workflow; the other finds the run with insertRun(), as a second start of the id does.
  const inserted = new Map(rows.map((row) => [row.id, row]));
  return starts.map(({ run }) => {
    const row = inserted.get(run.id);
    if (row?.workflow !== run.workflow) return null;
    inserted.delete(run.id);
    return row.startsInMs;
  });
}
