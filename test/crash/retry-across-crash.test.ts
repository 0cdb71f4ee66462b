import { Client } from 'pg';
import { useTestDatabase } from '../support/test-zart';
import { spawnTypeScript } from '../support/child-process';
import { Flaky } from './fixtures/flaky.workflow';

const db = useTestDatabase();

describe('a worker SIGKILLed during a retry back-off', () => {
  it('neither resets nor skips attempts: the next worker goes on with attempt 2', async () => {
    const sql = new Client({ connectionString: db.url });
    await sql.connect();
    await sql.query('CREATE TABLE effects (run_id text, step int, pid int)');
    const client = await db.client();
    const env = { DATABASE_URL: db.url, ZART_LEASE: '1s', ZART_POLL_INTERVAL: '100ms' };
    const doomed = spawnTypeScript('test/crash/fixtures/worker-process.ts', env);
    let next: ReturnType<typeof spawnTypeScript> | undefined;
    try {
      await doomed.waitForLine('READY', 45_000);
      await client.startWorkflow(Flaky, { runId: 'flaky-1' }, { id: 'flaky-1' });
      await doomed.waitForLine('FAILED_ONCE', 20_000);
      await new Promise((resolve) => setTimeout(resolve, 300)); // inside the 3 s back-off
      doomed.process.kill('SIGKILL');
      await doomed.exited;
      next = spawnTypeScript('test/crash/fixtures/worker-process.ts', env);
      expect(await client.getHandle('flaky-1').result({ timeout: '60s' })).toBe(3);
      const { rows } = await sql.query<{ step: number; pid: number }>('SELECT step, pid FROM effects ORDER BY step');
      expect(rows).toEqual([
        { step: 1, pid: doomed.process.pid },
        { step: 2, pid: next.process.pid },
        { step: 3, pid: next.process.pid },
      ]);
      expect((await client.getSteps('flaky-1'))[0]).toMatchObject({ status: 'completed', attempts: 3 });
    } finally {
      doomed.process.kill('SIGKILL');
      next?.process.kill('SIGKILL');
      await Promise.all([doomed.exited, next?.exited]);
      await sql.end();
    }
  }, 120_000);
});
