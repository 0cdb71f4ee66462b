// Records a failed attempt of a step that will be retried: the attempt count, the last error and
// the time of the next attempt (database clock), in the step's open checkpoint row. Fenced.
import { LeaseLostError } from '../../errors';
import type { StoredValue } from '../../serialization/serializer';
import type { ZartDatabase } from '../zart-database';
import type { RunLease } from './insert-checkpoint';

const recordSql = (t: { runs: string; steps: string }) => `
WITH fence AS (
  SELECT id FROM ${t.runs}
  WHERE id = $1 AND lease_owner = $2 AND lease_epoch = $3
  FOR SHARE
)
INSERT INTO ${t.steps} AS s (run_id, key, seq, sequential, name, args_hash, status, error, attempts, wake_at, started_at)
SELECT fence.id, $4, $5, $11, $6, $7, 'retrying', $8, $9, now() + make_interval(secs => $10::double precision / 1000), now()
FROM fence
ON CONFLICT (run_id, key) DO UPDATE
  SET error = excluded.error, attempts = excluded.attempts, wake_at = excluded.wake_at
  WHERE s.status = 'retrying'
RETURNING key`;

export async function recordRetry(
  db: ZartDatabase,
  lease: RunLease,
  retry: {
    key: string;
    seq: number;
    sequential: boolean;
    name: string;
    argsHash: string | null;
    error: StoredValue;
    attempts: number;
    delayMs: number;
  },
): Promise<void> {
  const { rowCount } = await db.query(db.sql(recordSql), [
    lease.runId,
    lease.owner,
    lease.epoch,
    retry.key,
    retry.seq,
    retry.name,
    retry.argsHash,
    JSON.stringify(retry.error),
    retry.attempts,
    retry.delayMs,
    retry.sequential,
  ]);
  if (rowCount === 0) throw new LeaseLostError(lease.runId);
}
