import { useTestDatabase } from '../support/test-zart';
import { useCrashHarness } from '../support/crash-harness';
import { Flaky } from './fixtures/flaky.workflow';

const db = useTestDatabase();
const { startWorker, spawnWorker, kill, effects } = useCrashHarness(db);

describe('a worker SIGKILLed during a retry back-off', () => {
  it('neither resets nor skips attempts: the next worker goes on with attempt 2', async () => {
    const client = await db.client();
    const doomed = await startWorker();
    await client.startWorkflow(Flaky, { runId: 'flaky-1' }, { id: 'flaky-1' });
    await doomed.waitForLine('FAILED_ONCE', 20_000);
    await new Promise((resolve) => setTimeout(resolve, 300)); // inside the 3 s back-off
    await kill(doomed);
    const next = spawnWorker();
    expect(await client.getHandle('flaky-1').result({ timeout: '60s' })).toBe(3);
    expect((await effects('flaky-1')).map(({ step, pid }) => ({ step, pid }))).toEqual([
      { step: 1, pid: doomed.process.pid },
      { step: 2, pid: next.process.pid },
      { step: 3, pid: next.process.pid },
    ]);
    expect((await client.getSteps('flaky-1'))[0]).toMatchObject({ status: 'completed', attempts: 3 });
  }, 120_000);
});
