// Keeps a driver error from killing the process. pg-pool takes its own 'error' listener off a client
// when it hands the client over, and a taker that awaits a promise (TypeORM's query runners,
// `await pool.connect()`) attaches its listener a microtask later. When the hand-over happens while
// the client's own socket read is being parsed (the end of its connection handshake, or of its
// previous query) and the same read also holds PostgreSQL's FATAL "terminating connection" (a
// pg_terminate_backend, a server shutdown), pg emits 'error' with no listener in between, and
// Node throws it: an uncaught exception. Found by the chaos suite.
import type { Pool, PoolClient } from 'pg';

const guardedPools = new WeakSet<Pool>();
const guardedClients = new WeakSet<PoolClient>();

// Not swallowed: the client is unusable afterwards, so its holder's next statement fails with a
// connection error (retried like any other), and pg-pool discards the client when it comes back.
const keepGoing = (): void => undefined;

/** Gives every client of `pool` an 'error' listener for its whole life; idempotent. */
export function guardPoolClients(pool: Pool): void {
  if (guardedPools.has(pool)) return;
  guardedPools.add(pool);
  // 'acquire' comes before pg-pool removes its idle listener, for new and reused clients alike.
  pool.on('acquire', (client: PoolClient) => {
    if (guardedClients.has(client)) return;
    guardedClients.add(client);
    client.on('error', keepGoing);
  });
}
