import { setTimeout as delay } from 'node:timers/promises';
import { Client } from 'pg';
import { Zart, ZartClient, Workflow, step } from '../../src';
import { startScratchPostgres, type ScratchPostgres } from '../support/scratch-postgres';
import { useTestDatabase } from '../support/test-zart';
import { silentLogger } from '../support/silent-logger';

const db = useTestDatabase();

// Steps are counted in this process: a step that ran twice would show.
const executions = new Map<string, number>();

@Workflow({ name: 'faults-ten-steps' })
class TenSteps {
  async run(input: { runId: string }): Promise<number> {
    let sum = 0;
    for (let i = 1; i <= 10; i++) {
      sum += await step(`part`, async () => {
        const key = `${input.runId}/${i}`;
        executions.set(key, (executions.get(key) ?? 0) + 1);
        await delay(60);
        return i;
      });
    }
    return sum;
  }
}

const countOf = (runId: string): number[] =>
  Array.from({ length: 10 }, (_, i) => executions.get(`${runId}/${i + 1}`) ?? 0);

describe('connection faults', () => {
  it('survives pg_terminate_backend of every connection mid-run: the run completes, no step twice', async () => {
    const zart = await db.zart({ worker: { lease: '10s', pollInterval: '20s' } });
    const handle = await zart.startWorkflow(TenSteps, { runId: 'terminated' }, { id: 'terminated' });
    const admin = new Client({ connectionString: db.url });
    await admin.connect();
    try {
      await delay(250);
      const killed = await admin.query(
        'SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()',
      );
      expect(killed.rowCount).toBeGreaterThanOrEqual(2); // the pool's connection(s) and the LISTEN one
      expect(await handle.result({ timeout: '30s' })).toBe(55);
      expect(countOf('terminated')).toEqual(Array(10).fill(1));

      // The wake-up connection came back: with a 20 s poll, only a notification starts this quickly.
      const client = await db.client();
      await delay(500);
      const started = Date.now();
      const second = await client.startWorkflow(TenSteps, { runId: 'after-terminate' }, { id: 'after-terminate' });
      expect(await second.result({ timeout: '15s' })).toBe(55);
      expect(Date.now() - started).toBeLessThan(10_000);
    } finally {
      await admin.end();
    }
  }, 60_000);

  describe('on a server that restarts mid-run', () => {
    let server: ScratchPostgres;
    beforeAll(async () => {
      server = await startScratchPostgres();
    }, 60_000);
    afterAll(() => server?.stop());

    it('reconnects with back-off and finishes the run without running a step twice', async () => {
      const zart = new Zart({
        connectionString: server.url,
        logger: silentLogger,
        worker: { lease: '30s', pollInterval: '200ms' },
      });
      await zart.start();
      try {
        const handle = await zart.startWorkflow(TenSteps, { runId: 'restarted' }, { id: 'restarted' });
        await delay(250);
        await server.restart();
        expect(await handle.result({ timeout: '45s' })).toBe(55);
        expect(countOf('restarted')).toEqual(Array(10).fill(1));
        // The process is fine and keeps working on the restarted server.
        const again = await zart.startWorkflow(TenSteps, { runId: 'after-restart' }, { id: 'after-restart' });
        expect(await again.result({ timeout: '30s' })).toBe(55);
        const client = new ZartClient({ connectionString: server.url, logger: silentLogger });
        await client.start();
        expect((await client.getRun('restarted')).status).toBe('completed');
        await client.shutdown();
      } finally {
        await zart.shutdown();
      }
    }, 90_000);
  });
});
