import { useTestDatabase } from '../support/test-zart';
import { useCrashHarness } from '../support/crash-harness';
import { BatchFanOutParent } from './fixtures/fan-out.workflow';
import { waitFor } from '../support/wait-for';

const db = useTestDatabase();
const { startWorker, spawnWorker, kill } = useCrashHarness(db, { ZART_LEASE: '2s', ZART_CONCURRENCY: '20' });

describe('a fan-out of 300 children in batches of 100 (startChildren), with the worker SIGKILLed mid-batch', () => {
  it('starts every child exactly once and gives the parent every output in input order', async () => {
    const client = await db.client();
    const doomed = await startWorker();
    await client.startWorkflow(BatchFanOutParent, { id: 'batches', count: 300, batchSize: 100 }, { id: 'batches' });
    // Killed inside the second batch: the first is done, the second started whole and part-run.
    await waitFor(async () => (await db.sql.query('SELECT count(*)::int AS n FROM effects')).rows[0].n >= 140, 120_000);
    await kill(doomed);

    const next = spawnWorker();
    const result = await client
      .getHandle('batches')
      .result({ timeout: '150s' })
      .catch(async (error: unknown) => {
        // Say where it stood: a hang here is a lost wake-up or a stuck run.
        const state = await db.sql.query(
          "SELECT id, status, waiting_for, available_at, lease_owner FROM zart.runs WHERE id = 'batches' OR (parent_id = 'batches' AND status <> 'completed')",
        );
        process.stderr.write(`fan-out state: ${JSON.stringify(state.rows)}\nnext stderr: ${next.stderr()}\n`);
        throw error;
      });
    expect(result).toEqual(Array.from({ length: 300 }, (_, n) => n));
    const children = await db.sql.query(
      `SELECT count(*)::int AS n, count(DISTINCT input::text)::int AS distinct_inputs,
              count(*) FILTER (WHERE status = 'completed')::int AS completed
       FROM zart.runs WHERE parent_id = 'batches'`,
    );
    expect(children.rows[0]).toEqual({ n: 300, distinct_inputs: 300, completed: 300 });
    const effects = await db.sql.query<{ step: number; n: number }>(
      'SELECT step, count(*)::int AS n FROM effects GROUP BY step',
    );
    expect(effects.rows).toHaveLength(300);
    // A child's step repeats only if the kill fell between its effect and its checkpoint.
    expect(effects.rows.filter((r) => r.n > 2)).toEqual([]);
  }, 300_000);
});
