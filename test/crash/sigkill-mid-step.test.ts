import { useTestDatabase } from '../support/test-zart';
import { useCrashHarness } from '../support/crash-harness';
import { FiveSteps } from './fixtures/five-steps.workflow';

const db = useTestDatabase();
// The worker's own 50 ms poll, which this test was tuned with (the harness default is 100 ms).
const { spawnWorker, effects } = useCrashHarness(db, { ZART_POLL_INTERVAL: '50ms' });

describe('a worker killed with SIGKILL inside step 3 of 5', () => {
  it('is resumed by another process that does not run steps 1 and 2 again', async () => {
    const client = await db.client();
    await client.startWorkflow(FiveSteps, { runId: 'crash-1' }, { id: 'crash-1' });

    const doomed = spawnWorker({ ZART_HANG_AT_STEP: '3' });
    await doomed.waitForLine('IN_STEP_3', 45_000);
    doomed.process.kill('SIGKILL');
    expect(await doomed.exited).toBe('SIGKILL');

    const survivor = spawnWorker();
    const result = await client.getHandle<string[]>('crash-1').result({ timeout: '45s' });
    expect(result).toEqual([1, 2, 3, 4, 5].map((n) => `step ${n} of crash-1`));

    const rows = await effects('crash-1');
    const runsPerStep = [1, 2, 3, 4, 5].map((n) => rows.filter((r) => r.step === n).length);
    // Steps 1-2 were checkpointed before the kill; step 3 had started and runs again.
    expect(runsPerStep).toEqual([1, 1, 2, 1, 1]);
    expect(rows.filter((r) => r.step <= 2).every((r) => r.pid === doomed.process.pid)).toBe(true);
    expect(rows.filter((r) => r.step >= 4).every((r) => r.pid === survivor.process.pid)).toBe(true);
    const steps = await client.getSteps('crash-1');
    expect(steps.map((s) => s.key)).toEqual([0, 1, 2, 3, 4].map((n) => `Effects.perform#${n}`));
  }, 120_000);
});
