// Records a durable sleep: its wake time is computed once, from the database clock, and stored
// as the checkpoint, so replays and other workers wake at the same moment. Fenced on the lease.
import { LeaseLostError } from '../../errors';
import type { ZartDatabase } from '../zart-database';
import type { RunLease } from './insert-checkpoint';

const recordSql = (t: { runs: string; steps: string }) => `
WITH fence AS (
  SELECT id FROM ${t.runs}
  WHERE id = $1 AND lease_owner = $2 AND lease_epoch = $3
  FOR SHARE
)
INSERT INTO ${t.steps} (run_id, key, seq, sequential, name, status, attempts, wake_at, started_at, finished_at)
SELECT fence.id, $4, $5, $8, $6, 'sleeping', 1, now() + make_interval(secs => $7::double precision / 1000), now(), now()
FROM fence
ON CONFLICT (run_id, key) DO NOTHING
RETURNING key`;

const fencedSql = (t: { runs: string }) => `
SELECT 1 FROM ${t.runs} WHERE id = $1 AND lease_owner = $2 AND lease_epoch = $3`;

export async function recordSleep(
  db: ZartDatabase,
  lease: RunLease,
  sleep: { key: string; seq: number; sequential: boolean; name: string; durationMs: number },
): Promise<void> {
  const { rowCount } = await db.query(db.sql(recordSql), [
    lease.runId,
    lease.owner,
    lease.epoch,
    sleep.key,
    sleep.seq,
    sleep.name,
    sleep.durationMs,
    sleep.sequential,
  ]);
  if (rowCount === 1) return;
  // Nothing inserted: either the lease is gone, or the row exists (a retry after a lost reply).
  const held = await db.query(db.sql(fencedSql), [lease.runId, lease.owner, lease.epoch]);
  if (held.rowCount === 0) throw new LeaseLostError(lease.runId);
}
