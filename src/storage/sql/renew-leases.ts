// Extends the leases of all runs a worker executes in one statement, every lease/3. A lease missing
// from the result (run id and epoch) was lost: the run was claimed again (by another worker, or by
// this one after parking it), cancelled or finished. The caller stops that execution only. Also
// refreshes the worker's heartbeat, in the same round trip.
import type { ZartDatabase } from '../zart-database';

// Rows are locked in id order, as every statement that locks several runs does (the batched
// checkpoint insert, the hand-back, finish-runs, cancel-runs): locking them in different orders
// deadlocked (bench W4). A lease that has expired but was not taken over is renewed: the worker
// stalled (a long GC pause, a blocked event loop) and nobody else needed the run meanwhile.
const renewSql = (t: { runs: string; workers: string }) => `
WITH heartbeat AS (
  UPDATE ${t.workers} SET heartbeat_at = now() WHERE id = $1
), locked AS (
  SELECT r.id
  FROM ${t.runs} r
  JOIN unnest($2::text[], $4::int[]) AS held(id, epoch) ON r.id = held.id AND r.lease_epoch = held.epoch
  WHERE r.lease_owner = $1 AND r.status = 'running'
  ORDER BY r.id
  FOR UPDATE OF r
)
UPDATE ${t.runs} AS r
SET lease_expires_at = now() + make_interval(secs => $3::double precision / 1000)
FROM locked
WHERE r.id = locked.id
RETURNING r.id, r.lease_epoch AS epoch`;

/** The key of one held lease in the set renewLeases() returns. */
export function leaseKeyOf(held: { id: string; epoch: number }): string {
  return `${held.epoch}:${held.id}`;
}

/** Returns the leases (leaseKeyOf) this worker still holds. */
export async function renewLeases(
  db: ZartDatabase,
  owner: string,
  held: ReadonlyArray<{ id: string; epoch: number }>,
  leaseMs: number,
): Promise<Set<string>> {
  const { rows } = await db.query<{ id: string; epoch: number }>(db.sql(renewSql), [
    owner,
    held.map((h) => h.id),
    leaseMs,
    held.map((h) => h.epoch),
  ]);
  return new Set(rows.map(leaseKeyOf));
}
