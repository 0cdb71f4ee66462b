// The Nest 11 application of the compatibility check (test/consumer/compat.test.ts): copied into the
// same scratch app as main.ts, which installed zart's packed tarball beside its own TypeORM (0.3 or
// 1.x), @nestjs/common, @nestjs/core and @nestjs/typeorm; it must compile with tsc --strict and run.
// It wires zart as the NestJS page says: ZartModule.forRoot on the app's @nestjs/typeorm DataSource,
// a @Workflow provider, and a service whose @InjectRepository repository writes inside a
// transactional step: committed with the checkpoint on success, rolled back on every failed attempt.
import 'reflect-metadata';
import { Injectable, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { InjectRepository, TypeOrmModule } from '@nestjs/typeorm';
import { Column, DataSource, Entity, PrimaryColumn, type Repository } from 'typeorm';
import { Step, Workflow, WorkflowFailedError, Zart } from 'zart';
import { ZartModule } from 'zart/nestjs';

@Entity('compat_nest_orders')
export class NestOrder {
  @PrimaryColumn({ type: 'text' }) id!: string;
  @Column({ type: 'integer' }) cents!: number;
}

@Injectable()
export class OrderBook {
  constructor(@InjectRepository(NestOrder) private readonly orders: Repository<NestOrder>) {}

  // Two attempts, so a refused order shows the designed retry: each attempt's insert is rolled
  // back (the second insert of the same id would otherwise fail on the primary key).
  @Step({ transaction: true, retry: { maxAttempts: 2, backoff: 'fixed', initialDelay: '200ms' } })
  async place(id: string, cents: number, fail: boolean): Promise<number> {
    await this.orders.insert({ id, cents });
    // The injected repository reads its own uncommitted row: it is in the step's transaction.
    const seen = await this.orders.countBy({ id });
    if (fail) throw new Error(`payment refused for ${id}`);
    return seen;
  }
}

export interface PlaceNestOrderInput {
  id: string;
  cents: number;
  fail: boolean;
}

@Workflow({ name: 'compat-nest-place-order' })
export class PlaceNestOrder {
  constructor(private readonly book: OrderBook) {}

  async run(input: PlaceNestOrderInput): Promise<number> {
    return this.book.place(input.id, input.cents, input.fail);
  }
}

function databaseUrl(): string {
  const url = process.env.DATABASE_URL;
  if (!url) throw new Error('DATABASE_URL is not set');
  return url;
}

@Module({
  imports: [
    TypeOrmModule.forRoot({ type: 'postgres', url: databaseUrl(), entities: [NestOrder], synchronize: true }),
    TypeOrmModule.forFeature([NestOrder]),
    ZartModule.forRoot({ typeOrmDataSource: 'default', worker: { pollInterval: '100ms' } }),
  ],
  providers: [OrderBook, PlaceNestOrder],
})
export class AppModule {}

function check(condition: boolean, what: string): void {
  if (!condition) throw new Error(`nest compat check failed: ${what}`);
}

async function main(): Promise<void> {
  const app = await NestFactory.create(AppModule, { logger: ['error', 'warn'] });
  await app.init(); // checks the workflows, migrates and starts the worker
  try {
    const zart = app.get(Zart);
    const orders = app.get(DataSource).getRepository(NestOrder);

    const placed = await zart.startWorkflow(PlaceNestOrder, { id: 'nest-1', cents: 1200, fail: false });
    check((await placed.result({ timeout: '60s' })) === 1, 'the committed step saw its own row');
    check((await orders.countBy({ id: 'nest-1' })) === 1, 'the committed row is there');
    const [committed] = await zart.getSteps(placed.id);
    check(committed?.status === 'completed', 'the checkpoint committed with the row');

    const refused = await zart.startWorkflow(PlaceNestOrder, { id: 'nest-2', cents: 900, fail: true });
    const error = await refused.result({ timeout: '60s' }).catch((e: unknown) => e);
    check(
      error instanceof WorkflowFailedError,
      `the failed run rejects with WorkflowFailedError, got ${String(error)}`,
    );
    check((await orders.countBy({ id: 'nest-2' })) === 0, 'both failed attempts rolled back their insert');
    const [failedStep] = await zart.getSteps(refused.id);
    check(
      failedStep?.status === 'failed' && failedStep.attempts === 2,
      `the step failed after its 2 attempts, got ${failedStep?.status ?? 'no step'} after ${failedStep?.attempts ?? 0}`,
    );
    check((await zart.getRun(refused.id)).status === 'failed', 'the run is failed');
    console.log('nest compat ok: @InjectRepository joins the step transaction, rolled back on each failed attempt');
  } finally {
    await app.close(); // hands runs back, then @nestjs/typeorm closes its DataSource
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
