// Reads what a parent waiting on a batch of children needs, in one statement: how many children of
// the batch are unfinished (from runs_batch_unfinished_idx, which holds only those), and, once none
// is, the status and outcome of every child. A parent woken early reads no outcome at all.
import type { StoredValue } from '../../serialization/serializer';
import type { RunStatus } from '../entities';
import type { ZartDatabase } from '../zart-database';
import type { RunOutcomeRow } from './read-run-outcome';

const readSql = (t: { runs: string }) => `
SELECT batch.unfinished, r.id, r.status, r.output, r.error
FROM (SELECT count(*)::int AS unfinished FROM ${t.runs}
      WHERE parent_id = $1 AND batch_key = $2 AND status IN ('pending', 'running', 'waiting')) batch
LEFT JOIN ${t.runs} r ON batch.unfinished = 0 AND r.id = ANY($3::text[])`;

/** The batch's unfinished count; once it is 0, each child's outcome by id. */
export interface ChildBatchOutcomes {
  unfinished: number;
  outcomes: Map<string, RunOutcomeRow>;
}

export async function readChildBatchOutcomes(
  db: ZartDatabase,
  parentId: string,
  batchKey: string,
  ids: readonly string[],
): Promise<ChildBatchOutcomes> {
  const { rows } = await db.query<{
    unfinished: number;
    id: string | null;
    status: RunStatus | null;
    output: StoredValue | null;
    error: StoredValue | null;
  }>(db.sql(readSql), [parentId, batchKey, ids]);
  const outcomes = new Map<string, RunOutcomeRow>();
  for (const row of rows) {
    if (row.id !== null && row.status !== null) outcomes.set(row.id, row as RunOutcomeRow);
  }
  return { unfinished: rows[0]?.unfinished ?? 0, outcomes };
}
