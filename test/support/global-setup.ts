// Jest global setup: picks the one PostgreSQL server of this test run and publishes its URL to the
// workers as ZART_TEST_SERVER_URL. Creates no databases: each test file makes its own.
import { resolveTestServer } from '../../src/testing/test-database';

/** Where global-teardown finds the server's stop(); globalSetup and globalTeardown share a realm. */
export const stopTestServerKey = Symbol.for('zart.test.stopTestServer');

export default async function globalSetup(): Promise<void> {
  const server = await resolveTestServer();
  // Workers are forked after global setup, so they inherit this variable.
  process.env.ZART_TEST_SERVER_URL = server.url;
  (globalThis as Record<symbol, unknown>)[stopTestServerKey] = () => server.stop();
  process.stderr.write(`\nzart tests: PostgreSQL from ${server.source}\n`);
}
