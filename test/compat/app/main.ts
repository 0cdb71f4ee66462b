// The application of the compatibility check (npm run compat): copied into a scratch app that
// installs zart from its packed tarball beside its own TypeORM (0.3 or 1.x); it must compile with
// tsc --strict and run. It does what a user's app does: zart imported before the app initialises
// its own DataSource, that DataSource passed to new Zart(), and a repository taken from it injected
// into a service whose transactional step rolls back on a throw and commits on success.
import 'reflect-metadata';
import { Column, DataSource, Entity, PrimaryColumn, getMetadataArgsStorage, type Repository } from 'typeorm';
import { Step, Workflow, WorkflowFailedError, Zart, stepTransaction } from 'zart';

@Entity('compat_orders')
export class Order {
  @PrimaryColumn({ type: 'text' }) id!: string;
  @Column({ type: 'integer' }) cents!: number;
}

export class Orders {
  constructor(private readonly orders: Repository<Order>) {}

  @Step({ transaction: true })
  async place(id: string, cents: number, fail: boolean): Promise<number> {
    await this.orders.insert({ id, cents });
    // The step's own manager sees the injected repository's row: one transaction.
    const seen = await stepTransaction().getRepository(Order).countBy({ id });
    if (fail) throw new Error(`payment refused for ${id}`);
    return seen;
  }
}

export interface PlaceOrderInput {
  id: string;
  cents: number;
  fail: boolean;
}

@Workflow({ name: 'compat-place-order' })
export class PlaceOrder {
  constructor(private readonly orders: Orders) {}

  async run(input: PlaceOrderInput): Promise<number> {
    return this.orders.place(input.id, input.cents, input.fail);
  }
}

function check(condition: boolean, what: string): void {
  if (!condition) throw new Error(`compat check failed: ${what}`);
}

async function main(): Promise<void> {
  const url = process.env.DATABASE_URL;
  if (!url) throw new Error('DATABASE_URL is not set');
  // With a second copy of TypeORM inside zart, this failed: "filterRelationCounts is not a function".
  const dataSource = new DataSource({ type: 'postgres', url, entities: [Order], synchronize: true });
  await dataSource.initialize();
  const orders = new Orders(dataSource.getRepository(Order));
  const zart = new Zart({
    dataSource,
    resolve: (cls) => (cls === PlaceOrder ? new PlaceOrder(orders) : new (cls as new () => object)()),
    logger: { debug: () => undefined, info: () => undefined, warn: () => undefined, error: console.error },
  });
  await zart.start();
  try {
    const placed = await zart.startWorkflow(PlaceOrder, { id: 'order-1', cents: 1200, fail: false });
    check((await placed.result({ timeout: '30s' })) === 1, 'the committed step saw its own row');
    check((await dataSource.getRepository(Order).countBy({ id: 'order-1' })) === 1, 'the committed row is there');
    const [checkpoint] = await zart.getSteps(placed.id);
    check(checkpoint?.status === 'completed', 'the checkpoint committed with the row');

    const refused = await zart.startWorkflow(PlaceOrder, { id: 'order-2', cents: 900, fail: true });
    const error = await refused.result({ timeout: '30s' }).catch((e: unknown) => e);
    check(
      error instanceof WorkflowFailedError,
      `the failed run rejects with WorkflowFailedError, got ${String(error)}`,
    );
    check((await dataSource.getRepository(Order).countBy({ id: 'order-2' })) === 0, 'the failed step rolled back');

    // Neither side's metadata leaked into the other: the app knows its entity only, and its
    // synchronize created no table of zart's in the app's schema.
    check(
      dataSource.entityMetadatas.map((m) => m.name).join() === 'Order',
      'the app DataSource has only its own entity',
    );
    check(
      getMetadataArgsStorage().tables.length === 1,
      "TypeORM's global metadata storage holds the app's entity only",
    );
    const [{ runs }] = await dataSource.query<[{ runs: string | null }]>("SELECT to_regclass('public.runs') AS runs");
    check(runs === null, 'no zart table in the app schema');
    console.log('compat ok: commit with the checkpoint, rollback on a throw, no shared metadata');
  } finally {
    await zart.shutdown();
    await dataSource.destroy();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
