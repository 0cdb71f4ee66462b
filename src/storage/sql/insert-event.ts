// sendEvent: buffers an event for a run and wakes the run if it waits for that name. The run row
// is always updated (locked) here: a worker parking the run at the same moment then waits for this
// commit, and its check for pending events after parking sees the event (see wait-for-event).
import type { StoredValue } from '../../serialization/serializer';
import type { RunStatus } from '../entities';
import type { ZartDatabase } from '../zart-database';

const insertSql = (t: { runs: string; events: string }) => `
WITH run AS (
  UPDATE ${t.runs}
  SET available_at = CASE WHEN status = 'waiting' AND 'event:' || $2 = ANY(string_to_array(waiting_for, E'\\n')) THEN now() ELSE available_at END,
      updated_at = now()
  WHERE id = $1 AND status IN ('pending', 'running', 'waiting')
  RETURNING id, status
), event AS (
  INSERT INTO ${t.events} (run_id, name, payload)
  SELECT id, $2, $3 FROM run
  RETURNING id
)
SELECT (SELECT id FROM event) AS "eventId", (SELECT status FROM ${t.runs} WHERE id = $1) AS status`;

/** Returns the event id, or the run's status (undefined: no such run) when it takes no events. */
export async function insertEvent(
  db: ZartDatabase,
  event: { runId: string; name: string; payload: StoredValue },
): Promise<{ eventId: string | null; status: RunStatus | undefined }> {
  const { rows } = await db.query<{ eventId: string | null; status: RunStatus | null }>(db.sql(insertSql), [
    event.runId,
    event.name,
    JSON.stringify(event.payload),
  ]);
  return { eventId: rows[0]?.eventId ?? null, status: rows[0]?.status ?? undefined };
}
