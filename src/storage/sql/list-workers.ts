// Lists the workers whose heartbeat is recent by the database clock. Workers beat at least every
// 10 s (with lease renewal), so a minute of silence means the process is gone.
import type { ZartDatabase } from '../zart-database';

export interface WorkerRow {
  id: string;
  host: string;
  pid: number;
  version: string;
  startedAt: Date;
  heartbeatAt: Date;
}

const listSql = (t: { workers: string }) => `
SELECT id, host, pid, version, started_at AS "startedAt", heartbeat_at AS "heartbeatAt"
FROM ${t.workers}
WHERE heartbeat_at > now() - interval '1 minute'
ORDER BY started_at`;

export async function listWorkers(db: ZartDatabase): Promise<WorkerRow[]> {
  const { rows } = await db.query<WorkerRow>(db.sql(listSql));
  return rows;
}
