// Records a wait for an event that has not arrived: its deadline (database clock; none without a
// timeout) is stored once in the wait's open checkpoint row. Fenced on the lease.
import { LeaseLostError } from '../../errors';
import type { ZartDatabase } from '../zart-database';
import type { RunLease } from './insert-checkpoint';

const recordSql = (t: { runs: string; steps: string }) => `
WITH fence AS (
  SELECT id FROM ${t.runs}
  WHERE id = $1 AND lease_owner = $2 AND lease_epoch = $3
  FOR SHARE
), inserted AS (
  INSERT INTO ${t.steps} (run_id, key, seq, sequential, name, status, attempts, wake_at, started_at, finished_at)
  SELECT fence.id, $4, $5, $8, $6, 'waiting', 1,
         CASE WHEN $7::double precision IS NULL THEN NULL ELSE now() + make_interval(secs => $7::double precision / 1000) END,
         now(), now()
  FROM fence
  ON CONFLICT (run_id, key) DO NOTHING
)
SELECT count(*)::int AS fenced FROM fence`;

export async function recordEventWait(
  db: ZartDatabase,
  lease: RunLease,
  wait: { key: string; seq: number; sequential: boolean; name: string; timeoutMs: number | null },
): Promise<void> {
  const { rows } = await db.query<{ fenced: number }>(db.sql(recordSql), [
    lease.runId,
    lease.owner,
    lease.epoch,
    wait.key,
    wait.seq,
    wait.name,
    wait.timeoutMs,
    wait.sequential,
  ]);
  if (rows[0]?.fenced !== 1) throw new LeaseLostError(lease.runId);
}
