// A run started in a process whose worker has room is inserted claimed by that worker and runs at
// once (storage/sql/insert-runs.ts): without a claim, within the worker's concurrency, and never
// ahead of a due run that waits in its queue at its priority or above. So are the children of a
// batch started with startChildren() by a run of that worker (insert-child-runs.ts), as many as
// it has room for.
import { Client } from 'pg';
import { QueryCounter } from '../../bench/query-counter';
import { Workflow, startChildren, step } from '../../src';
import { useTestDatabase } from '../support/test-zart';
import { waitFor } from '../support/wait-for';

const db = useTestDatabase();

let arrived = 0;
let release: () => void = () => undefined;
let gate = new Promise<void>((resolve) => (release = resolve));

@Workflow({ name: 'claim-at-start-gated' })
class Gated {
  async run(input: { n: number }): Promise<number> {
    return step('wait', async () => {
      arrived++;
      await gate;
      return input.n;
    });
  }
}

@Workflow({ name: 'claim-at-start-quick' })
class Quick {
  async run(): Promise<string> {
    return step('only', () => 'done');
  }
}

@Workflow({ name: 'claim-at-start-batch' })
class Batch {
  async run(input: { count: number }): Promise<number[]> {
    const batch = await startChildren(
      Gated,
      Array.from({ length: input.count }, (_, n) => ({ n })),
    );
    return batch.results();
  }
}

const claimStatement = 'zart_claim_runs_zart';

describe('a run started where the worker has room', () => {
  const counter = new QueryCounter();
  let sql: Client;
  beforeAll(async () => {
    counter.install();
    sql = new Client({ connectionString: db.url });
    await sql.connect();
  });
  afterAll(async () => {
    counter.uninstall();
    await sql.end();
  });
  beforeEach(() => {
    arrived = 0;
    gate = new Promise<void>((resolve) => (release = resolve));
  });

  it('is running, leased to this worker, as soon as startWorkflow() returns, and no claim is sent', async () => {
    const zart = await db.zart({ worker: { concurrency: 4, pollInterval: '1h' } });
    // Past the worker's first claim round, which it makes as it starts.
    await (await zart.startWorkflow(Quick, undefined as never)).result({ timeout: '20s' });
    const { result: handle, statements } = await counter.measure(() =>
      zart.startWorkflow(Gated, { n: 7 }, { id: 'at-start-1' }),
    );
    const { rows } = await sql.query<{ status: string; lease_owner: string | null; lease_epoch: number }>(
      "SELECT status, lease_owner, lease_epoch FROM zart.runs WHERE id = 'at-start-1'",
    );
    expect(rows[0]).toMatchObject({ status: 'running', lease_epoch: 1 });
    expect(rows[0]!.lease_owner).not.toBeNull();
    expect(statements.get(claimStatement)?.count ?? 0).toBe(0);
    release();
    expect(await handle.result({ timeout: '20s' })).toBe(7);
  });

  it('waits, pending, when the worker is full: its concurrency holds', async () => {
    const zart = await db.zart({ worker: { concurrency: 2, pollInterval: '1h' } });
    const handles = await Promise.all(
      Array.from({ length: 5 }, (_, n) => zart.startWorkflow(Gated, { n }, { id: `full-${n}` })),
    );
    await waitFor(() => arrived === 2);
    const counts = await sql.query<{ status: string; n: number }>(
      "SELECT status, count(*)::int AS n FROM zart.runs WHERE id LIKE 'full-%' GROUP BY status ORDER BY status",
    );
    expect(counts.rows).toEqual([
      { status: 'pending', n: 3 },
      { status: 'running', n: 2 },
    ]);
    expect(arrived).toBe(2);
    release();
    expect(await Promise.all(handles.map((h) => h.result({ timeout: '20s' })))).toEqual([0, 1, 2, 3, 4]);
  });

  it('does not overtake a due run waiting in its queue at its priority or above', async () => {
    const zart = await db.zart({ worker: { concurrency: 4, pollInterval: '1h' } });
    // A due run of another service sharing the queue: this worker cannot claim it, it stays ahead.
    await sql.query(
      "INSERT INTO zart.runs (id, workflow, status, queue, priority) VALUES ('elsewhere', 'not-served-here', 'pending', 'default', 5)",
    );
    try {
      const behind = await counter.measure(async () =>
        (await zart.startWorkflow(Quick, undefined as never, { id: 'behind', priority: 5 })).result({ timeout: '20s' }),
      );
      expect(behind.result).toBe('done');
      // Inserted pending behind it, then taken by a claim, which orders by priority and due time.
      expect(behind.statements.get(claimStatement)?.count ?? 0).toBeGreaterThanOrEqual(1);

      const above = await counter.measure(async () =>
        (await zart.startWorkflow(Quick, undefined as never, { id: 'above', priority: 6 })).result({ timeout: '20s' }),
      );
      expect(above.result).toBe('done');
      expect(above.statements.get(claimStatement)?.count ?? 0).toBe(0);
    } finally {
      await sql.query("DELETE FROM zart.runs WHERE id = 'elsewhere'");
    }
  });
});

describe('children started with startChildren() where the worker has room', () => {
  // A database of its own: the workers of the tests above would claim these children too.
  const batchDb = useTestDatabase();
  beforeEach(() => {
    arrived = 0;
    gate = new Promise<void>((resolve) => (release = resolve));
  });

  // Claimed in the statement that inserted them: started_at is that statement's now(), as created_at.
  const childrenOf = async (parent: string) =>
    (
      await batchDb.sql.query<{ status: string; epoch: number; owner: string | null; at_start: boolean }>(
        `SELECT status, lease_epoch AS epoch, lease_owner AS owner, started_at = created_at AS at_start
         FROM zart.runs WHERE parent_id = $1 ORDER BY id`,
        [parent],
      )
    ).rows;

  it('are inserted running, leased to this worker, as many as it has room for; the rest wait pending', async () => {
    const zart = await batchDb.zart({ worker: { concurrency: 4, pollInterval: '1h' } });
    await (await zart.startWorkflow(Quick, undefined as never)).result({ timeout: '20s' });
    const parent = await zart.startWorkflow(Batch, { count: 6 }, { id: 'batch-at-start' });
    // The parent holds one slot as it starts the batch: three children start claimed with it; the
    // parent then parks, and a claim round gives its slot to a fourth.
    await waitFor(() => arrived === 4);
    const children = await childrenOf('batch-at-start');
    expect(children.filter((c) => c.at_start)).toHaveLength(3);
    for (const child of children.filter((c) => c.at_start)) {
      expect(child).toMatchObject({ status: 'running', epoch: 1 });
      expect(child.owner).not.toBeNull();
    }
    expect(children.filter((c) => c.status === 'running')).toHaveLength(4);
    expect(children.filter((c) => c.status === 'pending')).toHaveLength(2);
    expect(arrived).toBe(4);
    release();
    expect(await parent.result({ timeout: '20s' })).toEqual([0, 1, 2, 3, 4, 5]);
  });

  it('are not inserted claimed ahead of a due run waiting in their queue', async () => {
    const zart = await batchDb.zart({ worker: { concurrency: 4, pollInterval: '1h' } });
    release();
    await batchDb.sql.query(
      "INSERT INTO zart.runs (id, workflow, status, queue, priority) VALUES ('ahead-of-batch', 'not-served-here', 'pending', 'default', 0)",
    );
    try {
      const parent = await zart.startWorkflow(Batch, { count: 3 }, { id: 'batch-behind' });
      expect(await parent.result({ timeout: '20s' })).toEqual([0, 1, 2]);
      expect((await childrenOf('batch-behind')).filter((c) => c.at_start)).toEqual([]);
    } finally {
      await batchDb.sql.query("DELETE FROM zart.runs WHERE id = 'ahead-of-batch'");
    }
  });
});
