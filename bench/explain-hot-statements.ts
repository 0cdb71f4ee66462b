// `npx ts-node bench/explain-hot-statements.ts`: EXPLAIN (ANALYZE, BUFFERS, WAL) of the statements
// a run's life sends (claims, starts, checkpoints, finishes, lease renewal) with 1,000,000 finished
// runs in the table (and a small live backlog), for docs/performance.md. Works in its own database
// (BENCH_EXPLAIN_DATABASE, default zart_explain) on DATABASE_URL's server; each statement runs in
// a transaction that is rolled back, so every plan sees the same rows. The write statements are
// captured from the storage functions themselves (their text and parameters, not sent), so the
// plans are of the SQL the worker sends, whichever file it lives in.
import { Client } from 'pg';
import { ZartClient } from '../src';
import { claimSql } from '../src/storage/sql/claim-runs';
import { finishRuns } from '../src/storage/sql/finish-runs';
import { insertCheckpoint, type LeasedCheckpoint } from '../src/storage/sql/insert-checkpoint';
import { insertCheckpoints } from '../src/storage/sql/insert-checkpoints';
import { insertRuns } from '../src/storage/sql/insert-runs';
import { renewLeases } from '../src/storage/sql/renew-leases';
import { ZartDatabase } from '../src/storage/zart-database';

const finished = Number(process.env.BENCH_EXPLAIN_FINISHED ?? 1_000_000);
const database = process.env.BENCH_EXPLAIN_DATABASE ?? 'zart_explain';
const tables = {
  runs: '"zart"."runs"',
  steps: '"zart"."steps"',
  events: '"zart"."events"',
  workers: '"zart"."workers"',
  queueStarts: '"zart"."queue_starts"',
};

interface Captured {
  text: string;
  values: unknown[];
}

/** Runs `send` with the pool's query() replaced: returns the one statement it would have sent. */
async function capture(db: ZartDatabase, send: () => Promise<unknown>): Promise<Captured> {
  const pool = db.pool as unknown as { query: unknown };
  const original = pool.query;
  let captured: Captured | undefined;
  pool.query = (config: { text: string; values: unknown[] }) => {
    captured = { text: config.text, values: config.values };
    return Promise.resolve({ rows: [], rowCount: 0 });
  };
  try {
    await send();
  } catch (error) {
    // The empty answer is not what every caller reads (finish-runs.ts expects its one row): once
    // the statement is captured, what the function makes of the answer does not matter.
    if (!captured) throw error;
  } finally {
    pool.query = original;
  }
  if (!captured) throw new Error('The storage function sent no statement.');
  return captured;
}

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
  const db = await ZartDatabase.open(
    { kind: 'url', url: url.toString(), poolSize: 1, connectTimeoutMs: 10_000, statementTimeoutMs: 0 },
    'zart',
  );
  const sql = new Client({ connectionString: url.toString() });
  await sql.connect();
  try {
    // History in two queues, 5 checkpoints for each of the last 100,000 finished runs, then a
    // live backlog: due runs and running ones (held by 'bench-worker', epoch 1) in each queue.
    await sql.query(
      `INSERT INTO zart.runs (id, workflow, status, queue, input, started_at, finished_at, created_at)
       SELECT 'done-' || n, 'bench', 'completed', CASE WHEN n % 10 = 0 THEN 'emails' ELSE 'default' END, '{"v":1}',
              now() - interval '1 day', now() - interval '1 day' + n * interval '1 ms', now() - interval '1 day'
       FROM generate_series(1, $1::int) n`,
      [finished],
    );
    await sql.query(
      `INSERT INTO zart.steps (run_id, key, seq, name, status, output, started_at, finished_at)
       SELECT 'done-' || n, 'step#' || k, k, 'step', 'completed', '{"json":1}', now() - interval '1 day', now() - interval '1 day'
       FROM generate_series(greatest(1, $1::int - 100000), $1::int) n, generate_series(0, 4) k`,
      [finished],
    );
    await sql.query(
      `INSERT INTO zart.runs (id, workflow, status, queue, input, partition_key)
       SELECT 'due-' || q || '-' || n, 'bench', 'pending', q, '{"v":1}', 'customer-' || (n % 20)
       FROM generate_series(1, 1000) n, unnest(ARRAY['default', 'emails']) q`,
    );
    await sql.query(
      `INSERT INTO zart.runs (id, workflow, status, queue, input, lease_owner, lease_epoch, lease_expires_at, started_at, partition_key)
       SELECT 'live-' || q || '-' || n, 'bench', 'running', q, '{"v":1}', 'bench-worker', 1, now() + interval '1 minute', now(), 'customer-' || (n % 20)
       FROM generate_series(1, 50) n, unnest(ARRAY['default', 'emails']) q`,
    );
    await sql.query(`INSERT INTO zart.workers (id, host, pid, version) VALUES ('bench-worker', 'bench', 1, '0')`);
    await sql.query('VACUUM ANALYZE zart.runs');
    await sql.query('VACUUM ANALYZE zart.steps');
    const explain = async (title: string, text: string, params: unknown[]): Promise<void> => {
      await sql.query('BEGIN');
      // Warm once, then the measured plan.
      await sql.query(`EXPLAIN (ANALYZE) ${text}`, params);
      await sql.query('ROLLBACK');
      await sql.query('BEGIN');
      const { rows } = await sql.query<{ 'QUERY PLAN': string }>(`EXPLAIN (ANALYZE, BUFFERS, WAL) ${text}`, params);
      await sql.query('ROLLBACK');
      console.log(`\n### ${title}\n`);
      for (const row of rows) console.log(row['QUERY PLAN']);
    };
    const explainCaptured = async (title: string, send: () => Promise<unknown>): Promise<void> => {
      const { text, values } = await capture(db, send);
      await explain(title, text, values);
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

    const live = Array.from({ length: 10 }, (_, i) => `live-default-${i + 1}`);
    const checkpoint = (runId: string): LeasedCheckpoint => ({
      lease: { runId, owner: 'bench-worker', epoch: 1 },
      checkpoint: {
        key: 'step#0',
        seq: 0,
        sequential: true,
        completionSeq: 0,
        name: 'step',
        argsHash: null,
        status: 'completed',
        output: { json: 1 },
        error: null,
        attempts: 1,
        durationMs: 0.1,
        replacesOpenRow: false,
      },
    });
    await explainCaptured('start of 10 runs (insert-runs.ts)', () =>
      insertRuns(
        db,
        live.map((id) => ({
          run: {
            id: `new-${id}`,
            workflow: 'bench',
            version: null,
            queue: 'default',
            input: { v: 1 },
            timeoutMs: null,
            traceContext: null,
          },
          placement: { priority: 0, partitionKey: null, deduplicationKey: null, delayMs: null, startAt: null },
          // As a process with a worker starts them: claimed by it in the insert.
          claim: { owner: 'explain', leaseMs: 30_000, slots: 1 },
        })),
      ),
    );
    await explainCaptured('one checkpoint (insert-checkpoint.ts)', () => insertCheckpoint(db, checkpoint(live[0]!)));
    await explainCaptured('checkpoints of 10 runs (insert-checkpoints.ts)', () =>
      insertCheckpoints(db, live.map(checkpoint)),
    );
    await explainCaptured('finish of 10 runs (finish-runs.ts)', () =>
      finishRuns(
        db,
        live.map((runId) => ({
          lease: { runId, owner: 'bench-worker', epoch: 1 },
          outcome: { status: 'completed', output: { json: 1 } },
        })),
      ),
    );
    await explainCaptured('finish of one run without a parent (finish-runs.ts, alone)', () =>
      finishRuns(db, [
        {
          lease: { runId: live[0]!, owner: 'bench-worker', epoch: 1 },
          outcome: { status: 'completed', output: { json: 1 } },
          parentId: null,
        },
      ]),
    );
    await explainCaptured('lease renewal of 50 runs (renew-leases.ts)', () =>
      renewLeases(
        db,
        'bench-worker',
        Array.from({ length: 50 }, (_, i) => ({ id: `live-default-${i + 1}`, epoch: 1 })),
        30_000,
      ),
    );
  } finally {
    await sql.end();
    await db.close();
    await admin.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
    await admin.end();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
