import { useTestDatabase } from '../support/test-zart';
import { useCrashHarness } from '../support/crash-harness';
import { SlowSteps } from './fixtures/slow-steps.workflow';
import { waitFor } from '../support/wait-for';

const db = useTestDatabase();
// A long lease and a slow poll: only the hand-back and its notification can explain a quick resume.
const { startWorker, stop } = useCrashHarness(db, { ZART_LEASE: '60s', ZART_POLL_INTERVAL: '20s' });

describe('a redeploy: SIGTERM to a worker with 20 runs in flight', () => {
  it('runs no step twice and the new process resumes every run at once', async () => {
    const client = await db.client();
    // The new deployment boots first (ts-node takes seconds) and is frozen until the switch-over,
    // so every run is claimed by the old one.
    const next = await startWorker();
    next.process.kill('SIGSTOP');
    const old = await startWorker();
    const ids = Array.from({ length: 20 }, (_, i) => `redeploy-${i}`);
    for (const id of ids) await client.startWorkflow(SlowSteps, { runId: id }, { id });
    await waitFor(async () => {
      const { rows } = await db.sql.query('SELECT count(DISTINCT run_id)::int AS n FROM effects');
      return rows[0].n === 20;
    });

    next.process.kill('SIGCONT');
    await stop(old, 30_000);
    expect(await old.exited).toBe(0);

    const results = await Promise.all(ids.map((id) => client.getHandle<number>(id).result({ timeout: '60s' })));
    expect(results).toEqual(ids.map(() => 21));

    const { rows } = await db.sql.query<{ run_id: string; step: number; n: number }>(
      'SELECT run_id, step, count(*)::int AS n FROM effects GROUP BY run_id, step',
    );
    expect(rows).toHaveLength(20 * 6);
    expect(rows.filter((r) => r.n !== 1)).toEqual([]);

    // Each run moved: the old process ran its first steps, the new one the rest, promptly.
    const gaps = await db.sql.query<{ run_id: string; old_steps: number; gap_ms: number }>(
      `SELECT run_id,
              count(*) FILTER (WHERE pid = $1)::int AS old_steps,
              (extract(epoch FROM min(at) FILTER (WHERE pid = $2) - max(at) FILTER (WHERE pid = $1)) * 1000)::float8 AS gap_ms
       FROM effects GROUP BY run_id`,
      [old.process.pid, next.process.pid],
    );
    for (const run of gaps.rows) {
      expect(run.old_steps).toBeGreaterThanOrEqual(1);
      expect(run.old_steps).toBeLessThan(6);
      // One step takes ~250 ms; without the notification the next poll would be 20 s away.
      expect(run.gap_ms).toBeLessThan(2_000);
    }
    const sorted = gaps.rows.map((r) => Number(r.gap_ms)).sort((a, b) => a - b);
    process.stderr.write(
      `redeploy hand-off gap (ms): median ${sorted[10]!.toFixed(0)}, max ${sorted[19]!.toFixed(0)}\n`,
    );
  }, 180_000);
});
