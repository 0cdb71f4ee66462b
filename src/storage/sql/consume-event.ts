// Consumes the oldest unconsumed event of a name for a wait, and completes the wait's checkpoint
// with its payload, in one statement: an event is taken by exactly one wait, and a crash cannot
// separate taking it from recording it. Fenced on the lease.
import { LeaseLostError } from '../../errors';
import type { StoredValue } from '../../serialization/serializer';
import type { ZartDatabase } from '../zart-database';
import type { RunLease } from './insert-checkpoint';

const consumeSql = (t: { runs: string; steps: string; events: string }) => `
WITH fence AS (
  SELECT id FROM ${t.runs}
  WHERE id = $1 AND lease_owner = $2 AND lease_epoch = $3
  FOR SHARE
), already AS (
  -- A retry after a reply lost on the connection: the wait already took its event.
  SELECT output FROM ${t.steps} WHERE run_id = $1 AND key = $4 AND status = 'completed'
), next_event AS (
  SELECT e.id, e.payload
  FROM ${t.events} e JOIN fence ON e.run_id = fence.id
  WHERE e.name = $5 AND e.consumed_by_key IS NULL AND NOT EXISTS (SELECT 1 FROM already)
  ORDER BY e.id
  LIMIT 1
  FOR UPDATE OF e
), consumed AS (
  UPDATE ${t.events} e SET consumed_by_key = $4
  FROM next_event WHERE e.id = next_event.id
  RETURNING e.payload
), recorded AS (
  INSERT INTO ${t.steps} AS s (run_id, key, seq, sequential, completion_seq, name, status, output, attempts, started_at, finished_at)
  SELECT $1, $4, $6, $8, $9, $7, 'completed', consumed.payload, 1, now(), now() FROM consumed
  ON CONFLICT (run_id, key) DO UPDATE
    SET status = 'completed', output = excluded.output, wake_at = NULL, finished_at = now(),
        completion_seq = excluded.completion_seq
    WHERE s.status = 'waiting'
  RETURNING output
)
SELECT (SELECT count(*)::int FROM fence) AS fenced,
       coalesce((SELECT output FROM already), (SELECT output FROM recorded)) AS payload`;

/** The payload of the consumed event, or undefined when none is waiting. */
export async function consumeEvent(
  db: ZartDatabase,
  lease: RunLease,
  wait: { key: string; event: string; seq: number; sequential: boolean; name: string; completionSeq: number },
): Promise<{ payload: StoredValue } | undefined> {
  const { rows } = await db.query<{ fenced: number; payload: StoredValue | null }>(db.sql(consumeSql), [
    lease.runId,
    lease.owner,
    lease.epoch,
    wait.key,
    wait.event,
    wait.seq,
    wait.name,
    wait.sequential,
    wait.completionSeq,
  ]);
  if (rows[0]?.fenced !== 1) throw new LeaseLostError(lease.runId);
  return rows[0].payload === null ? undefined : { payload: rows[0].payload };
}
