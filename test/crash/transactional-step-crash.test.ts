import { Client } from 'pg';
import { useTestDatabase } from '../support/test-zart';
import { spawnTypeScript } from '../support/child-process';
import { Transactional } from './fixtures/transactional.workflow';

const db = useTestDatabase();

describe('a worker SIGKILLed between a transactional step’s write and its commit', () => {
  it('leaves the write absent with its checkpoint; the rerun writes it once', async () => {
    const sql = new Client({ connectionString: db.url });
    await sql.connect();
    await sql.query('CREATE TABLE ledger (run_id text, pid int)');
    const client = await db.client();
    const env = { DATABASE_URL: db.url, ZART_LEASE: '1s', ZART_POLL_INTERVAL: '100ms' };
    const doomed = spawnTypeScript('test/crash/fixtures/worker-process.ts', { ...env, ZART_HANG_AT_STEP: 'tx' });
    let next: ReturnType<typeof spawnTypeScript> | undefined;
    try {
      await doomed.waitForLine('READY', 45_000);
      await client.startWorkflow(Transactional, { runId: 'tx-crash' }, { id: 'tx-crash' });
      await doomed.waitForLine('IN_TX', 20_000);
      doomed.process.kill('SIGKILL');
      await doomed.exited;
      // The uncommitted write died with the connection; so did the checkpoint.
      expect((await sql.query('SELECT count(*)::int AS n FROM ledger')).rows[0].n).toBe(0);
      expect(await client.getSteps('tx-crash')).toEqual([]);

      next = spawnTypeScript('test/crash/fixtures/worker-process.ts', env);
      expect(await client.getHandle('tx-crash').result({ timeout: '60s' })).toBe(next.process.pid);
      const { rows } = await sql.query('SELECT run_id, pid FROM ledger');
      expect(rows).toEqual([{ run_id: 'tx-crash', pid: next.process.pid }]);
      expect((await client.getSteps('tx-crash')).map((s) => [s.key, s.output])).toEqual([
        ['Ledger.record#0', next.process.pid],
      ]);
    } finally {
      doomed.process.kill('SIGKILL');
      next?.process.kill('SIGKILL');
      await Promise.all([doomed.exited, next?.exited]);
      await sql.end();
    }
  }, 120_000);
});
