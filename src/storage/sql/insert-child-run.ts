// startChild: inserts the child run (parent_id set, idempotent on its deterministic id) and the
// checkpoint that records the child's id, in one statement fenced on the parent's lease, so a
// child is started exactly once whatever happens to the parent's process.
import { LeaseLostError } from '../../errors';
import type { StoredValue } from '../../serialization/serializer';
import type { ZartDatabase } from '../zart-database';
import type { RunLease } from './insert-checkpoint';
import type { NewRun } from './insert-run';

const insertSql = (t: { runs: string; steps: string }) => `
WITH fence AS (
  SELECT id FROM ${t.runs}
  WHERE id = $1 AND lease_owner = $2 AND lease_epoch = $3
  FOR SHARE
), child AS (
  INSERT INTO ${t.runs} (id, workflow, version, status, queue, input, parent_id, available_at, deadline_at)
  SELECT $7, $8, $9, 'pending', $10, $11, fence.id, now(),
         CASE WHEN $12::double precision IS NULL THEN NULL ELSE now() + make_interval(secs => $12::double precision / 1000) END
  FROM fence
  ON CONFLICT (id) DO NOTHING
), recorded AS (
  INSERT INTO ${t.steps} (run_id, key, seq, name, args_hash, status, output, attempts, started_at, finished_at)
  SELECT fence.id, $4, $5, $6, $13, 'completed', $14, 1, now(), now() FROM fence
  ON CONFLICT (run_id, key) DO NOTHING
)
SELECT count(*)::int AS fenced FROM fence`;

export async function insertChildRun(
  db: ZartDatabase,
  lease: RunLease,
  checkpoint: { key: string; seq: number; name: string; argsHash: string | null; output: StoredValue },
  child: NewRun,
): Promise<void> {
  const { rows } = await db.query<{ fenced: number }>(db.sql(insertSql), [
    lease.runId,
    lease.owner,
    lease.epoch,
    checkpoint.key,
    checkpoint.seq,
    checkpoint.name,
    child.id,
    child.workflow,
    child.version,
    child.queue,
    JSON.stringify(child.input),
    child.timeoutMs,
    checkpoint.argsHash,
    JSON.stringify(checkpoint.output),
  ]);
  if (rows[0]?.fenced !== 1) throw new LeaseLostError(lease.runId);
}
