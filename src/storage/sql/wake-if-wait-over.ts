// Run by suspend-run.ts right after parking, in the same transaction: if an event the run waits
// for was sent, or a child it waits for finished, while it was parking (the sender or the child saw
// it still running, so woke nobody), make it claimable now. Senders and finishing children lock the
// run row (insert-event.ts, finish-runs.ts), and this statement takes a fresh snapshot after the
// park's update locked it, so one of the two sides always sees the other. For a batch of children
// the same holds for its last child; a statement that finishes children of a batch while others
// are left has the batch looked at again after its commit (finish-writer.ts), locking the parent
// too, so the look after the statement committing last always sees the batch done.

/** @internal The statement text; suspendRun() runs it. */
export const wakeSql = (t: { runs: string; events: string }) => `
UPDATE ${t.runs}
SET available_at = now()
WHERE id = $1 AND status = 'waiting'
  AND (EXISTS (SELECT 1 FROM ${t.events} WHERE run_id = $1 AND name = ANY($2::text[]) AND consumed_by_key IS NULL)
       OR EXISTS (SELECT 1 FROM ${t.runs} WHERE id = ANY($3::text[]) AND status IN ('completed', 'failed', 'cancelled'))
       OR EXISTS (SELECT 1 FROM unnest($4::text[]) AS batch(key)
                  WHERE NOT EXISTS (SELECT 1 FROM ${t.runs} child
                                    WHERE child.parent_id = $1 AND child.batch_key = batch.key
                                      AND child.status IN ('pending', 'running', 'waiting'))))`;
