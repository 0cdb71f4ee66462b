// Test isolation on real PostgreSQL: one server per test run (DATABASE_URL, a container or embedded)
// and a fresh, uniquely named database per test file. Never reuses or cleans another run's database.
import { randomBytes } from 'node:crypto';
import { setTimeout as delay } from 'node:timers/promises';
import { Client } from 'pg';
import { startEmbeddedPostgres } from '../embedded/embedded-postgres-server';
import { ConfigurationError } from '../errors';

/** The PostgreSQL server a test run uses. */
export interface TestServer {
  /** URL of a database on the server that may create databases (usually `postgres`). */
  url: string;
  source: 'env' | 'testcontainers' | 'embedded';
  /** Stops a container or embedded server; a no-op for `env`. */
  stop(): Promise<void>;
}

/** A database only the calling test file uses. */
export interface TestDatabase {
  url: string;
  name: string;
  /** Ends its remaining sessions and drops it. Calling it again does nothing. */
  drop(): Promise<void>;
}

/** Options of `createTestDatabase`. */
export interface CreateTestDatabaseOptions {
  /** Server to create the database on. Default `ZART_TEST_SERVER_URL`, else `DATABASE_URL`. */
  serverUrl?: string | undefined;
}

const postgresImage = 'postgres:17-alpine';
// getContainerRuntimeClient() fails in milliseconds without a socket; a DOCKER_HOST that does
// not answer must not stall every test run.
const runtimeProbeTimeoutMs = 3_000;

/** `DATABASE_URL` if set, else a PostgreSQL container if a container runtime answers, else embedded PostgreSQL. */
export async function resolveTestServer(): Promise<TestServer> {
  const fromEnv = process.env.DATABASE_URL?.trim();
  if (fromEnv) return { url: fromEnv, source: 'env', stop: () => Promise.resolve() };

  const container = await startContainer();
  if (container) return container;

  const server = await startEmbeddedPostgres();
  return { url: server.url, source: 'embedded', stop: () => server.stop() };
}

async function startContainer(): Promise<TestServer | undefined> {
  // Loaded lazily: testcontainers is a dev dependency and takes ~0.5 s to load.
  const giveUp = new AbortController();
  try {
    const { getContainerRuntimeClient } = await import('testcontainers');
    const timedOut = delay(runtimeProbeTimeoutMs, undefined, { signal: giveUp.signal }).then(() => {
      throw new Error('no answer');
    });
    await Promise.race([getContainerRuntimeClient(), timedOut]);
  } catch {
    return undefined; // not installed, or no container runtime: embedded PostgreSQL it is
  } finally {
    giveUp.abort();
  }
  try {
    const { PostgreSqlContainer } = await import('@testcontainers/postgresql');
    const container = await new PostgreSqlContainer(postgresImage).withDatabase('postgres').start();
    return {
      url: container.getConnectionUri(),
      source: 'testcontainers',
      stop: async () => {
        await container.stop();
      },
    };
  } catch (error) {
    // A runtime that cannot pull or run the image (offline, rootless quirks) should not fail the run.
    process.stderr.write(
      `zart: a container runtime answered but ${postgresImage} did not start ` +
        `(${error instanceof Error ? error.message : String(error)}); using embedded PostgreSQL instead.\n`,
    );
    return undefined;
  }
}

/** Creates an empty database named `zart_test_<random>` on the test server and returns its URL. */
export async function createTestDatabase(options: CreateTestDatabaseOptions = {}): Promise<TestDatabase> {
  const serverUrl = options.serverUrl ?? (process.env.ZART_TEST_SERVER_URL || process.env.DATABASE_URL);
  if (!serverUrl) {
    throw new ConfigurationError(
      "createTestDatabase() does not know which PostgreSQL server to use. Run the tests with jest's globalSetup " +
        '"test/support/global-setup.ts" (it sets ZART_TEST_SERVER_URL), pass { serverUrl }, or set DATABASE_URL.',
    );
  }

  const client = await connect(serverUrl);
  let name: string;
  try {
    name = await createUniqueDatabase(client);
  } finally {
    await client.end().catch(() => undefined);
  }

  let dropping: Promise<void> | undefined;
  return {
    url: withDatabase(serverUrl, name),
    name,
    drop: () => (dropping ??= dropDatabase(serverUrl, name)),
  };
}

// 64 random bits: parallel jest workers (and parallel runs on one server) never pick the same
// name in practice; 42P04 duplicate_database covers the rest.
async function createUniqueDatabase(client: Client): Promise<string> {
  for (let attempt = 1; ; attempt++) {
    const name = `zart_test_${randomBytes(8).toString('hex')}`;
    try {
      await client.query(`CREATE DATABASE ${client.escapeIdentifier(name)}`);
      return name;
    } catch (error) {
      if (errorCode(error) !== '42P04' || attempt >= 3) throw error;
    }
  }
}

async function dropDatabase(serverUrl: string, name: string): Promise<void> {
  const client = await connect(serverUrl);
  try {
    // pg_terminate_backend only signals: a session may linger a moment, so DROP retries on
    // 55006 object_in_use (and ends any session that connected in between).
    for (let attempt = 1; ; attempt++) {
      await client.query(
        'SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()',
        [name],
      );
      try {
        await client.query(`DROP DATABASE IF EXISTS ${client.escapeIdentifier(name)}`);
        return;
      } catch (error) {
        if (errorCode(error) !== '55006' || attempt >= 50) throw error;
        await delay(100);
      }
    }
  } finally {
    await client.end().catch(() => undefined);
  }
}

async function connect(serverUrl: string): Promise<Client> {
  const client = new Client({ connectionString: serverUrl, connectionTimeoutMillis: 10_000 });
  client.on('error', () => undefined);
  try {
    await client.connect();
    return client;
  } catch (error) {
    await client.end().catch(() => undefined);
    throw new ConfigurationError(
      `Cannot connect to the test PostgreSQL server at ${redact(serverUrl)}: ` +
        `${error instanceof Error ? error.message : String(error)}. Check that it is running and the URL is right.`,
      { cause: error },
    );
  }
}

function withDatabase(url: string, database: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${database}`;
  return parsed.toString();
}

function redact(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return '(unparseable URL)';
  }
}

function errorCode(error: unknown): unknown {
  return typeof error === 'object' && error !== null ? (error as { code?: unknown }).code : undefined;
}
