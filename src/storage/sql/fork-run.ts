// fork(): a new run of the same workflow and input that starts with a copy of the source run's
// checkpoints recorded before a given step, so it replays them and executes from that step on
// (debugging, or recovering from a bad deploy). One statement: the copy is all or nothing. The
// copy leaves completion_seq NULL: the calls after the cut are dropped, so the recorded completion
// order no longer holds, and the fork replays its copied calls by key, as an older history.
import type { StoredTraceContext } from '../../observability/trace-context';
import type { ZartDatabase } from '../zart-database';

const forkSql = (t: { runs: string; steps: string }) => `
WITH source AS (
  SELECT * FROM ${t.runs} WHERE id = $1
), cut AS (
  SELECT seq FROM ${t.steps} WHERE run_id = $1 AND key = $3
), forked AS (
  INSERT INTO ${t.runs} (id, workflow, version, status, queue, priority, input, available_at, deadline_at, trace_context)
  SELECT $2, workflow, version, 'pending', queue, priority, input, now(),
         now() + (deadline_at - created_at), $4
  FROM source
  WHERE EXISTS (SELECT 1 FROM cut)
  RETURNING id
), copied AS (
  INSERT INTO ${t.steps} (run_id, key, seq, sequential, name, args_hash, status, output, error, attempts, wake_at, started_at, finished_at)
  SELECT forked.id, s.key, s.seq, s.sequential, s.name, s.args_hash, s.status, s.output, s.error, s.attempts, s.wake_at, s.started_at, s.finished_at
  FROM ${t.steps} s, forked, cut
  WHERE s.run_id = $1 AND s.seq < cut.seq AND s.status IN ('completed', 'failed', 'sleeping')
)
SELECT (SELECT count(*)::int FROM source) AS source, (SELECT count(*)::int FROM forked) AS forked`;

/** Returns whether the source run exists and whether the fork was created (false: no such step). */
export async function forkRun(
  db: ZartDatabase,
  fork: { sourceId: string; newId: string; fromStep: string; traceContext: StoredTraceContext | null },
): Promise<{ sourceExists: boolean; forked: boolean }> {
  const { rows } = await db.query<{ source: number; forked: number }>(db.sql(forkSql), [
    fork.sourceId,
    fork.newId,
    fork.fromStep,
    fork.traceContext && JSON.stringify(fork.traceContext),
  ]);
  return { sourceExists: rows[0]?.source === 1, forked: rows[0]?.forked === 1 };
}
