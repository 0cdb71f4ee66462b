import { DataSource } from 'typeorm';
import { Workflow, Zart, ZartClient, ConfigurationError, step } from '../../src';
import { zartEntities } from '../../src/storage/entities';
import { useTestDatabase } from '../support/test-zart';
import { silentLogger } from '../support/silent-logger';

const db = useTestDatabase();

@Workflow({ name: 'migrations-echo' })
class Echo {
  async run(input: { text: string }): Promise<string> {
    return step('echo', () => input.text);
  }
}

describe('migrations', () => {
  it('let ten instances start at once on an empty database', async () => {
    const instances = Array.from(
      { length: 10 },
      () => new ZartClient({ connectionString: db.url, schema: 'zart_race', logger: silentLogger }),
    );
    try {
      await Promise.all(instances.map((zart) => zart.start()));
    } finally {
      await Promise.all(instances.map((zart) => zart.shutdown()));
    }
    const { rows } = await db.sql.query('SELECT name FROM zart_race.migrations');
    expect(rows.map((r: { name: string }) => r.name)).toEqual([
      'CreateCoreTables1764000000000',
      'StepArgumentsAndClaimOrder1764100000000',
      'CrashRecoveries1764200000000',
      'Queues1764300000000',
      'Schedules1764400000000',
      'CallOrderAndVersions1764500000000',
      'CompletionOrder1764600000000',
      'ChildBatches1764630000000',
      'CheckpointsWithoutForeignKey1764700000000',
    ]);
    const tables = await db.sql.query(
      "SELECT table_name FROM information_schema.tables WHERE table_schema = 'zart_race' ORDER BY table_name",
    );
    expect(tables.rows.map((r: { table_name: string }) => r.table_name)).toEqual([
      'events',
      'migrations',
      'queue_starts',
      'runs',
      'schedules',
      'steps',
      'workers',
    ]);
  });

  it('create exactly what the entities describe (no drift)', async () => {
    const client = await db.client({ schema: 'zart_drift' });
    await client.shutdown();
    const dataSource = new DataSource({ type: 'postgres', url: db.url, schema: 'zart_drift', entities: zartEntities });
    await dataSource.initialize();
    try {
      const pending = await dataSource.driver.createSchemaBuilder().log();
      expect(pending.upQueries.map((q) => q.query)).toEqual([]);
    } finally {
      await dataSource.destroy();
    }
  });

  it('are skipped with migrate: false, and then the schema must exist', async () => {
    const zart = new ZartClient({
      connectionString: db.url,
      schema: 'zart_never_migrated',
      migrate: false,
      logger: silentLogger,
    });
    await zart.start();
    try {
      await expect(zart.listRuns()).rejects.toThrow(/zart_never_migrated/);
    } finally {
      await zart.shutdown();
    }
  });

  it("work through an application's own TypeORM DataSource", async () => {
    const appDataSource = new DataSource({ type: 'postgres', url: db.url, entities: [] });
    await appDataSource.initialize();
    const zart = new Zart({
      dataSource: appDataSource,
      schema: 'zart_app',
      logger: silentLogger,
      worker: { pollInterval: '50ms' },
    });
    try {
      await zart.start();
      const handle = await zart.startWorkflow(Echo, { text: 'through the app DataSource' });
      expect(await handle.result()).toBe('through the app DataSource');
      // The application's DataSource is untouched and still usable.
      expect(appDataSource.isInitialized).toBe(true);
      expect(await appDataSource.query('SELECT count(*)::int AS n FROM zart_app.runs')).toEqual([{ n: 1 }]);
    } finally {
      await zart.shutdown();
      await appDataSource.destroy();
    }
  });

  it("take only the connection from an application's DataSource, never its dropSchema or synchronize", async () => {
    const appDataSource = new DataSource({
      type: 'postgres',
      url: db.url,
      entities: [],
      dropSchema: true,
      synchronize: true,
    });
    for (const id of ['kept-1', 'kept-2']) {
      const zart = new Zart({ dataSource: appDataSource, schema: 'zart_app_options', logger: silentLogger });
      await zart.start();
      try {
        await (await zart.startWorkflow(Echo, { text: id }, { id })).result();
      } finally {
        await zart.shutdown();
      }
    }
    const { rows } = await db.sql.query('SELECT id FROM zart_app_options.runs ORDER BY id');
    expect(rows.map((r: { id: string }) => r.id)).toEqual(['kept-1', 'kept-2']);
  });

  it('reject bad options with every problem at once', () => {
    const error = (() => {
      try {
        return new Zart({
          connectionString: db.url,
          schema: 'Bad-Schema',
          worker: { lease: 'soon' as never, concurrency: 0 },
          extra: 1,
        } as never);
      } catch (e) {
        return e;
      }
    })() as ConfigurationError;
    expect(error).toBeInstanceOf(ConfigurationError);
    expect(error.message).toContain('Unknown option "extra"');
    expect(error.message).toContain('schema must be a lower-case SQL identifier');
    expect(error.message).toContain('worker.lease must be');
    expect(error.message).toContain('worker.concurrency must be a positive integer');
  });
});
