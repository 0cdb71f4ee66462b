// Loads every checkpoint of a run in one query, before its replay starts.
import type { ZartDatabase } from '../zart-database';
import type { CheckpointFields } from './insert-checkpoint';

/** A stored checkpoint; `completionSeq` is null in older histories too. */
export interface CheckpointRow extends CheckpointFields {
  /** Whether a replay checks the position (engine/call-sequence.ts); null in older histories. */
  sequential: boolean | null;
  /** Milliseconds until the stored wake time, by the database clock; null without one. */
  wakeInMs: number | null;
  /** Milliseconds since the checkpoint was written (negative), by the database clock. */
  finishedInMs: number | null;
}

const loadSql = (t: { steps: string }) => `
SELECT key, seq, sequential, completion_seq AS "completionSeq", name, args_hash AS "argsHash", status, output,
       error, attempts, (extract(epoch FROM wake_at - now()) * 1000)::float8 AS "wakeInMs",
       (extract(epoch FROM finished_at - now()) * 1000)::float8 AS "finishedInMs"
FROM ${t.steps}
WHERE run_id = $1`;

const loadOneSql = (t: { steps: string }) => `${loadSql(t)} AND key = $2`;

/** One checkpoint, read after a transaction whose COMMIT reply was lost: did it commit? */
export async function loadCheckpoint(db: ZartDatabase, runId: string, key: string): Promise<CheckpointRow | undefined> {
  const { rows } = await db.query<CheckpointRow>(db.sql(loadOneSql), [runId, key]);
  return rows[0];
}

export async function loadCheckpoints(db: ZartDatabase, runId: string): Promise<Map<string, CheckpointRow>> {
  const { rows } = await db.query<CheckpointRow>(db.sql(loadSql), [runId], db.statementName('zart_load_checkpoints'));
  return new Map(rows.map((row) => [row.key, row]));
}
