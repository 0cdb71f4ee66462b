import { Client } from 'pg';
import { Workflow, step } from '../../src';
import { useTestDatabase } from '../support/test-zart';
import { logged } from '../support/silent-logger';
import { waitFor } from '../support/wait-for';

const db = useTestDatabase();

let enter: () => void = () => undefined;
let release: () => void = () => undefined;

@Workflow({ name: 'fencing-held' })
class Held {
  async run(): Promise<string> {
    await step('first', () => 'done before the lease was lost');
    await step('held', async () => {
      enter();
      await new Promise<void>((resolve) => (release = resolve));
      return 'late';
    });
    return 'finished by the zombie';
  }
}

describe('fencing', () => {
  it('keeps a worker that lost its lease from writing checkpoints or the outcome', async () => {
    const sql = new Client({ connectionString: db.url });
    await sql.connect();
    try {
      const zart = await db.zart({ worker: { lease: '60s' } });
      const entered = new Promise<void>((resolve) => (enter = resolve));
      await zart.startWorkflow(Held, undefined as never, { id: 'fenced-1' });
      await entered;
      // Another worker takes the run over (as after a lease expiry): owner and epoch change.
      await sql.query(
        "UPDATE zart.runs SET lease_owner = 'another-worker', lease_epoch = lease_epoch + 1 WHERE id = 'fenced-1'",
      );
      release();
      await waitFor(async () =>
        logged.some((l) => l.message.includes('lost the lease') && l.fields?.runId === 'fenced-1'),
      );
      const steps = await zart.getSteps('fenced-1');
      expect(steps.map((s) => s.key)).toEqual(['first#0']);
      const run = await zart.getRun('fenced-1');
      expect(run.status).toBe('running');
      expect(run.output).toBeUndefined();
      const { rows } = await sql.query("SELECT lease_owner FROM zart.runs WHERE id = 'fenced-1'");
      expect(rows[0].lease_owner).toBe('another-worker');
    } finally {
      await sql.end();
    }
  });
});
