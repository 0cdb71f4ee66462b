// Wakes a parent parked on a batch of children (startChildren) if no child of the batch is left.
// Sent after a statement finishing children of the batch committed (finish-runs.ts), when the only
// siblings it saw unfinished were running and so may have finished beside it: the statement whose
// commit comes last sees them all finished here. Locks the parent row only when waking it.
import type { ZartDatabase } from '../zart-database';
import { wakeUpChannel } from './notify-wake-up';

const wakeSql = (t: { runs: string }) => `
WITH woken AS (
  UPDATE ${t.runs} p
  SET available_at = now()
  WHERE p.id = $1 AND p.status = 'waiting'
    AND 'children:' || $2 = ANY(string_to_array(p.waiting_for, E'\\n'))
    AND NOT EXISTS (SELECT 1 FROM ${t.runs} child
                    WHERE child.parent_id = $1 AND child.batch_key = $2
                      AND child.status IN ('pending', 'running', 'waiting'))
  RETURNING 1
)
SELECT pg_notify($3, NULL) FROM woken`;

export async function wakeBatchParent(db: ZartDatabase, parentId: string, batchKey: string): Promise<void> {
  await db.query(db.sql(wakeSql), [parentId, batchKey, wakeUpChannel(db.schema)]);
}
