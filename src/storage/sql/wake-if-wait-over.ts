// After parking a run: if an event it waits for was sent, or a child it waits for finished, while
// it was parking (the sender or the child saw it still running, so woke nobody), make it claimable
// now. Senders and finishing children lock the run row (insert-event.ts, finish-run.ts), so one of
// the two sides always sees the other.
import type { ZartDatabase } from '../zart-database';

const wakeSql = (t: { runs: string; events: string }) => `
UPDATE ${t.runs}
SET available_at = now()
WHERE id = $1 AND status = 'waiting'
  AND (EXISTS (SELECT 1 FROM ${t.events} WHERE run_id = $1 AND name = ANY($2::text[]) AND consumed_by_key IS NULL)
       OR EXISTS (SELECT 1 FROM ${t.runs} WHERE id = ANY($3::text[]) AND status IN ('completed', 'failed', 'cancelled')))`;

/** Returns true when the run was woken. */
export async function wakeIfWaitOver(
  db: ZartDatabase,
  runId: string,
  over: { events: readonly string[]; children: readonly string[] },
): Promise<boolean> {
  if (over.events.length === 0 && over.children.length === 0) return false;
  const { rowCount } = await db.query(db.sql(wakeSql), [runId, over.events, over.children]);
  return rowCount === 1;
}
