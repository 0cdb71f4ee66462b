// Inserts a run unless its id exists: the id is the idempotency key, and two racing starts with
// the same id both end up with the one row (ON CONFLICT waits for the other insert to commit).
// A de-duplication key is settled the same way, by the unique partial index
// runs_deduplication_idx: of two racing starts with one key, one inserts and the other finds it.
import type { QueryResultRow } from 'pg';
import type { EntityManager } from 'typeorm';
import type { ZartDatabase } from '../zart-database';
import { wakeUpChannel } from './notify-wake-up';
import type { StoredValue } from '../../serialization/serializer';
import type { StoredTraceContext } from '../../observability/trace-context';

export interface NewRun {
  id: string;
  workflow: string;
  version: string | null;
  queue: string;
  input: StoredValue;
  /** The workflow's timeout: the deadline is set once, from the database clock, at the start. */
  timeoutMs: number | null;
  /** The trace the run's executions continue (observability/trace-context.ts); null: none. */
  traceContext: StoredTraceContext | null;
}

/** How a run started by startWorkflow() is scheduled and de-duplicated (all optional). */
export interface RunPlacement {
  priority: number;
  partitionKey: string | null;
  deduplicationKey: string | null;
  /** Claimable this many milliseconds from now by the database clock (exclusive with startAt). */
  delayMs: number | null;
  startAt: Date | null;
}

/** What came of an insert: a new run (claimable in `startsInMs`), the id's run, or the key's live run. */
export type InsertedRun =
  | { inserted: true; startsInMs: number }
  | { inserted: false; workflow: string }
  | { inserted: false; duplicateOf: string };

// A delayed run's deadline counts from its start, not from the call that scheduled it.
const insertSql = (t: { runs: string }) => `
WITH start AS (
  SELECT coalesce($10::timestamptz, now() + make_interval(secs => coalesce($11::double precision, 0) / 1000)) AS at
)
INSERT INTO ${t.runs} (id, workflow, version, status, queue, input, available_at, deadline_at,
                       priority, partition_key, deduplication_key, trace_context)
SELECT $1, $2, $3, 'pending', $4, $5, start.at,
       CASE WHEN $6::double precision IS NULL THEN NULL
            ELSE greatest(start.at, now()) + make_interval(secs => $6::double precision / 1000) END,
       $7, $8, $9, $12
FROM start
ON CONFLICT DO NOTHING
RETURNING id, greatest(0, extract(epoch FROM available_at - now()) * 1000)::float8 AS "startsInMs"`;

const existingSql = (t: { runs: string }) => `
SELECT workflow FROM ${t.runs} WHERE id = $1`;

const liveDuplicateSql = (t: { runs: string }) => `
SELECT id FROM ${t.runs}
WHERE workflow = $1 AND deduplication_key = $2 AND status IN ('pending', 'running', 'waiting')`;

const notifySql = 'SELECT pg_notify($1, NULL)';

/**
 * Inserts the run; returns whether it was new and, if not, the existing run's workflow. With the
 * caller's `manager`, the run is inserted in the caller's transaction and workers are notified at
 * its commit (NOTIFY is transactional), so a rollback leaves neither run nor wake-up.
 */
export async function insertRun(
  db: ZartDatabase,
  run: NewRun,
  placement: RunPlacement,
  manager?: EntityManager,
): Promise<InsertedRun> {
  const query = async <R extends QueryResultRow>(sql: string, params: unknown[]): Promise<R[]> =>
    manager ? await manager.query<R[]>(sql, params) : (await db.query<R>(sql, params)).rows;
  const params = [
    run.id,
    run.workflow,
    run.version,
    run.queue,
    JSON.stringify(run.input),
    run.timeoutMs,
    placement.priority,
    placement.partitionKey,
    placement.deduplicationKey,
    placement.startAt,
    placement.delayMs,
    run.traceContext && JSON.stringify(run.traceContext),
  ];
  // A key's live run may finish between the insert and the look-up: then the insert is tried again.
  for (;;) {
    const [inserted] = await query<{ id: string; startsInMs: number }>(db.sql(insertSql), params);
    if (inserted) {
      if (manager) await manager.query(notifySql, [wakeUpChannel(db.schema)]);
      return { inserted: true, startsInMs: inserted.startsInMs };
    }
    // The id wins over the de-duplication key: a start with a known id is the same start again.
    const [row] = await query<{ workflow: string }>(db.sql(existingSql), [run.id]);
    if (row) return { inserted: false, workflow: row.workflow };
    if (placement.deduplicationKey !== null) {
      const [live] = await query<{ id: string }>(db.sql(liveDuplicateSql), [run.workflow, placement.deduplicationKey]);
      if (live) return { inserted: false, duplicateOf: live.id };
    }
    // Neither: the conflicting run was deleted (retention) or finished meanwhile; a lost race.
  }
}
