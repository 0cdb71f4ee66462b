// Queue limits over three real worker processes (one SIGKILLed mid-flight): what ran at once is
// read from the `executions` table the fixtures write (database clock), both sampled while the
// runs execute and computed exactly from the recorded intervals afterwards.
import { setTimeout as delay } from 'node:timers/promises';
import { spawnTypeScript, type ChildHandle } from '../support/child-process';
import { useTestDatabase } from '../support/test-zart';
import { OnePerCustomer, TenPerSecond, TwoAtATime, queuedWorkQueues } from './fixtures/queued-work.workflow';

const db = useTestDatabase();
const workers: ChildHandle[] = [];

interface Execution {
  run_id: string;
  pid: number;
  partition_key: string | null;
  started_at: Date;
  ended_at: Date | null;
}

const spawnWorker = async (): Promise<ChildHandle> => {
  const child = spawnTypeScript('test/crash/fixtures/queue-worker.ts', { DATABASE_URL: db.url, ZART_LEASE: '2s' });
  workers.push(child);
  // ts-node compiles the fixtures on start: slow on a loaded two-core machine.
  await child.waitForLine('READY', 90_000);
  return child;
};

beforeAll(async () => {
  await db.sql.query(
    `CREATE TABLE executions (id serial PRIMARY KEY, run_id text, pid int, partition_key text,
                              started_at timestamptz DEFAULT clock_timestamp(), ended_at timestamptz)`,
  );
  await Promise.all([0, 1, 2].map(spawnWorker));
}, 240_000);

afterAll(async () => {
  for (const child of workers) child.process.kill('SIGKILL');
  await Promise.all(workers.map((child) => child.exited));
});

const executions = async (workflow: string): Promise<Execution[]> =>
  (
    await db.sql.query<Execution>(
      `SELECT e.* FROM executions e JOIN zart.runs r ON r.id = e.run_id WHERE r.workflow = $1 ORDER BY e.started_at`,
      [workflow],
    )
  ).rows;

/** The most intervals open at one instant; `endOf` gives an open interval its end. */
function mostAtOnce(rows: Execution[], endOf: (row: Execution) => number = (row) => row.ended_at!.getTime()): number {
  // Ends sort before starts at the same instant: touching intervals did not overlap.
  const points = rows.flatMap((row) => [
    { at: row.started_at.getTime(), delta: 1 },
    { at: endOf(row), delta: -1 },
  ]);
  points.sort((a, b) => a.at - b.at || a.delta - b.delta);
  let open = 0;
  let most = 0;
  for (const point of points) most = Math.max(most, (open += point.delta));
  return most;
}

/** The most of `times` (ms) in one closed window [t, t + windowMs]: the busiest begins at some time. */
function busiestWindow(times: number[], windowMs: number): number {
  return Math.max(...times.map((start) => times.filter((at) => at >= start && at <= start + windowMs).length));
}

describe('queue limits across three worker processes', () => {
  // Starts are what the limit counts: first claims, which set startedAt. Measured twice: from the
  // startedAt a user reads (milliseconds; before the claim's 1 ms margin, a claim less than 1 ms
  // after a window reopened made 11 to 13 show in one window of these), and exactly, from the
  // database's microseconds. Not from the first step's execution: a claimed run's first step may
  // begin hundreds of ms later in a loaded process, which no limit on starts can space out.
  it('start at most 10 runs in any 1-second window with a rate limit of 10 per second', async () => {
    const client = await db.client({ queues: queuedWorkQueues });
    const handles = await Promise.all(
      Array.from({ length: 35 }, (_, i) => client.startWorkflow(TenPerSecond, { ms: 10 }, { id: `rated-${i}` })),
    );
    await Promise.all(handles.map((handle) => handle.result({ timeout: '120s' })));
    const runs = await client.listRuns({ workflow: 'ten-per-second' });
    expect(runs).toHaveLength(35);
    expect(
      busiestWindow(
        runs.map((run) => run.startedAt!.getTime()),
        1000,
      ),
    ).toBe(10);
    const { rows } = await db.sql.query<{ most: number }>(
      `SELECT max((SELECT count(*) FROM zart.runs b WHERE b.workflow = a.workflow
                   AND b.started_at BETWEEN a.started_at AND a.started_at + interval '1 second'))::int AS most
       FROM zart.runs a WHERE a.workflow = 'ten-per-second'`,
    );
    expect(rows[0]!.most).toBe(10);
    // The work was spread over the processes, not done by one.
    const pids = new Set((await executions('ten-per-second')).map((row) => row.pid));
    expect(pids.size).toBeGreaterThan(1);
  }, 180_000);

  it('never run two runs of one partition key at once, while the keys progress in parallel', async () => {
    const client = await db.client({ queues: queuedWorkQueues });
    const keys = ['acme', 'globex', 'initech', 'umbrella', 'hooli'];
    const handles = [];
    for (let n = 0; n < 10; n++) {
      for (const key of keys) {
        handles.push(await client.startWorkflow(OnePerCustomer, { ms: 100, partitionKey: key }, { partitionKey: key }));
      }
    }
    await Promise.all(handles.map((handle) => handle.result({ timeout: '120s' })));
    const rows = await executions('one-per-customer');
    expect(rows).toHaveLength(50);
    for (const key of keys) expect(mostAtOnce(rows.filter((row) => row.partition_key === key))).toBe(1);
    expect(mostAtOnce(rows)).toBeGreaterThanOrEqual(2);
    expect(new Set(rows.map((row) => row.pid)).size).toBeGreaterThan(1);
  }, 180_000);

  it('never run more than 2 at once with concurrency 2, even when a process is SIGKILLed mid-flight', async () => {
    const client = await db.client({ queues: queuedWorkQueues });
    const handles = await Promise.all(
      Array.from({ length: 60 }, (_, i) => client.startWorkflow(TwoAtATime, { ms: 200 }, { id: `two-${i}` })),
    );
    const killed: number[] = [];
    const samples: number[] = [];
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        // A killed process executes nothing: its open rows stopped at its death.
        const { rows } = await db.sql.query<{ n: number }>(
          `SELECT count(*)::int AS n FROM executions e JOIN zart.runs r ON r.id = e.run_id
           WHERE r.workflow = 'two-at-a-time' AND e.ended_at IS NULL AND e.pid <> ALL($1::int[])`,
          [killed],
        );
        samples.push(rows[0]!.n);
        await delay(20);
      }
    })();
    // Midway: a process that is executing a run of the queue now.
    let victim: ChildHandle | undefined;
    while (!victim) {
      const { rows } = await db.sql.query<{ pid: number; done: number }>(
        `SELECT (SELECT pid FROM executions e JOIN zart.runs r ON r.id = e.run_id
                 WHERE r.workflow = 'two-at-a-time' AND e.ended_at IS NULL LIMIT 1) AS pid,
                (SELECT count(*)::int FROM zart.runs WHERE workflow = 'two-at-a-time' AND status = 'completed') AS done`,
      );
      const { pid, done } = rows[0]!;
      const candidate = done >= 20 && pid !== null ? workers.find((child) => child.process.pid === pid) : undefined;
      if (!candidate) {
        await delay(20);
        continue;
      }
      // Frozen first, so that the execution seen open cannot end before the kill; a statement it
      // had already sent lands within the pause. Still open then: it dies mid-step.
      candidate.process.kill('SIGSTOP');
      await delay(50);
      const { rows: open } = await db.sql.query(
        `SELECT 1 FROM executions e JOIN zart.runs r ON r.id = e.run_id
         WHERE r.workflow = 'two-at-a-time' AND e.ended_at IS NULL AND e.pid = $1`,
        [pid],
      );
      if (open.length > 0) victim = candidate;
      else candidate.process.kill('SIGCONT');
    }
    victim.process.kill('SIGKILL');
    await victim.exited;
    killed.push(victim.process.pid!);
    const killedAt = (await db.sql.query<{ at: Date }>('SELECT clock_timestamp() AS at')).rows[0]!.at.getTime();

    const pids = await Promise.all(handles.map((handle) => handle.result({ timeout: '120s' })));
    sampling = false;
    await sampler;
    expect(pids).toHaveLength(60);
    expect(Math.max(...samples)).toBe(2);
    expect(samples.length).toBeGreaterThan(50);
    // Exactly, from the intervals: the killed process's open executions ended when it died.
    const rows = await executions('two-at-a-time');
    const open = rows.filter((row) => row.ended_at === null);
    expect(open.length).toBeGreaterThan(0);
    expect(open.every((row) => row.pid === victim.process.pid)).toBe(true);
    expect(mostAtOnce(rows, (row) => row.ended_at?.getTime() ?? killedAt)).toBe(2);
    process.stderr.write(
      `queue limits: ${samples.length} samples, ${rows.length} executions for 60 runs, ${open.length} cut by SIGKILL\n`,
    );
  }, 240_000);
});
