import { useTestDatabase } from '../support/test-zart';
import { useCrashHarness } from '../support/crash-harness';
import { Transactional } from './fixtures/transactional.workflow';

const db = useTestDatabase();
const { startWorker, spawnWorker, kill } = useCrashHarness(db);

describe('a worker SIGKILLed between a transactional step’s write and its commit', () => {
  it('leaves the write absent with its checkpoint; the rerun writes it once', async () => {
    await db.sql.query('CREATE TABLE ledger (run_id text, pid int)');
    const client = await db.client();
    const doomed = await startWorker({ ZART_HANG_AT_STEP: 'tx' });
    await client.startWorkflow(Transactional, { runId: 'tx-crash' }, { id: 'tx-crash' });
    await doomed.waitForLine('IN_TX', 20_000);
    await kill(doomed);
    // The uncommitted write died with the connection; so did the checkpoint.
    expect((await db.sql.query('SELECT count(*)::int AS n FROM ledger')).rows[0].n).toBe(0);
    expect(await client.getSteps('tx-crash')).toEqual([]);

    const next = spawnWorker();
    expect(await client.getHandle('tx-crash').result({ timeout: '60s' })).toBe(next.process.pid);
    const { rows } = await db.sql.query('SELECT run_id, pid FROM ledger');
    expect(rows).toEqual([{ run_id: 'tx-crash', pid: next.process.pid }]);
    expect((await client.getSteps('tx-crash')).map((s) => [s.key, s.output])).toEqual([
      ['Ledger.record#0', next.process.pid],
    ]);
  }, 120_000);
});
