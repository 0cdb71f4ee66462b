import { Client } from 'pg';
import { Workflow, step } from '../../src';
import { useTestDatabase } from '../support/test-zart';
import { waitFor } from '../support/wait-for';

const db = useTestDatabase();

let arrived = 0;
let release: () => void = () => undefined;
const gate = new Promise<void>((resolve) => (release = resolve));

@Workflow({ name: 'group-commit-gated' })
class Gated {
  async run(input: { n: number }): Promise<number> {
    const first = await step('first', () => input.n);
    const second = await step('second', async () => {
      arrived++;
      await gate;
      return input.n * 10;
    });
    return first + second;
  }
}

describe('group commit', () => {
  it('commits the checkpoints of concurrent runs together; a fenced-out row fails only its own run', async () => {
    const sql = new Client({ connectionString: db.url });
    await sql.connect();
    try {
      const zart = await db.zart({ worker: { concurrency: 40 } });
      const handles = await Promise.all(
        Array.from({ length: 30 }, (_, n) => zart.startWorkflow(Gated, { n }, { id: `gc-${n}` })),
      );
      await waitFor(() => arrived === 30);
      // Another worker takes run gc-7 over while its step is in flight.
      await sql.query("UPDATE zart.runs SET lease_owner = 'another', lease_epoch = lease_epoch + 1 WHERE id = 'gc-7'");
      release(); // 30 checkpoints arrive at once and are written in shared statements

      const others = handles.filter((h) => h.id !== 'gc-7');
      expect(await Promise.all(others.map((h) => h.result({ timeout: '20s' })))).toEqual(
        others.map((h) => Number(h.id.slice(3)) * 11),
      );
      const { rows } = await sql.query<{ run_id: string; n: number }>(
        "SELECT run_id, count(*)::int AS n FROM zart.steps WHERE key = 'second#0' GROUP BY run_id",
      );
      expect(rows).toHaveLength(29);
      expect(rows.map((r) => r.run_id)).not.toContain('gc-7');
      const fenced = await sql.query("SELECT status, lease_owner FROM zart.runs WHERE id = 'gc-7'");
      expect(fenced.rows[0]).toEqual({ status: 'running', lease_owner: 'another' });
    } finally {
      await sql.end();
    }
  });
});
