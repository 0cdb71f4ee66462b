// Wakes every listening worker of this schema: runs became claimable (started, handed back).
// Sent as its own statement after the write committed, never inside the checkpoint path: a
// transaction that NOTIFYs takes a global lock at commit, serialising committing writers.
import type { ZartDatabase } from '../zart-database';

/** The LISTEN/NOTIFY channel of a schema. */
export function wakeUpChannel(schema: string): string {
  return `zart_wake_up_${schema}`;
}

export async function notifyWakeUp(db: ZartDatabase): Promise<void> {
  await db.query('SELECT pg_notify($1, NULL)', [wakeUpChannel(db.schema)]);
}
