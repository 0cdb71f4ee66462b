// Hands runs back without finishing them (graceful shutdown): status pending, lease cleared, so
// another worker claims them at once instead of after the lease. Fenced like every write.
import type { ZartDatabase } from '../zart-database';

// Locks in id order, like every statement that locks several runs (see renew-leases.ts).
const releaseSql = (t: { runs: string }) => `
WITH locked AS (
  SELECT r.id
  FROM ${t.runs} r
  JOIN unnest($2::text[], $3::int[]) AS held(id, epoch) ON r.id = held.id AND r.lease_epoch = held.epoch
  WHERE r.lease_owner = $1 AND r.status = 'running'
  ORDER BY r.id
  FOR UPDATE OF r
)
UPDATE ${t.runs} AS r
SET status = 'pending',
    lease_owner = NULL,
    lease_expires_at = NULL,
    available_at = now(),
    updated_at = now()
FROM locked
WHERE r.id = locked.id
RETURNING r.id`;

export async function releaseRuns(
  db: ZartDatabase,
  owner: string,
  held: ReadonlyArray<{ id: string; epoch: number }>,
): Promise<string[]> {
  if (held.length === 0) return [];
  const { rows } = await db.query<{ id: string }>(db.sql(releaseSql), [
    owner,
    held.map((h) => h.id),
    held.map((h) => h.epoch),
  ]);
  return rows.map((row) => row.id);
}
