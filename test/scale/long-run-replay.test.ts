import { useCrashHarness } from '../support/crash-harness';
import { useTestDatabase } from '../support/test-zart';
import { waitFor } from '../support/wait-for';
import { LongRun } from '../crash/fixtures/long-run.workflow';

const db = useTestDatabase();
const { startWorker, kill } = useCrashHarness(db);

/** The `REPLAYED <steps> <ms>` line a worker prints when the run reaches "park". */
async function replayMs(stdout: () => string, steps: number): Promise<number> {
  const pattern = new RegExp(`^REPLAYED ${steps} (\\d+)$`, 'm');
  await waitFor(() => pattern.test(stdout()), 180_000);
  return Number(pattern.exec(stdout())![1]);
}

/** Per step of a finished run, from its own checkpoints (database clock): first to last step's end. */
async function perStepMs(runId: string, steps: number): Promise<number> {
  const { rows } = await db.sql.query<{ ms: number }>(
    `SELECT extract(epoch FROM max(finished_at) - min(finished_at))::float8 * 1000 AS ms
     FROM zart.steps WHERE run_id = $1 AND name = 's'`,
    [runId],
  );
  return rows[0]!.ms / (steps - 1);
}

describe('a run of 10,000 steps', () => {
  it('replays its checkpoints after a SIGKILL in seconds, runs no step again, and costs per step what a run of 1,000 does', async () => {
    const client = await db.client();
    // The successor is started first and held with SIGSTOP, so its start-up is not timed.
    const next = await startWorker();
    next.process.kill('SIGSTOP');
    const doomed = await startWorker({ LONG_RUN_HANG: '1' });
    const handle = await client.startWorkflow(LongRun, { steps: 10_000 }, { id: 'long-10000' });
    await doomed.waitForLine('ALL_STEPS_STORED', 300_000);
    await kill(doomed);
    next.process.kill('SIGCONT');

    const ms = await replayMs(() => next.stdout(), 10_000);
    expect(await handle.result({ timeout: '60s' })).toBe((10_000 * 9_999) / 2);
    const { rows } = await db.sql.query<{ n: number; repeated: number }>(
      `SELECT count(*)::int AS n, count(*) FILTER (WHERE attempts > 1)::int AS repeated
       FROM zart.steps WHERE run_id = 'long-10000' AND name = 's'`,
    );
    expect(rows[0]).toEqual({ n: 10_000, repeated: 0 });
    // About 0.25 s on a quiet machine (docs/performance.md); the bound only catches a replay that
    // grows worse than linearly with the history, with room for a loaded CI machine.
    expect(ms).toBeLessThan(15_000);

    await (await client.startWorkflow(LongRun, { steps: 1_000 }, { id: 'long-1000' })).result({ timeout: '300s' });
    const short = await perStepMs('long-1000', 1_000);
    const long = await perStepMs('long-10000', 10_000);
    console.log(
      `replay of 10,000 checkpoints: ${ms} ms; per step: ${short.toFixed(3)} ms at 1,000 steps, ${long.toFixed(3)} ms at 10,000`,
    );
    // A cost that grows with the history (a quadratic replay or key lookup) makes this ratio ~10.
    expect(long / short).toBeLessThan(3);
  }, 600_000);
});
