import { useTestDatabase } from '../support/test-zart';
import { useCrashHarness } from '../support/crash-harness';
import { FanOutParent } from './fixtures/fan-out.workflow';
import { waitFor } from '../support/wait-for';

const db = useTestDatabase();
const { startWorker, spawnWorker, kill } = useCrashHarness(db, { ZART_LEASE: '2s', ZART_CONCURRENCY: '20' });

describe('a fan-out of 100 children and its fan-in, with the worker SIGKILLed half-way', () => {
  it('starts each child exactly once and delivers every result to the parent', async () => {
    const client = await db.client();
    const doomed = await startWorker();
    await client.startWorkflow(FanOutParent, { id: 'fan', count: 100 }, { id: 'fan' });
    await waitFor(async () => (await db.sql.query('SELECT count(*)::int AS n FROM effects')).rows[0].n >= 30, 120_000);
    await kill(doomed);

    const next = spawnWorker();
    const result = await client
      .getHandle('fan')
      .result({ timeout: '150s' })
      .catch(async (error: unknown) => {
        // Say where it stood: a hang here is a lost wake-up or a stuck run.
        const state = await db.sql.query(
          "SELECT id, status, waiting_for, available_at, lease_owner, lease_expires_at FROM zart.runs WHERE id = 'fan' OR (parent_id = 'fan' AND status <> 'completed')",
        );
        process.stderr.write(`fan-out state: ${JSON.stringify(state.rows)}\nnext stderr: ${next.stderr()}\n`);
        throw error;
      });
    expect(result).toBe(4950);
    const children = await db.sql.query(
      "SELECT count(*)::int AS n, count(DISTINCT id)::int AS distinct_ids FROM zart.runs WHERE parent_id = 'fan' AND status = 'completed'",
    );
    expect(children.rows[0]).toEqual({ n: 100, distinct_ids: 100 });
    const effects = await db.sql.query<{ step: number; n: number }>(
      'SELECT step, count(*)::int AS n FROM effects GROUP BY step',
    );
    expect(effects.rows).toHaveLength(100);
    // A child's step repeats only if the kill fell between its effect and its checkpoint.
    expect(effects.rows.filter((r) => r.n > 2)).toEqual([]);
  }, 300_000);
});
