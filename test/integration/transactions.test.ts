import { Client } from 'pg';
import { Column, DataSource, Entity, type EntityManager, Like, PrimaryColumn } from 'typeorm';
import {
  ConfigurationError,
  SerializationError,
  StepFailedError,
  Step,
  Workflow,
  WorkflowFailedError,
  Zart,
  currentStep,
  step,
  stepTransaction,
} from '../../src';
import { useTestDatabase } from '../support/test-zart';
import { silentLogger } from '../support/silent-logger';
import { waitFor } from '../support/wait-for';

const db = useTestDatabase();

@Entity('tx_orders')
class OrderRow {
  @PrimaryColumn({ type: 'text' }) id!: string;
  @Column({ type: 'integer' }) cents!: number;
}

let failAfterWriteOnce = true;

class Orders {
  @Step({ transaction: true, retry: { maxAttempts: 2, initialDelay: '10ms' } })
  async place(id: string, cents: number): Promise<string> {
    await stepTransaction().getRepository(OrderRow).insert({ id, cents });
    if (failAfterWriteOnce) {
      failAfterWriteOnce = false;
      throw new Error(`crashed after writing, attempt ${currentStep().attempt}`);
    }
    return id;
  }
}

@Workflow({ name: 'tx-place-order' })
class PlaceOrder {
  private readonly orders = new Orders();
  async run(input: { id: string; cents: number }): Promise<string> {
    return this.orders.place(input.id, input.cents);
  }
}

@Workflow({ name: 'tx-misuse' })
class Misuse {
  async run(): Promise<void> {
    await step('plain', () => {
      stepTransaction();
    });
  }
}

@Workflow({ name: 'tx-follow-up' })
class FollowUp {
  async run(input: { orderId: string }): Promise<string> {
    return step('confirm', () => `confirmed ${input.orderId}`);
  }
}

let unstorableCalls = 0;
let droppedConnections = 0;

@Workflow({ name: 'tx-unstorable-output' })
class UnstorableOutput {
  async run(): Promise<unknown> {
    return step(
      'returns-a-function',
      async () => {
        unstorableCalls++;
        await stepTransaction().getRepository(OrderRow).insert({ id: 'order-unstorable', cents: 3 });
        return { callback: () => 'not storable' };
      },
      { transaction: true, retry: { maxAttempts: 3, initialDelay: '10ms' } },
    );
  }
}

@Workflow({ name: 'tx-dropped-connection' })
class DroppedConnection {
  async run(): Promise<number> {
    return step(
      'write-then-lose-the-connection',
      async () => {
        const manager = stepTransaction();
        await manager.getRepository(OrderRow).insert({ id: 'order-dropped', cents: 4 });
        if (droppedConnections++ === 0) await manager.query('SELECT pg_terminate_backend(pg_backend_pid())');
        return currentStep().attempt;
      },
      { transaction: true },
    );
  }
}

// Terminates the step transaction's session from outside while it is idle in its transaction,
// as a network loss or idle_in_transaction_session_timeout does, and waits until it is gone.
async function dropIdleTransaction(manager: EntityManager): Promise<void> {
  const [{ pid }] = await manager.query<[{ pid: number }]>('SELECT pg_backend_pid() AS pid');
  const outside = new Client({ connectionString: db.url });
  await outside.connect();
  try {
    await outside.query('SELECT pg_terminate_backend($1)', [pid]);
    while ((await outside.query('SELECT 1 FROM pg_stat_activity WHERE pid = $1', [pid])).rowCount) {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  } finally {
    await outside.end();
  }
  // Let the driver see its socket close.
  await new Promise((resolve) => setTimeout(resolve, 50));
}

const idleDrops = { between: 0, beforeCommit: 0 };

@Workflow({ name: 'tx-dropped-while-idle' })
class DroppedWhileIdle {
  async run(input: { where: 'between' | 'beforeCommit' }): Promise<number> {
    return step(
      `drop-${input.where}`,
      async () => {
        const manager = stepTransaction();
        const rows = manager.getRepository(OrderRow);
        await rows.insert({ id: `order-idle-${input.where}-1`, cents: 5 });
        const first = idleDrops[input.where]++ === 0;
        if (first && input.where === 'between') await dropIdleTransaction(manager);
        await rows.insert({ id: `order-idle-${input.where}-2`, cents: 6 });
        if (first && input.where === 'beforeCommit') await dropIdleTransaction(manager);
        return currentStep().attempt;
      },
      { transaction: true },
    );
  }
}

let stealLease: (() => Promise<void>) | undefined;

@Workflow({ name: 'tx-lease-lost' })
class LeaseLostMidTransaction {
  async run(): Promise<string> {
    return step(
      'write-then-lose-the-lease',
      async () => {
        await stepTransaction().getRepository(OrderRow).insert({ id: 'order-fenced', cents: 7 });
        await stealLease?.(); // another worker takes the run over before this transaction commits
        return 'committed';
      },
      { transaction: true },
    );
  }
}

let apiCalls = 0;

@Workflow({ name: 'tx-api-down' })
class ApiDown {
  async run(): Promise<unknown> {
    return step(
      'call-api',
      () => {
        apiCalls++;
        // What an HTTP client throws when the service is down: not the transaction's failure.
        throw Object.assign(new Error('connect ECONNREFUSED 10.0.0.1:443'), { code: 'ECONNREFUSED' });
      },
      { transaction: true, retry: { maxAttempts: 3, initialDelay: '10ms' } },
    );
  }
}

describe('transactions', () => {
  let app: DataSource;
  let zart: Zart;
  beforeAll(async () => {
    app = new DataSource({ type: 'postgres', url: db.url, entities: [OrderRow], synchronize: true });
    await app.initialize();
    zart = new Zart({ dataSource: app, logger: silentLogger, worker: { pollInterval: '30s' } });
    await zart.start();
  });
  afterAll(async () => {
    await zart.shutdown();
    await app.destroy();
  });

  it('commit a transactional step’s writes with its checkpoint; a failed attempt leaves no write', async () => {
    const handle = await zart.startWorkflow(PlaceOrder, { id: 'order-1', cents: 1200 }, { id: 'tx-1' });
    expect(await handle.result({ timeout: '20s' })).toBe('order-1');
    expect(await app.getRepository(OrderRow).find()).toEqual([{ id: 'order-1', cents: 1200 }]);
    const [checkpoint] = await zart.getSteps('tx-1');
    expect(checkpoint).toMatchObject({ key: 'Orders.place#0', status: 'completed', attempts: 2 });
  });

  it('store an unstorable output as the step’s failure, roll its writes back and not retry it', async () => {
    const handle = await zart.startWorkflow(UnstorableOutput, undefined as never, { id: 'tx-unstorable' });
    const error = await handle.result({ timeout: '20s' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(WorkflowFailedError);
    expect((error as WorkflowFailedError).cause).toBeInstanceOf(SerializationError);
    expect(unstorableCalls).toBe(1);
    expect(await app.getRepository(OrderRow).findOneBy({ id: 'order-unstorable' })).toBeNull();
    expect(await zart.getSteps('tx-unstorable')).toEqual([
      expect.objectContaining({ key: 'returns-a-function#0', status: 'failed', attempts: 1 }),
    ]);
  });

  it('run a transaction that lost its connection again, without spending an attempt or doubling a write', async () => {
    const handle = await zart.startWorkflow(DroppedConnection, undefined as never, { id: 'tx-dropped' });
    // No retry policy: before, the dropped connection failed the step for good.
    expect(await handle.result({ timeout: '20s' })).toBe(1);
    expect(droppedConnections).toBe(2);
    expect(await app.getRepository(OrderRow).findBy({ id: 'order-dropped' })).toEqual([
      { id: 'order-dropped', cents: 4 },
    ]);
    expect(await zart.getSteps('tx-dropped')).toEqual([expect.objectContaining({ status: 'completed', attempts: 1 })]);
  });

  it.each(['between', 'beforeCommit'] as const)(
    'run a transaction whose connection dropped while it was idle (%s) again, without spending an attempt',
    async (where) => {
      const handle = await zart.startWorkflow(DroppedWhileIdle, { where }, { id: `tx-idle-${where}` });
      expect(await handle.result({ timeout: '20s' })).toBe(1);
      expect(idleDrops[where]).toBe(2);
      const written = await app.getRepository(OrderRow).find({ where: { id: Like(`order-idle-${where}-%`) } });
      expect(written.map((row) => row.id).sort()).toEqual([`order-idle-${where}-1`, `order-idle-${where}-2`]);
      expect(await zart.getSteps(`tx-idle-${where}`)).toEqual([
        expect.objectContaining({ status: 'completed', attempts: 1 }),
      ]);
    },
  );

  it('treat a connection error thrown by the step itself as the step’s failure, under its retry policy', async () => {
    const handle = await zart.startWorkflow(ApiDown, undefined as never, { id: 'tx-api-down' });
    const error = await handle.result({ timeout: '20s' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(WorkflowFailedError);
    expect((error as WorkflowFailedError).cause).toBeInstanceOf(StepFailedError);
    expect(apiCalls).toBe(3);
  });

  it('roll back a transactional step whose run was taken over before it committed', async () => {
    stealLease = async () => {
      await db.sql.query(
        "UPDATE zart.runs SET lease_owner = 'another-worker', lease_epoch = lease_epoch + 1, lease_expires_at = now() + interval '1 hour' WHERE id = 'tx-fenced'",
      );
    };
    try {
      await zart.startWorkflow(LeaseLostMidTransaction, undefined as never, { id: 'tx-fenced' });
      await waitFor(
        async () =>
          (await db.sql.query("SELECT 1 FROM zart.runs WHERE id = 'tx-fenced' AND lease_owner = 'another-worker'"))
            .rowCount === 1,
      );
      // The step's transaction was open when the lease moved; wait until no session is busy.
      await waitFor(
        async () =>
          (
            await db.sql.query(
              "SELECT 1 FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid() AND backend_type = 'client backend' AND state <> 'idle'",
            )
          ).rowCount === 0,
      );
      expect(await app.getRepository(OrderRow).findOneBy({ id: 'order-fenced' })).toBeNull();
      expect(await zart.getSteps('tx-fenced')).toEqual([]);
      expect(await zart.getRun('tx-fenced')).toMatchObject({ status: 'running' });
    } finally {
      stealLease = undefined;
    }
  });

  it('use the application’s DataSource once it is initialised, even after start(), and say when it is not', async () => {
    const late = new DataSource({ type: 'postgres', url: db.url, entities: [OrderRow] });
    const lateZart = new Zart({ dataSource: late, schema: 'zart_late', logger: silentLogger });
    await lateZart.start();
    try {
      const early = await lateZart.startWorkflow(PlaceOrder, { id: 'order-early', cents: 5 }, { id: 'tx-early' });
      const error = await early.result({ timeout: '20s' }).catch((e: unknown) => e);
      const stepFailure = (error as WorkflowFailedError).cause as Error;
      expect(stepFailure.cause).toBeInstanceOf(ConfigurationError);
      expect((stepFailure.cause as Error).message).toContain('Call dataSource.initialize()');

      await late.initialize();
      failAfterWriteOnce = false;
      const handle = await lateZart.startWorkflow(PlaceOrder, { id: 'order-late', cents: 6 }, { id: 'tx-late' });
      expect(await handle.result({ timeout: '20s' })).toBe('order-late');
      expect(await late.getRepository(OrderRow).findOneBy({ id: 'order-late' })).toEqual({
        id: 'order-late',
        cents: 6,
      });
    } finally {
      await lateZart.shutdown();
      if (late.isInitialized) await late.destroy();
    }
  });

  it('refuse stepTransaction() in a step that is not transactional', async () => {
    const handle = await zart.startWorkflow(Misuse, undefined as never, { id: 'tx-misuse' });
    const error = (await handle.result({ timeout: '20s' }).catch((e: unknown) => e)) as Error;
    expect((error.cause as Error & { cause: Error }).cause).toBeInstanceOf(ConfigurationError);
    expect(() => stepTransaction()).toThrow('stepTransaction() can only be called while a workflow runs');
  });

  it('start a run inside the caller’s transaction: a rollback leaves no run, a commit starts it at once', async () => {
    await app
      .transaction(async (manager) => {
        await manager.getRepository(OrderRow).insert({ id: 'order-rolled-back', cents: 1 });
        await zart.startWorkflow(FollowUp, { orderId: 'order-rolled-back' }, { id: 'follow-rolled-back', manager });
        throw new Error('payment provider said no');
      })
      .catch(() => undefined);
    await expect(zart.getRun('follow-rolled-back')).rejects.toThrow('No run with id');
    expect(await app.getRepository(OrderRow).findOneBy({ id: 'order-rolled-back' })).toBeNull();

    await app.transaction(async (manager) => {
      await manager.getRepository(OrderRow).insert({ id: 'order-2', cents: 2 });
      await zart.startWorkflow(FollowUp, { orderId: 'order-2' }, { id: 'follow-2', manager });
    });
    // The worker polls every 30 s: only the NOTIFY sent at commit explains a prompt start.
    expect(await zart.getHandle('follow-2').result({ timeout: '10s' })).toBe('confirmed order-2');
  });
});
