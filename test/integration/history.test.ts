import { Workflow, step } from '../../src';
import { claimSql } from '../../src/storage/sql/claim-runs';
import { finishSql } from '../../src/storage/sql/finish-runs';
import { useTestDatabase } from '../support/test-zart';

const db = useTestDatabase();

@Workflow({ name: 'history-noop' })
class Noop {
  async run(): Promise<string> {
    return step('noop', () => 'ok');
  }
}

interface PlanNode {
  'Node Type': string;
  'Index Name'?: string;
  'Relation Name'?: string;
  'Shared Hit Blocks'?: number;
  'Shared Read Blocks'?: number;
  Plans?: PlanNode[];
}

function nodes(plan: PlanNode): PlanNode[] {
  return [plan, ...(plan.Plans ?? []).flatMap(nodes)];
}

describe('history', () => {
  beforeAll(async () => {
    await (await db.client()).shutdown(); // migrates the file's database
  });

  it('does not slow the claim down: it reads partial indexes that hold no finished runs', async () => {
    await db.sql.query(`
      INSERT INTO zart.runs (id, workflow, status, input, finished_at, created_at)
      SELECT 'old-' || g, 'history-noop', 'completed', '{"json":null}', now() - interval '2 days', now() - interval '2 days'
      FROM generate_series(1, 200000) AS g`);
    await db.sql.query(
      `INSERT INTO zart.runs (id, workflow, status, input) SELECT 'new-' || g, 'history-noop', 'pending', '{"json":null}' FROM generate_series(1, 5) g`,
    );
    await db.sql.query('ANALYZE zart.runs');
    await db.sql.query('BEGIN');
    try {
      await db.sql.query(`PREPARE claim AS ${claimSql({ runs: '"zart"."runs"', steps: '"zart"."steps"' })}`);
      const { rows } = await db.sql.query(
        `EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) EXECUTE claim('explain', '{default}', '{history-noop}', 10, 30000, '{}', NULL)`,
      );
      const plan = (rows[0]['QUERY PLAN'] as Array<{ Plan: PlanNode }>)[0]!.Plan;
      const all = nodes(plan);
      const scans = all.filter((n) => n['Relation Name'] === 'runs' && n['Node Type'].includes('Scan'));
      expect(scans.filter((n) => n['Node Type'] === 'Seq Scan')).toEqual([]);
      // The running runs are read through either partial index that holds only them (the planner
      // picks runs_queue_running_idx while few runs are running); never one with finished runs.
      const used = new Set(scans.map((n) => n['Index Name']));
      expect(used).toEqual(
        new Set([
          'runs_claimable_idx',
          used.has('runs_queue_running_idx') ? 'runs_queue_running_idx' : 'runs_leased_idx',
          'runs_pkey',
        ]),
      );
      // Blocks touched stay in the tens although the table holds 200,000 finished runs.
      const blocks = (plan['Shared Hit Blocks'] ?? 0) + (plan['Shared Read Blocks'] ?? 0);
      expect(blocks).toBeLessThan(200);
    } finally {
      await db.sql.query('ROLLBACK');
    }
  }, 120_000);

  it('does not slow a finish down: it locks and writes its runs by primary key, whatever the history', async () => {
    // Runs the claim test above left: 200,000 finished ones.
    await db.sql.query(
      "INSERT INTO zart.runs (id, workflow, status, input, lease_owner, lease_epoch) VALUES ('finishing-1', 'history-noop', 'running', '{}', 'explain', 1)",
    );
    await db.sql.query('BEGIN');
    try {
      await db.sql.query(`PREPARE finish AS ${finishSql({ runs: '"zart"."runs"' })}`);
      const { rows } = await db.sql.query(
        `EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) EXECUTE finish('{finishing-1}', '{explain}', '{1}', '{completed}', '{"{}"}', '{NULL}', 'explain', '{}', '{}')`,
      );
      const plan = (rows[0]['QUERY PLAN'] as Array<{ Plan: PlanNode }>)[0]!.Plan;
      const scans = nodes(plan).filter((n) => n['Relation Name'] === 'runs' && n['Node Type'].includes('Scan'));
      expect(scans.filter((n) => n['Node Type'] === 'Seq Scan')).toEqual([]);
      const blocks = (plan['Shared Hit Blocks'] ?? 0) + (plan['Shared Read Blocks'] ?? 0);
      expect(blocks).toBeLessThan(200);
    } finally {
      await db.sql.query('ROLLBACK');
      await db.sql.query("DELETE FROM zart.runs WHERE id = 'finishing-1'");
    }
  });

  it('deletes finished runs older than an age, with their checkpoints, in batches', async () => {
    const zart = await db.zart();
    for (const id of ['keep-recent', 'drop-1', 'drop-2', 'drop-3']) {
      await (await zart.startWorkflow(Noop, undefined as never, { id })).result();
    }
    await db.sql.query(
      "UPDATE zart.runs SET finished_at = now() - interval '8 days' WHERE id IN ('drop-1', 'drop-2', 'drop-3')",
    );
    await db.sql.query(
      "INSERT INTO zart.runs (id, workflow, status, input, created_at) VALUES ('old-but-pending', 'elsewhere', 'pending', '{\"json\":null}', now() - interval '30 days')",
    );
    const before = Number(
      (await db.sql.query("SELECT count(*) FROM zart.runs WHERE finished_at < now() - interval '7 days'")).rows[0]
        .count,
    );
    const stepsBefore = await db.sql.query("SELECT count(*)::int AS n FROM zart.steps WHERE run_id LIKE 'drop-%'");
    expect(stepsBefore.rows[0].n).toBe(3);

    const deleted = await zart.deleteFinishedRuns({ olderThan: '7d', batchSize: 2 });

    expect(deleted).toBe(before);
    const left = await db.sql.query(
      "SELECT id FROM zart.runs WHERE id IN ('keep-recent', 'drop-1', 'drop-2', 'drop-3', 'old-but-pending') ORDER BY id",
    );
    expect(left.rows.map((r: { id: string }) => r.id)).toEqual(['keep-recent', 'old-but-pending']);
    const steps = await db.sql.query("SELECT count(*)::int AS n FROM zart.steps WHERE run_id LIKE 'drop-%'");
    expect(steps.rows[0].n).toBe(0);
    await expect(zart.deleteFinishedRuns({ olderThan: '7d', batchSize: 0 })).rejects.toThrow(/positive integer/);
  }, 120_000);

  it("deletes a run's checkpoints with the run when an operator deletes it by hand", async () => {
    const zart = await db.zart();
    await (await zart.startWorkflow(Noop, undefined as never, { id: 'deleted-by-hand' })).result();
    const count = async (): Promise<number> =>
      (await db.sql.query<{ n: number }>("SELECT count(*)::int AS n FROM zart.steps WHERE run_id = 'deleted-by-hand'"))
        .rows[0]!.n;
    expect(await count()).toBe(1);

    await db.sql.query("DELETE FROM zart.runs WHERE id = 'deleted-by-hand'");

    expect(await count()).toBe(0);
  }, 60_000);

  it('lists live workers with host, pid and version', async () => {
    const zart = await db.zart();
    const workers = await zart.listWorkers();
    expect(workers.length).toBeGreaterThanOrEqual(1);
    expect(workers.some((w) => w.pid === process.pid && typeof w.host === 'string' && w.version === '0.1.0')).toBe(
      true,
    );
    expect(workers[0]!.heartbeatAt).toBeInstanceOf(Date);
  });
});
