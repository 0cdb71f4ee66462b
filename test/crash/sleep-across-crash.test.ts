import { useTestDatabase } from '../support/test-zart';
import { useCrashHarness } from '../support/crash-harness';
import { Sleepy } from './fixtures/sleepy.workflow';

const db = useTestDatabase();
const { startWorker, spawnWorker, kill } = useCrashHarness(db);

describe('a worker SIGKILLed in the middle of a durable sleep', () => {
  it('leaves the wake time as it was: the next worker wakes the run on time, not a full sleep later', async () => {
    const client = await db.client();
    // The sleep is held in-process, so the kill interrupts it. It is long enough for the successor
    // to start on a loaded machine before the wake time.
    const doomed = await startWorker({ ZART_MAX_IN_PROCESS_WAIT: '10s' });
    await client.startWorkflow(Sleepy, undefined as never, { id: 'sleepy-1' });
    await doomed.waitForLine('SLEEPING', 20_000);
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    await kill(doomed);
    const next = spawnWorker({ ZART_MAX_IN_PROCESS_WAIT: '10s' });
    const result = await client.getHandle<string>('sleepy-1').result({ timeout: '60s' });
    expect(result).toBe(`woke in ${next.process.pid}`);
    const { rows } = await db.sql.query(`
      SELECT (a.started_at >= s.wake_at) AS after_wake,
             extract(epoch FROM a.started_at - s.wake_at)::float8 AS late_s
      FROM zart.steps s JOIN zart.steps a ON a.run_id = s.run_id AND a.key = 'after#0'
      WHERE s.run_id = 'sleepy-1' AND s.key = 'zart.sleep#0'`);
    expect(rows[0].after_wake).toBe(true);
    // Restarting the sleep would put "after" ~8 s past the stored wake time; it must not have.
    expect(rows[0].late_s).toBeLessThan(2.5);
  }, 120_000);
});
