// ZartModule in a Nest 11 app on real PostgreSQL: injection by class, workflows resolved from Nest
// with a fresh instance per run, the app's @nestjs/typeorm DataSource, the worker starting after
// every onModuleInit and handing runs back before the DataSource closes, the Nest logger, options
// from a factory, and zart's errors over HTTP through the opt-in exception filter.
import {
  Body,
  Controller,
  Get,
  Injectable,
  Module,
  type DynamicModule,
  type INestApplication,
  Param,
  Post,
  Scope,
  type LoggerService,
} from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { Test, type TestingModuleBuilder } from '@nestjs/testing';
import { InjectRepository, TypeOrmModule } from '@nestjs/typeorm';
import { IsString, Length } from 'class-validator';
import type { Server } from 'node:http';
import { setTimeout as delay } from 'node:timers/promises';
import request from 'supertest';
import { Column, DataSource, Entity, PrimaryColumn, type Repository } from 'typeorm';
import {
  ConfigurationError,
  ShutdownError,
  Step,
  Workflow,
  Zart,
  ZartClient,
  step,
  waitForEvent,
  WorkflowFailedError,
  type WorkflowRun,
} from 'zart';
import { ZartExceptionFilter, ZartModule, type ZartModuleOptions } from 'zart/nestjs';
import { useTestDatabase } from '../support/test-zart';
import { waitFor } from '../support/wait-for';

const db = useTestDatabase();

@Entity({ name: 'greetings_log' })
class GreetingLogEntity {
  @PrimaryColumn() id!: string;
  @Column() text!: string;
}

/** Opens on demand: a step that waits on it is in flight until the test lets it finish. */
class Gate {
  private open!: () => void;
  readonly opened = new Promise<void>((resolve) => (this.open = resolve));
  entered = false;
  let(): void {
    this.open();
  }
}
const gates = new Map<string, Gate>();
const executions: string[] = [];
let awaitingResults = 0;

@Injectable()
class Greeter {
  constructor(@InjectRepository(GreetingLogEntity) private readonly log: Repository<GreetingLogEntity>) {}

  @Step()
  async greet(runId: string, name: string): Promise<string> {
    executions.push(`greet:${runId}`);
    const gate = gates.get(runId);
    if (gate) {
      gate.entered = true;
      await gate.opened;
    }
    // Written through the app's repository, after shutdown began when a gate held this step.
    await this.log.save({ id: `${runId}:${name}`, text: `hello ${name}` });
    return `hello ${name}`;
  }
}

/** Writes through its injected repository in a transactional step, then fails when told to. */
@Injectable()
class Ledger {
  constructor(@InjectRepository(GreetingLogEntity) private readonly log: Repository<GreetingLogEntity>) {}

  @Step({ transaction: true })
  async write(id: string, fail: boolean): Promise<void> {
    await this.log.insert({ id, text: 'ledger' });
    if (fail) throw new Error('the step fails after writing');
  }
}

@Workflow({ name: 'nest-ledger' })
class LedgerWorkflow {
  constructor(private readonly ledger: Ledger) {}
  async run(input: { id: string; fail: boolean }): Promise<string> {
    await this.ledger.write(input.id, input.fail);
    return 'written';
  }
}

/** Transient: Nest builds it per consumer, asynchronously. */
@Injectable({ scope: Scope.TRANSIENT })
class Punctuation {
  readonly mark = '!';
}

/** Sets `ready` at the end of a slow onModuleInit (a cache warm-up, a connection). */
@Injectable()
class Warmup {
  ready = false;
  async onModuleInit(): Promise<void> {
    await delay(300);
    this.ready = true;
  }
}

class GreetingInput {
  @IsString() @Length(1, 20) runId!: string;
  @IsString({ each: true }) names!: string[];
}

@Workflow({ name: 'nest-greeting', input: GreetingInput })
class GreetingWorkflow {
  /** Instance state: one instance shared by two runs would mix their greetings. */
  private readonly greetings: string[] = [];

  constructor(
    private readonly greeter: Greeter,
    private readonly punctuation: Punctuation,
    private readonly warmup: Warmup,
  ) {}

  async run(input: GreetingInput): Promise<{ greetings: string[]; warm: boolean }> {
    const warm = await step('warm', () => this.warmup.ready);
    for (const name of input.names) {
      this.greetings.push((await this.greeter.greet(input.runId, name)) + this.punctuation.mark);
      await delay(2);
    }
    return { greetings: this.greetings, warm };
  }
}

@Workflow({ name: 'nest-waiting' })
class WaitingWorkflow {
  async run(): Promise<string> {
    return waitForEvent<string>('never-sent');
  }
}

let failFirstAttempt = true;
@Workflow({ name: 'nest-retried', retry: { maxAttempts: 2, initialDelay: 10 } })
class RetriedWorkflow {
  async run(): Promise<string> {
    return step('maybe-fail', () => {
      if (failFirstAttempt) {
        failFirstAttempt = false;
        throw new Error('first attempt fails');
      }
      return 'second attempt';
    });
  }
}

@Controller('greetings')
class GreetingsController {
  constructor(private readonly zart: ZartClient) {}

  @Post()
  async start(@Body() body: GreetingInput): Promise<{ id: string }> {
    const handle = await this.zart.startWorkflow(GreetingWorkflow, body, { id: `greeting-${body.runId}` });
    return { id: handle.id };
  }

  /** Held open until the run ends: an HTTP request in flight at shutdown. */
  @Get(':id/result')
  async result(@Param('id') id: string): Promise<unknown> {
    awaitingResults += 1;
    return this.zart.getHandle(id).result();
  }

  @Get(':id')
  async show(@Param('id') id: string): Promise<WorkflowRun> {
    return this.zart.getRun(id);
  }
}

/** Records what reaches Nest's logger. */
class RecordingLogger implements LoggerService {
  readonly lines: Array<{ level: string; message: string; context?: string }> = [];
  log(message: string, context?: string): void {
    this.lines.push({ level: 'log', message, context });
  }
  error(message: string, _trace?: string, context?: string): void {
    this.lines.push({ level: 'error', message, context });
  }
  warn(message: string, context?: string): void {
    this.lines.push({ level: 'warn', message, context });
  }
  debug(message: string, context?: string): void {
    this.lines.push({ level: 'debug', message, context });
  }
}

const workflows = [GreetingWorkflow, WaitingWorkflow, RetriedWorkflow, LedgerWorkflow];
const services = [Greeter, Punctuation, Warmup, Ledger];

async function createApp(
  zartModule = ZartModule.forRoot({ typeOrmDataSource: 'default', worker: fastWorker }),
  override: (builder: TestingModuleBuilder) => TestingModuleBuilder = (builder) => builder,
) {
  @Module({
    imports: [
      TypeOrmModule.forRoot({ type: 'postgres', url: db.url, entities: [GreetingLogEntity], synchronize: true }),
      TypeOrmModule.forFeature([GreetingLogEntity]),
      zartModule,
    ],
    controllers: [GreetingsController],
    providers: [...services, ...workflows],
  })
  class AppModule {}
  const logger = new RecordingLogger();
  const moduleRef = await override(Test.createTestingModule({ imports: [AppModule] }).setLogger(logger)).compile();
  const app = moduleRef.createNestApplication({ logger });
  return { app, logger };
}

/** The app's HTTP server, typed for supertest (Nest types it `any`). */
function httpServer(app: INestApplication): Server {
  return app.getHttpServer() as Server;
}

/** Compiles a module with nothing but ZartModule: for options that must fail before anything connects. */
async function compileWith(zartModule: DynamicModule): Promise<void> {
  await Test.createTestingModule({ imports: [zartModule] })
    .setLogger(new RecordingLogger())
    .compile();
}

const fastWorker = { pollInterval: '50ms', lease: '2s' } as const;

afterEach(() => gates.clear());

it('injects Zart and ZartClient by class and runs a workflow built by Nest with its dependencies', async () => {
  const { app } = await createApp();
  await app.init();
  try {
    const zart = app.get(Zart);
    expect(app.get(ZartClient)).toBe(zart);
    const handle = await zart.startWorkflow(GreetingWorkflow, { runId: 'inject', names: ['ada'] });
    expect(await handle.result({ timeout: '20s' })).toEqual({ greetings: ['hello ada!'], warm: true });
    // The step wrote through the app's repository; Zart's tables sit beside the app's in one database.
    expect(await app.get(DataSource).query('SELECT id FROM greetings_log')).toEqual([{ id: 'inject:ada' }]);
    const { rows } = await db.sql.query("SELECT 1 FROM information_schema.tables WHERE table_schema = 'zart'");
    expect(rows.length).toBeGreaterThan(0);
    // Zart's own pool, opened from the app's DataSource settings, is named in pg_stat_activity.
    const named = await db.sql.query<{ count: number }>(
      "SELECT count(*)::int AS count FROM pg_stat_activity WHERE datname = current_database() AND application_name LIKE 'zart%'",
    );
    expect(named.rows[0]!.count).toBeGreaterThan(0);
  } finally {
    await app.close();
  }
});

it('builds each execution from the testing module, so overrideProvider reaches a workflow’s dependencies', async () => {
  const { app } = await createApp(undefined, (builder) =>
    builder.overrideProvider(Greeter).useValue({ greet: (_runId: string, name: string) => `hey ${name}` }),
  );
  await app.init();
  try {
    const handle = await app.get(Zart).startWorkflow(GreetingWorkflow, { runId: 'override', names: ['cy'] });
    expect(await handle.result({ timeout: '20s' })).toEqual({ greetings: ['hey cy!'], warm: true });
  } finally {
    await app.close();
  }
});

it('rolls back what an injected repository wrote in a transactional step that throws, and commits it otherwise', async () => {
  const { app } = await createApp();
  await app.init();
  try {
    const zart = app.get(Zart);
    const failed = await zart.startWorkflow(LedgerWorkflow, { id: 'ledger-failed', fail: true });
    await expect(failed.result({ timeout: '20s' })).rejects.toThrow(WorkflowFailedError);
    const written = await zart.startWorkflow(LedgerWorkflow, { id: 'ledger-written', fail: false });
    expect(await written.result({ timeout: '20s' })).toBe('written');
    const rows = await app.get(DataSource).query("SELECT id FROM greetings_log WHERE id LIKE 'ledger-%'");
    expect(rows).toEqual([{ id: 'ledger-written' }]);
  } finally {
    await app.close();
  }
});

it('executes each run on its own workflow instance, so concurrent runs never share fields', async () => {
  const { app } = await createApp();
  await app.init();
  try {
    const zart = app.get(Zart);
    const ids = ['p', 'q', 'r', 's'];
    const handles = await Promise.all(
      ids.map((id) => zart.startWorkflow(GreetingWorkflow, { runId: `own-${id}`, names: [`${id}1`, `${id}2`] })),
    );
    const results = await Promise.all(handles.map((handle) => handle.result({ timeout: '20s' })));
    expect(results.map((result) => result.greetings)).toEqual(ids.map((id) => [`hello ${id}1!`, `hello ${id}2!`]));
  } finally {
    await app.close();
  }
});

it('starts claiming runs only after every provider finished its onModuleInit', async () => {
  // A run waiting before the app boots, as after a redeploy.
  const client = await db.client();
  await client.startWorkflow(GreetingWorkflow, { runId: 'boot', names: [] }, { id: 'waiting-at-boot' });
  const { app } = await createApp();
  await app.init();
  try {
    const result = await app.get(Zart).getHandle('waiting-at-boot').result({ timeout: '20s' });
    expect(result).toEqual({ greetings: [], warm: true });
  } finally {
    await app.close();
  }
});

it('on close, hands a run back at its next step boundary while the DataSource is still open', async () => {
  const gate = new Gate();
  gates.set('redeploy', gate);
  const first = await createApp();
  await first.app.init();
  const handle = await first.app
    .get(Zart)
    .startWorkflow(GreetingWorkflow, { runId: 'redeploy', names: ['one', 'two'] }, { id: 'redeploy' });
  await waitFor(() => gate.entered);
  const closed = first.app.close();
  // Shutdown has begun: the step in flight finishes now and writes through the app's repository.
  await delay(100);
  gate.let();
  await closed;
  expect(executions.filter((e) => e === 'greet:redeploy')).toHaveLength(1);
  const steps = await db.sql.query<{ key: string }>(
    "SELECT key FROM zart.steps WHERE run_id = 'redeploy' ORDER BY seq",
  );
  expect(steps.rows.map((row) => row.key)).toEqual(['warm#0', 'Greeter.greet#0']);

  const second = await createApp();
  await second.app.init();
  try {
    expect(await second.app.get(Zart).getHandle(handle.id).result({ timeout: '20s' })).toEqual({
      greetings: ['hello one!', 'hello two!'],
      warm: true,
    });
    // The checkpointed step was replayed, not run again.
    expect(executions.filter((e) => e === 'greet:redeploy')).toHaveLength(2);
    expect(
      await second.app.get(DataSource).query("SELECT id FROM greetings_log WHERE id LIKE 'redeploy:%' ORDER BY id"),
    ).toEqual([{ id: 'redeploy:one' }, { id: 'redeploy:two' }]);
  } finally {
    await second.app.close();
  }
});

it('rejects a result() pending at close with ShutdownError', async () => {
  const { app } = await createApp();
  await app.init();
  const handle = await app.get(Zart).startWorkflow(WaitingWorkflow, undefined as never);
  const outcome = handle.result().catch((error: unknown) => error);
  await app.close();
  expect(await outcome).toBeInstanceOf(ShutdownError);
});

it('writes its log lines through Nest’s logger by default, in the Zart context', async () => {
  const { app, logger } = await createApp();
  await app.init();
  try {
    expect(
      await (await app.get(Zart).startWorkflow(RetriedWorkflow, undefined as never)).result({ timeout: '20s' }),
    ).toBe('second attempt');
    expect(logger.lines).toContainEqual(
      expect.objectContaining({ level: 'log', context: 'Zart', message: expect.stringContaining('retrying') }),
    );
  } finally {
    await app.close();
  }
});

it('takes its options from forRootAsync, with durations read from configuration as strings', async () => {
  @Injectable()
  class Config {
    get(key: string): string {
      return { DATABASE_URL: db.url, ZART_DRAIN: '5s', ZART_POLL: '50ms' }[key] ?? '';
    }
  }
  @Module({ providers: [Config], exports: [Config] })
  class ConfigModule {}
  const zartModule = ZartModule.forRootAsync({
    imports: [ConfigModule],
    inject: [Config],
    useFactory: (config: Config): ZartModuleOptions => ({
      connectionString: config.get('DATABASE_URL'),
      worker: { drain: config.get('ZART_DRAIN'), pollInterval: config.get('ZART_POLL') },
    }),
  });
  const { app } = await createApp(zartModule);
  await app.init();
  try {
    const handle = await app.get(Zart).startWorkflow(GreetingWorkflow, { runId: 'async', names: ['bo'] });
    expect(await handle.result({ timeout: '20s' })).toEqual({ greetings: ['hello bo!'], warm: true });
  } finally {
    await app.close();
  }
});

it('fails startup, naming the option, when a duration from configuration is malformed', async () => {
  const zartModule = ZartModule.forRootAsync({
    useFactory: () => ({ connectionString: db.url, worker: { drain: 'ten seconds' } }),
  });
  await expect(compileWith(zartModule)).rejects.toThrow(/worker\.drain must be/);
});

it('uses a named @nestjs/typeorm DataSource without repeating its settings', async () => {
  @Module({
    imports: [
      TypeOrmModule.forRoot({ name: 'orders', type: 'postgres', url: db.url, entities: [GreetingLogEntity] }),
      ZartModule.forRoot({ typeOrmDataSource: 'orders', schema: 'zart_named', worker: fastWorker }),
    ],
    providers: [
      { provide: Greeter, useValue: { greet: () => 'hi' } },
      { provide: Ledger, useValue: {} },
      Punctuation,
      Warmup,
      ...workflows,
    ],
  })
  class NamedModule {}
  const moduleRef = await Test.createTestingModule({ imports: [NamedModule] }).compile();
  const app = moduleRef.createNestApplication({ logger: false });
  await app.init();
  try {
    const handle = await app.get(Zart).startWorkflow(GreetingWorkflow, { runId: 'named', names: ['x'] });
    expect(await handle.result({ timeout: '20s' })).toEqual({ greetings: ['hi!'], warm: true });
    const { rows } = await db.sql.query('SELECT id FROM zart_named.runs WHERE id = $1', [handle.id]);
    expect(rows).toHaveLength(1);
  } finally {
    await app.close();
  }
});

describe('errors over HTTP with ZartExceptionFilter', () => {
  let app: Awaited<ReturnType<typeof createApp>>['app'];
  beforeAll(async () => {
    app = (await createApp()).app;
    app.useGlobalFilters(new ZartExceptionFilter(app.get(HttpAdapterHost)));
    await app.init();
  });
  afterAll(() => app.close());

  it('answers 400 with each failing property for an invalid workflow input', async () => {
    const response = await request(httpServer(app))
      .post('/greetings')
      .send({ runId: '', names: [1] });
    expect(response.status).toBe(400);
    expect(response.body).toMatchObject({ statusCode: 400, code: 'ZART_VALIDATION_FAILED' });
    expect((response.body as { failures: Array<{ property: string }> }).failures.map((f) => f.property).sort()).toEqual(
      ['names', 'runId'],
    );
  });

  it('answers 404 for a run that does not exist', async () => {
    const response = await request(httpServer(app)).get('/greetings/no-such-run');
    expect(response.status).toBe(404);
    expect(response.body).toMatchObject({ code: 'ZART_RUN_NOT_FOUND' });
  });

  it('answers 409 for a run id taken by another workflow', async () => {
    await app.get(Zart).startWorkflow(WaitingWorkflow, undefined as never, { id: 'greeting-taken' });
    const response = await request(httpServer(app)).post('/greetings').send({ runId: 'taken', names: [] });
    expect(response.status).toBe(409);
    expect(response.body).toMatchObject({ code: 'ZART_RUN_ID_CONFLICT' });
  });

  it('answers 503 to a request awaiting a result at close, without starting another step meanwhile', async () => {
    // A schema of its own: the suite's other app would take the run over once it is handed back.
    const held = (
      await createApp(ZartModule.forRoot({ typeOrmDataSource: 'default', worker: fastWorker, schema: 'zart_held' }))
    ).app;
    held.useGlobalFilters(new ZartExceptionFilter(held.get(HttpAdapterHost)));
    await held.init();
    const gate = new Gate();
    gates.set('held', gate);
    await held.get(Zart).startWorkflow(GreetingWorkflow, { runId: 'held', names: ['one', 'two'] }, { id: 'held' });
    await waitFor(() => gate.entered);
    const before = awaitingResults;
    const response = request(httpServer(held))
      .get('/greetings/held/result')
      .then((r) => r);
    await waitFor(() => awaitingResults > before);
    const closed = held.close();
    await delay(100);
    gate.let();
    expect((await response).status).toBe(503);
    await closed;
    // The step in flight finished; the next one was left to the next deployment.
    expect(executions.filter((e) => e === 'greet:held')).toHaveLength(1);
  });

  it('leaves other errors to Nest', async () => {
    const response = await request(httpServer(app)).get('/nowhere');
    expect(response.status).toBe(404);
    expect(response.body).not.toHaveProperty('code');
  });
});

it('refuses a resolve option: instances come from Nest', async () => {
  const zartModule = ZartModule.forRoot({ resolve: () => ({}) } as ZartModuleOptions);
  await expect(compileWith(zartModule)).rejects.toThrow(ConfigurationError);
});
