// Adds this worker to the workers table at start and removes it at shutdown. Rows of workers that
// died without shutting down are swept when any worker starts, a day after their last heartbeat.
import type { ZartDatabase } from '../zart-database';

const upsertSql = (t: { workers: string }) => `
INSERT INTO ${t.workers} (id, host, pid, version, versions, started_at, heartbeat_at)
VALUES ($1, $2, $3, $4, $5, now(), now())
ON CONFLICT (id) DO UPDATE SET heartbeat_at = now()`;

const sweepSql = (t: { workers: string }) => `
DELETE FROM ${t.workers} WHERE heartbeat_at < now() - interval '1 day'`;

const deleteSql = (t: { workers: string }) => `
DELETE FROM ${t.workers} WHERE id = $1`;

export async function registerWorker(
  db: ZartDatabase,
  /** `versions`: the code versions whose runs it claims; null for every run. */
  worker: { id: string; host: string; pid: number; version: string; versions: readonly string[] | null },
): Promise<void> {
  await db.query(db.sql(sweepSql));
  await db.query(db.sql(upsertSql), [worker.id, worker.host, worker.pid, worker.version, worker.versions]);
}

export async function unregisterWorker(db: ZartDatabase, id: string): Promise<void> {
  await db.query(db.sql(deleteSql), [id]);
}
