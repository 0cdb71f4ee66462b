// Writes the checkpoints of several runs in one statement (group commit), each row fenced on its
// own run's lease. Rows whose lease is gone are simply not inserted and not returned, so a
// fenced-out row fails only its own caller. 32 rows cost 1.1 ms against 0.46 ms for one
// (bench, loopback), so concurrency raises throughput without adding commits.
import type { ZartDatabase } from '../zart-database';
import { insertOrUpsert, type LeasedCheckpoint } from './insert-checkpoint';

// json_to_recordset() turns the batch, sent as one JSON array, back into rows: one JSON.stringify
// in Node, where fourteen parameter arrays cost node-postgres an escaping pass per element (8% of
// W2's Node CPU). FOR SHARE OF r makes a concurrent claim wait for this commit (see
// insert-checkpoint.ts), taking the row locks in id order like lease renewal. Like the one-row
// statement, a row still open (between retry attempts) takes the outcome and a final row is kept;
// and as there, a batch of first rows only goes without ON CONFLICT, falling back to it when a
// row is stored after all. The result lists every row whose lease held, whether written now or
// already stored.
const insertSql = (onConflict: string) => (t: { runs: string; steps: string }) => `
WITH batch AS (
  SELECT *
  FROM json_to_recordset($1::json)
    AS b(run_id text, owner text, epoch int, key text, seq int, name text, args_hash text, status text,
         output json, error json, attempts int, duration_seconds float8, sequential bool, completion_seq int)
), fence AS (
  SELECT r.id
  FROM ${t.runs} r
  WHERE EXISTS (SELECT 1 FROM batch b WHERE b.run_id = r.id AND b.owner = r.lease_owner AND b.epoch = r.lease_epoch)
  ORDER BY r.id
  FOR SHARE OF r
), written AS (
  INSERT INTO ${t.steps} AS s (run_id, key, seq, sequential, completion_seq, name, args_hash, status, output, error, attempts, started_at, finished_at)
  SELECT b.run_id, b.key, b.seq, b.sequential, b.completion_seq, b.name, b.args_hash, b.status, b.output, b.error, b.attempts,
         now() - make_interval(secs => b.duration_seconds), now()
  FROM batch b
  JOIN fence f ON f.id = b.run_id
  ${onConflict}
)
SELECT b.run_id, b.key FROM batch b JOIN fence f ON f.id = b.run_id`;

const upsertSql = insertSql(`ON CONFLICT (run_id, key) DO UPDATE
    SET status = excluded.status, output = excluded.output, error = excluded.error,
        attempts = excluded.attempts, wake_at = NULL, finished_at = excluded.finished_at,
        completion_seq = excluded.completion_seq
    WHERE s.status NOT IN ('completed', 'failed')`);
const plainInsertSql = insertSql('');

/** Inserts the rows it may; returns `runId/key` of each row written. */
export async function insertCheckpoints(db: ZartDatabase, rows: readonly LeasedCheckpoint[]): Promise<Set<string>> {
  const batch = rows.map(({ lease, checkpoint }) => ({
    run_id: lease.runId,
    owner: lease.owner,
    epoch: lease.epoch,
    key: checkpoint.key,
    seq: checkpoint.seq,
    name: checkpoint.name,
    args_hash: checkpoint.argsHash,
    status: checkpoint.status,
    // A JSON null in the batch is SQL NULL in the row, as a missing output is.
    output: checkpoint.output,
    error: checkpoint.error,
    attempts: checkpoint.attempts,
    duration_seconds: checkpoint.durationMs / 1000,
    sequential: checkpoint.sequential,
    completion_seq: checkpoint.completionSeq,
  }));
  const values = [JSON.stringify(batch)];
  const send = (name: string, sql: typeof upsertSql) => () =>
    db.pool.query<{ run_id: string; key: string }>({ name: db.statementName(name), text: db.sql(sql), values });
  const result = await insertOrUpsert(
    rows.some((row) => row.checkpoint.replacesOpenRow),
    send('zart_insert_checkpoints', plainInsertSql),
    send('zart_upsert_checkpoints', upsertSql),
  );
  return new Set(result.rows.map((row) => `${row.run_id}/${row.key}`));
}
