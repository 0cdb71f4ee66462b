// Reads the status and outcome of one run: what result() polls while a run is in flight.
import type { ZartDatabase } from '../zart-database';
import type { StoredValue } from '../../serialization/serializer';
import type { RunStatus } from '../entities';

export interface RunOutcomeRow {
  status: RunStatus;
  output: StoredValue | null;
  error: StoredValue | null;
}

const readSql = (t: { runs: string }) => `
SELECT status, output, error FROM ${t.runs} WHERE id = $1`;

export async function readRunOutcome(db: ZartDatabase, runId: string): Promise<RunOutcomeRow | undefined> {
  const { rows } = await db.query<RunOutcomeRow>(db.sql(readSql), [runId], db.statementName('zart_read_run_outcome'));
  return rows[0];
}
