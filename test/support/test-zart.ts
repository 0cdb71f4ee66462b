// Per test file: a fresh database on the run's PostgreSQL server, and Zart instances on it that
// are shut down after the file, so files run in parallel without sharing data.
import { Client } from 'pg';
import { Zart, ZartClient, type ZartOptions } from '../../src';
import { createTestDatabase, type TestDatabase } from '../../src/testing';
import { ZartDatabase } from '../../src/storage/zart-database';
import { silentLogger } from './silent-logger';

export interface TestContext {
  /** The file's database URL. */
  readonly url: string;
  /** A pg client connected to the file's database, for assertions on the tables; closed after the file. */
  readonly sql: Client;
  /** A started Zart on the file's database; shut down after the file. */
  zart(options?: ZartOptions): Promise<Zart>;
  /** A started ZartClient (no worker) on the file's database. */
  client(options?: ZartOptions): Promise<ZartClient>;
}

/** Call at the top of a test file: registers beforeAll/afterAll hooks. */
export function useTestDatabase(): TestContext {
  let database: TestDatabase | undefined;
  let sql: Client | undefined;
  let sqlError: Error | undefined;
  const started: ZartClient[] = [];
  beforeAll(async () => {
    database = await createTestDatabase();
    sql = new Client({ connectionString: database.url });
    // A test may terminate every backend of its database (connection-fault tests): the client is
    // then broken, and the next use of db.sql throws that error instead of crashing the file.
    sql.on('error', (error) => (sqlError = error));
    await sql.connect();
  });
  afterAll(async () => {
    await Promise.all(started.map((z) => (z instanceof Zart ? z.shutdown({ drain: 0 }) : z.shutdown())));
    await sql?.end().catch((error: unknown) => {
      if (!sqlError) throw error;
    });
    await database?.drop();
  });
  const url = (): string => {
    if (!database) throw new Error('useTestDatabase(): the database is created in beforeAll');
    return database.url;
  };
  return {
    get url() {
      return url();
    },
    get sql() {
      if (!sql) throw new Error('useTestDatabase(): the client is connected in beforeAll');
      if (sqlError) throw sqlError;
      return sql;
    },
    async zart(options = {}) {
      const zart = new Zart({
        connectionString: url(),
        logger: silentLogger,
        worker: { pollInterval: '50ms', ...(options.worker || {}) },
        ...withoutWorker(options),
      });
      started.push(zart);
      await zart.start();
      return zart;
    },
    async client(options = {}) {
      const client = new ZartClient({ connectionString: url(), logger: silentLogger, ...options });
      started.push(client);
      await client.start();
      return client;
    },
  };
}

function withoutWorker(options: ZartOptions): ZartOptions {
  const { worker: _worker, ...rest } = options;
  return rest;
}

/**
 * zart's storage layer alone on the file's database (schema "zart"), for tests that call its
 * statements directly; migrated unless told not to. The caller closes it.
 */
export async function openZartDatabase(
  url: string,
  { poolSize, migrate = true }: { poolSize: number; migrate?: boolean },
): Promise<ZartDatabase> {
  const db = await ZartDatabase.open(
    { kind: 'url', url, poolSize, connectTimeoutMs: 10_000, statementTimeoutMs: 30_000 },
    'zart',
  );
  if (migrate) await db.migrate();
  return db;
}
