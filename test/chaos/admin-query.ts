// The chaos driver's own statements (setup, fault injection, checks): each on a fresh connection,
// retried for up to a minute, because the server may have restarted or terminated the last one.
import { setTimeout as delay } from 'node:timers/promises';
import { Client } from 'pg';

/** application_name of the driver's connections: the pg_terminate_backend fault spares them. */
export const driverApplicationName = 'chaos-driver';

/** Runs `operation` until it succeeds, pausing 200 ms between tries, for up to `timeoutMs`. */
export async function retry<T>(what: string, operation: () => Promise<T>, timeoutMs = 60_000): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await operation();
    } catch (error) {
      if (Date.now() > until) throw new Error(`${what}: ${String(error)}`);
      await delay(200);
    }
  }
}

/** One statement on a fresh connection (the server may have restarted since the last one). */
export async function adminQuery(
  url: string,
  sql: string,
  values: unknown[] = [],
): Promise<Array<Record<string, unknown>>> {
  return retry(sql.split('\n')[0]!, async () => {
    const client = new Client({ connectionString: url, application_name: driverApplicationName });
    client.on('error', () => undefined);
    await client.connect();
    try {
      return (await client.query(sql, values)).rows as Array<Record<string, unknown>>;
    } finally {
      await client.end().catch(() => undefined);
    }
  });
}
