import { useTestDatabase } from '../support/test-zart';
import { useCrashHarness } from '../support/crash-harness';
import { ConcurrentBranches } from './fixtures/concurrent-branches.workflow';

const db = useTestDatabase();
const { spawnWorker, effects } = useCrashHarness(db);

describe('a worker SIGKILLed while two branches of a Promise.all call the same argument-less step', () => {
  it('is resumed with each branch getting its own stored results, in the order they completed', async () => {
    const client = await db.client();
    await client.startWorkflow(ConcurrentBranches, undefined, { id: 'branches' });
    const doomed = spawnWorker({ ZART_HANG_IN_A2: '1' });
    await doomed.waitForLine('IN_A2', 90_000);
    doomed.process.kill('SIGKILL');
    expect(await doomed.exited).toBe('SIGKILL');
    // b's second call was made (and stored) before a's: its result is under fetch#2.
    const stored = await client.getSteps('branches');
    expect(Object.fromEntries(stored.map((s) => [s.key, s.output]))).toEqual({
      'fetch#0': 'a1',
      'fetch#1': 'b1',
      'fetch#2': 'b2',
    });

    const survivor = spawnWorker();
    expect(await client.getHandle('branches').result({ timeout: '90s' })).toEqual([
      ['a1', 'a2'],
      ['b1', 'b2'],
    ]);
    // Only a's second call ran again; the replay took every other result from the history.
    const rows = await effects('branches');
    expect([1, 2, 3, 4].map((step) => rows.filter((r) => r.step === step).length)).toEqual([1, 2, 1, 1]);
    expect(rows.filter((r) => r.step === 2).map((r) => r.pid)).toEqual([doomed.process.pid, survivor.process.pid]);
  }, 180_000);
});
