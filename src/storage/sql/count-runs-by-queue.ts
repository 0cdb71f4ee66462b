// The scrape-time gauges of runs per queue (observability/zart-metrics.ts), in one statement.
// It reads only unfinished runs, through the two partial indexes of the claim (runs_claimable_idx
// for pending and waiting, runs_leased_idx for running), so finished history costs nothing; its
// cost grows with the backlog, and it runs once per scrape, never per run.
import type { QueueRunCounts } from '../../observability/zart-metrics';
import type { ZartDatabase } from '../zart-database';

const countSql = (t: { runs: string }) => `
SELECT queue,
       count(*) FILTER (WHERE status = 'pending')::int AS pending,
       count(*) FILTER (WHERE status = 'waiting')::int AS waiting,
       count(*) FILTER (WHERE status = 'running')::int AS running,
       count(*) FILTER (WHERE status <> 'running' AND available_at <= now())::int AS due,
       coalesce(extract(epoch FROM now() - min(available_at) FILTER (WHERE status <> 'running' AND available_at <= now())), 0)::float8
         AS "oldestDueSeconds"
FROM ${t.runs}
-- Written as the two indexes' predicates, so the planner can combine them (BitmapOr).
WHERE status IN ('pending', 'waiting') OR status = 'running'
GROUP BY queue`;

export async function countRunsByQueue(db: ZartDatabase): Promise<QueueRunCounts[]> {
  const { rows } = await db.query<QueueRunCounts>(db.sql(countSql));
  return rows;
}
