// `npx ts-node bench/explain-claim.ts`: EXPLAIN (ANALYZE, BUFFERS) of the claim statements with
// 1,000,000 finished runs in the table (and a small live backlog), for docs/performance.md. Works
// in its own database (BENCH_EXPLAIN_DATABASE, default zart_explain) on DATABASE_URL's server;
// each claim runs in a transaction that is rolled back, so every plan sees the same rows.
import { Client } from 'pg';
import { ZartClient } from '../src';
import { claimSql } from '../src/storage/sql/claim-runs';

const finished = Number(process.env.BENCH_EXPLAIN_FINISHED ?? 1_000_000);
const database = process.env.BENCH_EXPLAIN_DATABASE ?? 'zart_explain';
const tables = {
  runs: '"zart"."runs"',
  steps: '"zart"."steps"',
  events: '"zart"."events"',
  workers: '"zart"."workers"',
  queueStarts: '"zart"."queue_starts"',
};

async function main(): Promise<void> {
  const server = new URL(process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres');
  const admin = new Client({ connectionString: server.toString() });
  await admin.connect();
  await admin.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
  await admin.query(`CREATE DATABASE ${database}`);
  const url = new URL(server.toString());
  url.pathname = `/${database}`;
  const client = new ZartClient({ connectionString: url.toString() });
  await client.start();
  await client.shutdown();
  const sql = new Client({ connectionString: url.toString() });
  await sql.connect();
  try {
    // History in two queues, then a live backlog: due runs and running ones in each.
    await sql.query(
      `INSERT INTO zart.runs (id, workflow, status, queue, input, started_at, finished_at, created_at)
       SELECT 'done-' || n, 'bench', 'completed', CASE WHEN n % 10 = 0 THEN 'emails' ELSE 'default' END, '{"v":1}',
              now() - interval '1 day', now() - interval '1 day' + n * interval '1 ms', now() - interval '1 day'
       FROM generate_series(1, $1::int) n`,
      [finished],
    );
    await sql.query(
      `INSERT INTO zart.runs (id, workflow, status, queue, input, partition_key)
       SELECT 'due-' || q || '-' || n, 'bench', 'pending', q, '{"v":1}', 'customer-' || (n % 20)
       FROM generate_series(1, 1000) n, unnest(ARRAY['default', 'emails']) q`,
    );
    await sql.query(
      `INSERT INTO zart.runs (id, workflow, status, queue, input, lease_owner, lease_expires_at, started_at, partition_key)
       SELECT 'live-' || q || '-' || n, 'bench', 'running', q, '{"v":1}', 'other', now() + interval '1 minute', now(), 'customer-' || (n % 20)
       FROM generate_series(1, 50) n, unnest(ARRAY['default', 'emails']) q`,
    );
    await sql.query('VACUUM ANALYZE zart.runs');
    const explain = async (title: string, text: string, params: unknown[]): Promise<void> => {
      await sql.query('BEGIN');
      // Warm once, then the measured plan.
      await sql.query(`EXPLAIN (ANALYZE) ${text}`, params);
      await sql.query('ROLLBACK');
      await sql.query('BEGIN');
      const { rows } = await sql.query<{ 'QUERY PLAN': string }>(`EXPLAIN (ANALYZE, BUFFERS) ${text}`, params);
      await sql.query('ROLLBACK');
      console.log(`\n### ${title}\n`);
      for (const row of rows) console.log(row['QUERY PLAN']);
    };
    await explain('claim (default queue), 10 runs', claimSql(tables), [
      'bench-worker',
      ['default'],
      ['bench'],
      10,
      30_000,
      [],
      null,
    ]);
    let claimQueueSql: ((t: typeof tables) => string) | undefined;
    try {
      // Present from the queues migration on: absent when this script runs on an older tree.
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      claimQueueSql = (require('../src/storage/sql/claim-queue-runs') as { claimQueueSql: typeof claimQueueSql })
        .claimQueueSql;
    } catch {
      claimQueueSql = undefined;
    }
    if (claimQueueSql) {
      const queue = (concurrency: number | null, limit: number | null, partitions: number | null): unknown[] => [
        'bench-worker',
        'emails',
        ['bench'],
        10,
        30_000,
        [],
        concurrency,
        limit,
        limit === null ? null : 1000,
        partitions,
        1000,
        null,
      ];
      await explain(
        'claim of a limited queue (concurrency 60, 50 running), 10 runs',
        claimQueueSql(tables),
        queue(60, null, null),
      );
      await explain(
        'claim of a limited queue (rate limit 100/s and partition concurrency 3)',
        claimQueueSql(tables),
        queue(null, 100, 3),
      );
    }
  } finally {
    await sql.end();
    await admin.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
    await admin.end();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
