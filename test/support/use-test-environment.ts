// Per test file: a test environment (zart/testing) on a fresh database, and a pg client on that
// database for assertions on the tables; both closed after the file.
import { Client } from 'pg';
import { createTestEnvironment, type TestEnvironment } from '../../src/testing';
import { silentLogger } from './silent-logger';

export interface TestEnvironmentContext {
  /** The file's environment; created in beforeAll. */
  readonly env: TestEnvironment;
  /** A pg client connected to the environment's database. */
  readonly sql: Client;
}

/** Call at the top of a test file: registers beforeAll/afterAll hooks. */
export function useTestEnvironment(): TestEnvironmentContext {
  let env: TestEnvironment | undefined;
  let sql: Client | undefined;
  beforeAll(async () => {
    env = await createTestEnvironment({ logger: silentLogger });
    sql = new Client({ connectionString: env.databaseUrl });
    await sql.connect();
  });
  afterAll(async () => {
    await sql?.end();
    await env?.close();
  });
  return {
    get env() {
      if (!env) throw new Error('useTestEnvironment(): the environment is created in beforeAll');
      return env;
    },
    get sql() {
      if (!sql) throw new Error('useTestEnvironment(): the client is connected in beforeAll');
      return sql;
    },
  };
}
