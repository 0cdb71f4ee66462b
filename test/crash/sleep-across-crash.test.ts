import { useTestDatabase } from '../support/test-zart';
import { useCrashHarness } from '../support/crash-harness';
import { Sleepy } from './fixtures/sleepy.workflow';

const db = useTestDatabase();
const { startWorker, kill } = useCrashHarness(db);

describe('a worker SIGKILLed in the middle of a durable sleep', () => {
  it('leaves the wake time as it was: the next worker wakes the run on time, not a full sleep later', async () => {
    const client = await db.client();
    // The successor is started first and held with SIGSTOP, so the time a process takes to start
    // on a loaded machine does not count against the wake time.
    const next = await startWorker();
    next.process.kill('SIGSTOP');
    const doomed = await startWorker();
    await client.startWorkflow(Sleepy, undefined as never, { id: 'sleepy-1' });
    await doomed.waitForLine('SLEEPING', 20_000);
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    await kill(doomed);
    next.process.kill('SIGCONT');
    const result = await client.getHandle<string>('sleepy-1').result({ timeout: '60s' });
    expect(result).toBe(`woke in ${next.process.pid}`);
    const { rows } = await db.sql.query(`
      SELECT (a.started_at >= s.wake_at) AS after_wake,
             extract(epoch FROM a.started_at - s.wake_at)::float8 AS late_s
      FROM zart.steps s JOIN zart.steps a ON a.run_id = s.run_id AND a.key = 'after#0'
      WHERE s.run_id = 'sleepy-1' AND s.key = 'zart.sleep#0'`);
    expect(rows[0].after_wake).toBe(true);
    // Restarting the sleep would put "after" ~4 s past the stored wake time; it must not have.
    expect(rows[0].late_s).toBeLessThan(2.5);
  }, 120_000);
});
