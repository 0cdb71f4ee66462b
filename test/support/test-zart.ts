// Per test file: a fresh database on the run's PostgreSQL server, and Zart instances on it that
// are shut down after the file, so files run in parallel without sharing data.
import { Zart, ZartClient, type ZartOptions } from '../../src';
import { createTestDatabase, type TestDatabase } from '../../src/testing';
import { silentLogger } from './silent-logger';

export interface TestContext {
  /** The file's database URL. */
  readonly url: string;
  /** A started Zart on the file's database; shut down after the file. */
  zart(options?: ZartOptions): Promise<Zart>;
  /** A started ZartClient (no worker) on the file's database. */
  client(options?: ZartOptions): Promise<ZartClient>;
}

/** Call at the top of a test file: registers beforeAll/afterAll hooks. */
export function useTestDatabase(): TestContext {
  let database: TestDatabase | undefined;
  const started: ZartClient[] = [];
  beforeAll(async () => {
    database = await createTestDatabase();
  });
  afterAll(async () => {
    await Promise.all(started.map((z) => (z instanceof Zart ? z.shutdown({ drain: 0 }) : z.shutdown())));
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
