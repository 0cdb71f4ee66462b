import { Client } from 'pg';
import { useTestDatabase } from '../support/test-zart';
import { spawnTypeScript } from '../support/child-process';
import { Sleepy } from './fixtures/sleepy.workflow';

const db = useTestDatabase();

describe('a worker SIGKILLed in the middle of a durable sleep', () => {
  it('leaves the wake time as it was: the next worker wakes the run on time, not a full sleep later', async () => {
    const sql = new Client({ connectionString: db.url });
    await sql.connect();
    const client = await db.client();
    const env = { DATABASE_URL: db.url, ZART_LEASE: '1s', ZART_POLL_INTERVAL: '100ms' };
    const doomed = spawnTypeScript('test/crash/fixtures/worker-process.ts', env);
    let next: ReturnType<typeof spawnTypeScript> | undefined;
    try {
      await doomed.waitForLine('READY', 45_000);
      await client.startWorkflow(Sleepy, undefined as never, { id: 'sleepy-1' });
      await doomed.waitForLine('SLEEPING', 20_000);
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      doomed.process.kill('SIGKILL');
      next = spawnTypeScript('test/crash/fixtures/worker-process.ts', env);
      const result = await client.getHandle<string>('sleepy-1').result({ timeout: '60s' });
      expect(result).toBe(`woke in ${next.process.pid}`);
      const { rows } = await sql.query(`
        SELECT (a.started_at >= s.wake_at) AS after_wake,
               extract(epoch FROM a.started_at - s.wake_at)::float8 AS late_s
        FROM zart.steps s JOIN zart.steps a ON a.run_id = s.run_id AND a.key = 'after#0'
        WHERE s.run_id = 'sleepy-1' AND s.key = 'zart.sleep#0'`);
      expect(rows[0].after_wake).toBe(true);
      // Restarting the sleep would put "after" ~4 s past the stored wake time; it must not have.
      expect(rows[0].late_s).toBeLessThan(2.5);
    } finally {
      doomed.process.kill('SIGKILL');
      next?.process.kill('SIGKILL');
      await Promise.all([doomed.exited, next?.exited]);
      await sql.end();
    }
  }, 120_000);
});
