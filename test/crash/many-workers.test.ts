import { useTestDatabase } from '../support/test-zart';
import { useCrashHarness } from '../support/crash-harness';
import { FiveSteps } from './fixtures/five-steps.workflow';
import { waitFor } from '../support/wait-for';

const db = useTestDatabase();
// A 3 s lease: survivors on a loaded machine must not lose theirs, or their steps would repeat too.
const { startWorker, kill } = useCrashHarness(db, { ZART_LEASE: '3s', ZART_STEP_MS: '40', ZART_CONCURRENCY: '20' });
const runs = 180;

describe('three worker processes and 180 runs, one worker SIGKILLed mid-flight', () => {
  it('completes every run; only the killed worker’s in-flight steps run twice', async () => {
    const client = await db.client();
    const workers = await Promise.all([0, 1, 2].map(() => startWorker()));
    expect((await client.listWorkers()).map((w) => w.pid).sort()).toEqual(workers.map((w) => w.process.pid).sort());

    const ids = Array.from({ length: runs }, (_, i) => `many-${i}`);
    for (const id of ids) await client.startWorkflow(FiveSteps, { runId: id }, { id });
    const victim = workers[0]!;
    await waitFor(async () => {
      const { rows } = await db.sql.query('SELECT count(*)::int AS n FROM effects WHERE pid = $1', [
        victim.process.pid,
      ]);
      return rows[0].n >= 30;
    });
    await kill(victim);
    const inFlight = await db.sql.query<{ n: number }>(
      "SELECT count(*)::int AS n FROM zart.runs WHERE status = 'running' AND lease_owner LIKE $1",
      [`${victim.process.pid}-%`],
    );

    const results = await Promise.all(ids.map((id) => client.getHandle<string[]>(id).result({ timeout: '120s' })));
    expect(results).toEqual(ids.map((id) => [1, 2, 3, 4, 5].map((n) => `step ${n} of ${id}`)));

    const { rows } = await db.sql.query<{ run_id: string; step: number; n: number; pids: number[] }>(
      'SELECT run_id, step, count(*)::int AS n, array_agg(pid) AS pids FROM effects GROUP BY run_id, step',
    );
    expect(rows).toHaveLength(runs * 5);
    const repeated = rows.filter((r) => r.n > 1);
    expect(repeated.filter((r) => r.n > 2)).toEqual([]);
    // A repeat is a step the killed worker had started and not checkpointed: at most one per
    // run it held, and each repeat includes an execution by the killed process.
    expect(repeated.length).toBeLessThanOrEqual(inFlight.rows[0]!.n);
    expect(new Set(repeated.map((r) => r.run_id)).size).toBe(repeated.length);
    for (const r of repeated) expect(r.pids).toContain(victim.process.pid);
    process.stderr.write(
      `many workers: ${inFlight.rows[0]!.n} runs in flight on the killed worker, ${repeated.length} steps repeated\n`,
    );
  }, 240_000);
});
