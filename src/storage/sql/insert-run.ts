// Inserts a run unless its id exists: the id is the idempotency key, and two racing starts with
// the same id both end up with the one row (ON CONFLICT waits for the other insert to commit).
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

const insertSql = (t: { runs: string }) => `
INSERT INTO ${t.runs} (id, workflow, version, status, queue, input, available_at, deadline_at, trace_context)
VALUES ($1, $2, $3, 'pending', $4, $5, now(),
        CASE WHEN $6::double precision IS NULL THEN NULL ELSE now() + make_interval(secs => $6::double precision / 1000) END,
        $7)
ON CONFLICT (id) DO NOTHING
RETURNING id`;

const existingSql = (t: { runs: string }) => `
SELECT workflow FROM ${t.runs} WHERE id = $1`;

const notifySql = 'SELECT pg_notify($1, NULL)';

/**
 * Inserts the run; returns whether it was new and, if not, the existing run's workflow. With the
 * caller's `manager`, the run is inserted in the caller's transaction and workers are notified at
 * its commit (NOTIFY is transactional), so a rollback leaves neither run nor wake-up.
 */
export async function insertRun(
  db: ZartDatabase,
  run: NewRun,
  manager?: EntityManager,
): Promise<{ inserted: true } | { inserted: false; workflow: string }> {
  const query = async <R extends QueryResultRow>(sql: string, params: unknown[]): Promise<R[]> =>
    manager ? await manager.query<R[]>(sql, params) : (await db.query<R>(sql, params)).rows;
  const params = [
    run.id,
    run.workflow,
    run.version,
    run.queue,
    JSON.stringify(run.input),
    run.timeoutMs,
    run.traceContext && JSON.stringify(run.traceContext),
  ];
  const inserted = await query<{ id: string }>(db.sql(insertSql), params);
  if (inserted.length === 1) {
    if (manager) await manager.query(notifySql, [wakeUpChannel(db.schema)]);
    return { inserted: true };
  }
  const [row] = await query<{ workflow: string }>(db.sql(existingSql), [run.id]);
  // Deleted between the two statements (retention): treat as a lost race and report it as new.
  if (!row) return insertRun(db, run, manager);
  return { inserted: false, workflow: row.workflow };
}
