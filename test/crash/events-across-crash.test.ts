import { Client } from 'pg';
import { useTestDatabase } from '../support/test-zart';
import { spawnTypeScript } from '../support/child-process';
import { EventWaits } from './fixtures/event-waits.workflow';

const db = useTestDatabase();

describe('a worker SIGKILLed after consuming an event', () => {
  it('replays the consumed payload; the next wait takes the next event, each exactly once', async () => {
    const sql = new Client({ connectionString: db.url });
    await sql.connect();
    const client = await db.client();
    const env = { DATABASE_URL: db.url, ZART_LEASE: '1s', ZART_POLL_INTERVAL: '100ms' };
    const doomed = spawnTypeScript('test/crash/fixtures/worker-process.ts', { ...env, ZART_HANG_AT_STEP: 'between' });
    let next: ReturnType<typeof spawnTypeScript> | undefined;
    try {
      await doomed.waitForLine('READY', 45_000);
      await client.startWorkflow(EventWaits, undefined as never, { id: 'events-crash' });
      await client.sendEvent('events-crash', 'go', 'first');
      await doomed.waitForLine('IN_BETWEEN', 20_000);
      doomed.process.kill('SIGKILL');
      await doomed.exited;
      await client.sendEvent('events-crash', 'go', 'second'); // sent while no worker runs: buffered

      next = spawnTypeScript('test/crash/fixtures/worker-process.ts', env);
      const result = await client.getHandle<string[]>('events-crash').result({ timeout: '60s' });
      expect(result).toEqual(['first', 'second']);
      const { rows } = await sql.query(
        "SELECT payload->>'json' AS payload, consumed_by_key FROM zart.events WHERE run_id = 'events-crash' ORDER BY id",
      );
      expect(rows).toEqual([
        { payload: 'first', consumed_by_key: 'zart.event:go#0' },
        { payload: 'second', consumed_by_key: 'zart.event:go#1' },
      ]);
    } finally {
      doomed.process.kill('SIGKILL');
      next?.process.kill('SIGKILL');
      await Promise.all([doomed.exited, next?.exited]);
      await sql.end();
    }
  }, 120_000);
});
