import { Column, DataSource, Entity, PrimaryColumn, type Repository } from 'typeorm';
import {
  StepFailedError,
  StepTimeoutError,
  StepTransactionClosedError,
  Workflow,
  WorkflowFailedError,
  Zart,
  step,
  stepTransaction,
} from '../../src';
import { silentLogger } from '../support/silent-logger';
import { useTestDatabase } from '../support/test-zart';

const db = useTestDatabase();

@Entity('ambient_orders')
class OrderRow {
  @PrimaryColumn({ type: 'text' }) id!: string;
  @Column({ type: 'integer' }) cents!: number;
}

// Only ever asked for inside a step: its repository is first created there.
@Entity('ambient_audit')
class AuditRow {
  @PrimaryColumn({ type: 'text' }) id!: string;
}

let app: DataSource;
// Taken before zart.start(), as @nestjs/typeorm injects repositories.
let orders: Repository<OrderRow>;
// A custom repository, as Repository.extend() makes them.
const customOrdersOf = (base: Repository<OrderRow>) =>
  base.extend({
    async insertCents(this: Repository<OrderRow>, id: string, cents: number): Promise<void> {
      await this.createQueryBuilder().insert().values({ id, cents }).execute();
    },
  });
let customOrders: ReturnType<typeof customOrdersOf>;

/** Writes `prefix-1` .. `prefix-7` through every way an application reaches its DataSource. */
async function writeEverywhere(prefix: string): Promise<void> {
  await orders.insert({ id: `${prefix}-1`, cents: 1 });
  await orders.save({ id: `${prefix}-2`, cents: 2 });
  await app.manager.insert(OrderRow, { id: `${prefix}-3`, cents: 3 });
  await orders
    .createQueryBuilder()
    .insert()
    .values({ id: `${prefix}-4`, cents: 4 })
    .execute();
  await app
    .createQueryBuilder()
    .insert()
    .into(OrderRow)
    .values({ id: `${prefix}-5`, cents: 5 })
    .execute();
  await app.query('INSERT INTO ambient_orders (id, cents) VALUES ($1, 6)', [`${prefix}-6`]);
  await customOrders.insertCents(`${prefix}-7`, 7);
  await app.getRepository(AuditRow).insert({ id: prefix });
}

async function idsLike(prefix: string): Promise<string[]> {
  const { rows } = await db.sql.query<{ id: string }>(
    "SELECT id FROM ambient_orders WHERE id LIKE $1 || '-%' UNION ALL SELECT id FROM ambient_audit WHERE id = $1 ORDER BY id",
    [prefix],
  );
  return rows.map((row) => row.id);
}

const everything = (prefix: string): string[] => [prefix, ...[1, 2, 3, 4, 5, 6, 7].map((n) => `${prefix}-${n}`)];

@Workflow({ name: 'ambient-write' })
class WriteThenMaybeThrow {
  async run(input: { prefix: string; fail: boolean }): Promise<string> {
    return step(
      'write',
      async () => {
        await writeEverywhere(input.prefix);
        // The step's own view: the application's writes are in its transaction.
        const seen = await stepTransaction().getRepository(OrderRow).countBy({});
        if (input.fail) throw new Error(`refused after writing ${seen} rows`);
        return input.prefix;
      },
      { transaction: true },
    );
  }
}

@Workflow({ name: 'ambient-one-connection' })
class OneConnection {
  async run(): Promise<{ step: string; app: string[] }> {
    return step(
      'compare',
      async () => {
        const transactionOf = async (query: (sql: string) => Promise<{ id: string }[]>): Promise<string> =>
          (await query("SELECT pg_backend_pid() || '/' || txid_current() AS id"))[0]!.id;
        return {
          step: await transactionOf((sql) => stepTransaction().query(sql)),
          app: [
            await transactionOf((sql) => app.query(sql)),
            await transactionOf((sql) => app.manager.query(sql)),
            await transactionOf((sql) => orders.query(sql)),
            await transactionOf((sql) => app.transaction((manager) => manager.query(sql))),
          ],
        };
      },
      { transaction: true },
    );
  }
}

@Workflow({ name: 'ambient-nested' })
class Nested {
  async run(input: { prefix: string; failOuter: boolean }): Promise<string> {
    return step(
      'nested',
      async () => {
        await orders.insert({ id: `${input.prefix}-outer`, cents: 1 });
        // A nested transaction is a savepoint of the step's: its failure undoes only its own writes.
        await app
          .transaction(async (manager) => {
            await manager.insert(OrderRow, { id: `${input.prefix}-inner-failed`, cents: 2 });
            throw new Error('inner failure');
          })
          .catch(() => undefined);
        await app.transaction(async () => {
          await orders.insert({ id: `${input.prefix}-inner-committed`, cents: 3 });
        });
        if (input.failOuter) throw new Error('outer failure');
        return 'done';
      },
      { transaction: true },
    );
  }
}

// Two concurrent runs: each step says when it has written, then waits at a gate the test opens.
const written = new Map<string, () => void>();
const gates = new Map<string, Promise<unknown>>();

@Workflow({ name: 'ambient-concurrent' })
class Concurrent {
  async run(input: { who: 'a' | 'b'; gate: string }): Promise<number> {
    return step(
      'write-and-count',
      async () => {
        await orders.insert({ id: `concurrent-${input.who}`, cents: 1 });
        written.get(`${input.who}-written`)?.();
        await gates.get(input.gate);
        return orders.countBy({});
      },
      { transaction: true },
    );
  }
}
@Workflow({ name: 'ambient-plain-step' })
class PlainStep {
  async run(): Promise<void> {
    await step('plain', async () => {
      await orders.insert({ id: 'plain-1', cents: 1 });
      throw new Error('failed after writing');
    });
  }
}

let other: DataSource;

@Workflow({ name: 'ambient-second-data-source' })
class SecondDataSource {
  async run(): Promise<void> {
    await step(
      'other',
      async () => {
        await other.getRepository(OrderRow).insert({ id: 'other-1', cents: 1 });
        throw new Error('failed after writing');
      },
      { transaction: true },
    );
  }
}

let leftRunning: Promise<unknown> | undefined;
let builtInStep: { execute(): Promise<unknown> } | undefined;

@Workflow({ name: 'ambient-left-running' })
class LeftRunning {
  async run(): Promise<string> {
    return step(
      'forgets-to-await',
      () => {
        builtInStep = orders.createQueryBuilder().insert().values({ id: 'late-2', cents: 2 });
        leftRunning = (async () => {
          await new Promise((resolve) => setTimeout(resolve, 200));
          await orders.insert({ id: 'late-1', cents: 1 });
        })();
        return 'returned';
      },
      { transaction: true },
    );
  }
}

let abandoned: Promise<unknown> | undefined;

@Workflow({ name: 'ambient-timed-out' })
class TimedOut {
  async run(): Promise<void> {
    await step(
      'slow',
      async () => {
        abandoned = (async () => {
          await new Promise((resolve) => setTimeout(resolve, 300));
          await orders.insert({ id: 'timed-out-1', cents: 1 });
        })();
        await abandoned;
      },
      { transaction: true, timeout: '100ms' },
    );
  }
}

describe('the application’s repositories inside a transactional step', () => {
  let zart: Zart;
  beforeAll(async () => {
    app = new DataSource({ type: 'postgres', url: db.url, entities: [OrderRow, AuditRow], synchronize: true });
    await app.initialize();
    orders = app.getRepository(OrderRow);
    customOrders = customOrdersOf(orders);
    zart = new Zart({ dataSource: app, logger: silentLogger, worker: { pollInterval: '50ms' } });
    await zart.start();
  });
  afterAll(async () => {
    await zart.shutdown();
    await app.destroy();
  });

  it('roll back with the step when it throws: repositories, the manager, query builders and DataSource.query()', async () => {
    const error = await zart
      .startWorkflow(WriteThenMaybeThrow, { prefix: 'rolled-back', fail: true })
      .then((handle) => handle.result({ timeout: '20s' }))
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(WorkflowFailedError);
    const failure = (error as WorkflowFailedError).cause as StepFailedError;
    expect((failure.cause as Error).message).toBe('refused after writing 7 rows');
    expect(await idsLike('rolled-back')).toEqual([]);
  });

  it('commit with the step’s checkpoint when it succeeds', async () => {
    const handle = await zart.startWorkflow(WriteThenMaybeThrow, { prefix: 'kept', fail: false }, { id: 'kept' });
    expect(await handle.result({ timeout: '20s' })).toBe('kept');
    expect(await idsLike('kept')).toEqual(everything('kept'));
    expect(await zart.getSteps('kept')).toEqual([expect.objectContaining({ key: 'write#0', status: 'completed' })]);
    // A repository first created inside a step keeps working outside one, on its own connection.
    const audit = app.getRepository(AuditRow).createQueryBuilder('audit').where('audit.id = :id', { id: 'kept' });
    expect(await audit.getMany()).toEqual([{ id: 'kept' }]);
  });

  it('use the step’s one connection and transaction, also for DataSource.transaction() inside the step', async () => {
    const handle = await zart.startWorkflow(OneConnection, undefined as never);
    const seen = await handle.result({ timeout: '20s' });
    expect(seen.app).toEqual([seen.step, seen.step, seen.step, seen.step]);
  });

  it('make DataSource.transaction() inside a step a savepoint: its failure undoes only its own writes', async () => {
    const kept = await zart.startWorkflow(Nested, { prefix: 'nested-kept', failOuter: false });
    expect(await kept.result({ timeout: '20s' })).toBe('done');
    const { rows } = await db.sql.query<{ id: string }>(
      "SELECT id FROM ambient_orders WHERE id LIKE 'nested-kept-%' ORDER BY id",
    );
    expect(rows.map((row) => row.id)).toEqual(['nested-kept-inner-committed', 'nested-kept-outer']);

    const failed = await zart.startWorkflow(Nested, { prefix: 'nested-failed', failOuter: true });
    await expect(failed.result({ timeout: '20s' })).rejects.toBeInstanceOf(WorkflowFailedError);
    expect((await db.sql.query("SELECT id FROM ambient_orders WHERE id LIKE 'nested-failed-%'")).rowCount).toBe(0);
  });

  it('keep two runs’ concurrent steps apart: neither sees the other’s uncommitted rows', async () => {
    await db.sql.query("DELETE FROM ambient_orders WHERE id LIKE 'concurrent-%'");
    const before = await orders.count();
    let release!: () => void;
    const both = Promise.all(
      ['a', 'b'].map((who) => new Promise<void>((resolve) => written.set(`${who}-written`, resolve))),
    );
    gates.set(
      'together',
      both.then(() => new Promise<void>((resolve) => (release = resolve))),
    );
    const a = await zart.startWorkflow(Concurrent, { who: 'a', gate: 'together' });
    const b = await zart.startWorkflow(Concurrent, { who: 'b', gate: 'together' });
    await both;
    // Both steps hold their own uncommitted row now; outside any step, neither is visible.
    expect(await orders.count()).toBe(before);
    release();
    expect(await a.result({ timeout: '20s' })).toBe(before + 1);
    expect(await b.result({ timeout: '20s' })).toBe(before + 1);
    expect(await orders.count()).toBe(before + 2);
  });

  it('leave repositories as they were outside transactional steps: a plain step’s write stays when it throws', async () => {
    const handle = await zart.startWorkflow(PlainStep, undefined as never);
    await expect(handle.result({ timeout: '20s' })).rejects.toBeInstanceOf(WorkflowFailedError);
    expect(await orders.findOneBy({ id: 'plain-1' })).toEqual({ id: 'plain-1', cents: 1 });
  });

  it('not join another DataSource: its writes commit on their own although the step rolled back', async () => {
    other = new DataSource({ type: 'postgres', url: db.url, entities: [OrderRow] });
    await other.initialize();
    try {
      const handle = await zart.startWorkflow(SecondDataSource, undefined as never);
      await expect(handle.result({ timeout: '20s' })).rejects.toBeInstanceOf(WorkflowFailedError);
      expect(await orders.findOneBy({ id: 'other-1' })).toEqual({ id: 'other-1', cents: 1 });
    } finally {
      await other.destroy();
    }
  });

  it('refuse a write a step left running after it returned, instead of committing it outside the step', async () => {
    const handle = await zart.startWorkflow(LeftRunning, undefined as never);
    expect(await handle.result({ timeout: '20s' })).toBe('returned');
    const error = await leftRunning?.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StepTransactionClosedError);
    expect((error as StepTransactionClosedError).stepKey).toBe('forgets-to-await#0');
    expect(await orders.findOneBy({ id: 'late-1' })).toBeNull();
    // A query builder made in the step holds the step's connection, released with it.
    const builderError = await builtInStep?.execute().catch((e: unknown) => e);
    expect((builderError as Error).name).toBe('QueryRunnerAlreadyReleasedError');
    expect(await orders.findOneBy({ id: 'late-2' })).toBeNull();
  });

  it('refuse the write of an attempt abandoned at the step’s timeout, so it cannot commit beside its retry', async () => {
    const handle = await zart.startWorkflow(TimedOut, undefined as never);
    const failure = await handle.result({ timeout: '20s' }).catch((e: unknown) => e);
    expect(((failure as WorkflowFailedError).cause as StepFailedError).cause).toBeInstanceOf(StepTimeoutError);
    expect(await abandoned?.catch((e: unknown) => e)).toBeInstanceOf(StepTransactionClosedError);
    expect(await orders.findOneBy({ id: 'timed-out-1' })).toBeNull();
  });
});
