import { Client } from 'pg';
import { useTestDatabase } from '../support/test-zart';
import { spawnTypeScript } from '../support/child-process';
import { FanOutParent } from './fixtures/fan-out.workflow';
import { waitFor } from '../support/wait-for';

const db = useTestDatabase();

describe('a fan-out of 100 children and its fan-in, with the worker SIGKILLed half-way', () => {
  it('starts each child exactly once and delivers every result to the parent', async () => {
    const sql = new Client({ connectionString: db.url });
    await sql.connect();
    await sql.query('CREATE TABLE effects (run_id text, step int, pid int)');
    const client = await db.client();
    const env = { DATABASE_URL: db.url, ZART_LEASE: '2s', ZART_POLL_INTERVAL: '100ms', ZART_CONCURRENCY: '20' };
    const doomed = spawnTypeScript('test/crash/fixtures/worker-process.ts', env);
    let next: ReturnType<typeof spawnTypeScript> | undefined;
    try {
      await doomed.waitForLine('READY', 90_000);
      await client.startWorkflow(FanOutParent, { id: 'fan', count: 100 }, { id: 'fan' });
      await waitFor(async () => (await sql.query('SELECT count(*)::int AS n FROM effects')).rows[0].n >= 30, 120_000);
      doomed.process.kill('SIGKILL');
      await doomed.exited;

      next = spawnTypeScript('test/crash/fixtures/worker-process.ts', env);
      const result = await client
        .getHandle('fan')
        .result({ timeout: '150s' })
        .catch(async (error: unknown) => {
          // Say where it stood: a hang here is a lost wake-up or a stuck run.
          const state = await sql.query(
            "SELECT id, status, waiting_for, available_at, lease_owner, lease_expires_at FROM zart.runs WHERE id = 'fan' OR (parent_id = 'fan' AND status <> 'completed')",
          );
          process.stderr.write(`fan-out state: ${JSON.stringify(state.rows)}\nnext stderr: ${next?.stderr()}\n`);
          throw error;
        });
      expect(result).toBe(4950);
      const children = await sql.query(
        "SELECT count(*)::int AS n, count(DISTINCT id)::int AS distinct_ids FROM zart.runs WHERE parent_id = 'fan' AND status = 'completed'",
      );
      expect(children.rows[0]).toEqual({ n: 100, distinct_ids: 100 });
      const effects = await sql.query<{ step: number; n: number }>(
        'SELECT step, count(*)::int AS n FROM effects GROUP BY step',
      );
      expect(effects.rows).toHaveLength(100);
      // A child's step repeats only if the kill fell between its effect and its checkpoint.
      expect(effects.rows.filter((r) => r.n > 2)).toEqual([]);
    } finally {
      doomed.process.kill('SIGKILL');
      next?.process.kill('SIGKILL');
      await Promise.all([doomed.exited, next?.exited]);
      await sql.end();
    }
  }, 300_000);
});
