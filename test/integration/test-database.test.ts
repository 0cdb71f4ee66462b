// createTestDatabase gives each test file its own database on the run's server (ZART_TEST_SERVER_URL
// from global setup), so parallel jest workers never see each other's tables.
import { Client } from 'pg';
import { ConfigurationError } from '../../src/errors';
import { createTestDatabase, type TestDatabase } from '../../src/testing/test-database';

const created: TestDatabase[] = [];

afterAll(async () => {
  await Promise.all(created.map((database) => database.drop()));
});

async function withClient<T>(url: string, use: (client: Client) => Promise<T>): Promise<T> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    return await use(client);
  } finally {
    await client.end();
  }
}

async function databaseExists(name: string): Promise<boolean> {
  const serverUrl = process.env.ZART_TEST_SERVER_URL!;
  return withClient(serverUrl, async (client) => {
    const result = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    return result.rowCount === 1;
  });
}

test('two databases created in parallel are distinct, usable and isolated', async () => {
  const [a, b] = await Promise.all([createTestDatabase(), createTestDatabase()]);
  created.push(a, b);

  expect(a.name).toMatch(/^zart_test_[0-9a-f]{16}$/);
  expect(b.name).not.toBe(a.name);
  expect(new URL(a.url).pathname).toBe(`/${a.name}`);

  await withClient(a.url, async (client) => {
    const result = await client.query<{ db: string }>('SELECT current_database() AS db');
    expect(result.rows[0]?.db).toBe(a.name);
    await client.query('CREATE TABLE only_in_a (id int)');
  });
  await withClient(b.url, async (client) => {
    const result = await client.query<{ db: string; found: string | null }>(
      "SELECT current_database() AS db, to_regclass('only_in_a')::text AS found",
    );
    expect(result.rows[0]).toEqual({ db: b.name, found: null });
  });
});

test('drop() removes the database even while a session is still connected', async () => {
  const database = await createTestDatabase();
  const lingering = new Client({ connectionString: database.url });
  lingering.on('error', () => undefined); // it is terminated on purpose
  await lingering.connect();
  expect(await databaseExists(database.name)).toBe(true);

  await database.drop();
  await database.drop(); // a second call is harmless

  expect(await databaseExists(database.name)).toBe(false);
  await lingering.end().catch(() => undefined);
});

test('explains what to do when no server is configured', async () => {
  const saved = { test: process.env.ZART_TEST_SERVER_URL, database: process.env.DATABASE_URL };
  delete process.env.ZART_TEST_SERVER_URL;
  delete process.env.DATABASE_URL;
  try {
    const attempt = createTestDatabase();
    await expect(attempt).rejects.toThrow(ConfigurationError);
    await expect(attempt).rejects.toThrow(/global-setup|DATABASE_URL/);
  } finally {
    if (saved.test !== undefined) process.env.ZART_TEST_SERVER_URL = saved.test;
    if (saved.database !== undefined) process.env.DATABASE_URL = saved.database;
  }
});
