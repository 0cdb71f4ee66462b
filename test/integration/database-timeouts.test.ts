// Zart's pool is bounded in time: a server that accepts TCP but never answers fails start() after
// connectTimeout, a statement stuck on a lock is cancelled after statementTimeout, and migrating
// (which may wait for another process's migration) is exempt.
import { createServer, type Server, type Socket } from 'node:net';
import { DataSource } from 'typeorm';
import { ConfigurationError, DatabaseTimeoutError, Workflow, Zart, step, waitForEvent } from '../../src';
import { silentLogger } from '../support/silent-logger';
import { useTestDatabase } from '../support/test-zart';
import { waitFor } from '../support/wait-for';

const db = useTestDatabase();

@Workflow({ name: 'timeouts-waits' })
class Waits {
  async run(): Promise<string> {
    await waitForEvent('go');
    return step('done', () => 'done');
  }
}

/** A server that accepts connections and never writes a byte. */
async function silentServer(): Promise<{ port: number; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as { port: number }).port,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

async function timed<T>(promise: Promise<T>): Promise<{ ms: number; error: unknown }> {
  const started = Date.now();
  try {
    await promise;
    return { ms: Date.now() - started, error: undefined };
  } catch (error) {
    return { ms: Date.now() - started, error };
  }
}

describe('database timeouts', () => {
  it('start() against a server that never answers fails after connectTimeout, naming the host and the option', async () => {
    const server = await silentServer();
    const zart = new Zart({
      connectionString: `postgres://postgres@127.0.0.1:${server.port}/postgres`,
      connectTimeout: '300ms',
      logger: silentLogger,
    });
    try {
      const { ms, error } = await timed(zart.start());
      expect(error).toBeInstanceOf(ConfigurationError);
      expect((error as Error).message).toMatch(
        new RegExp(
          `at 127\\.0\\.0\\.1:${server.port} within connectTimeout \\(300 ms\\).*raise the connectTimeout option\\.$`,
        ),
      );
      expect(ms).toBeLessThan(5_000);
    } finally {
      await zart.shutdown({ drain: 0 });
      await server.close();
    }
  });

  it('start() with an application DataSource on a server that never answers fails after connectTimeout too', async () => {
    const server = await silentServer();
    const dataSource = new DataSource({ type: 'postgres', host: '127.0.0.1', port: server.port, username: 'postgres' });
    const zart = new Zart({ dataSource, connectTimeout: '300ms', logger: silentLogger });
    try {
      const { ms, error } = await timed(zart.start());
      expect(error).toBeInstanceOf(ConfigurationError);
      expect((error as Error).message).toMatch(`at 127.0.0.1:${server.port} within connectTimeout (300 ms)`);
      expect(ms).toBeLessThan(5_000);
    } finally {
      await zart.shutdown({ drain: 0 });
      await server.close();
    }
  });

  it('a statement stuck on a lock is cancelled after statementTimeout, and the instance keeps working', async () => {
    const zart = await db.zart({ statementTimeout: '300ms' });
    const run = await zart.startWorkflow(Waits, undefined as never, { id: 'locked-run' });
    // Parked first: the lock below must block cancel(), not the worker recording the wait.
    await waitFor(async () => (await run.status()) === 'waiting');
    await db.sql.query('BEGIN');
    try {
      await db.sql.query('SELECT 1 FROM zart.runs WHERE id = $1 FOR UPDATE', [run.id]);
      const { ms, error } = await timed(zart.cancel(run.id));
      expect(error).toBeInstanceOf(DatabaseTimeoutError);
      expect(error).toMatchObject({ code: 'ZART_DATABASE_TIMEOUT', timeoutMs: 300 });
      expect((error as Error).message).toMatch(
        /after statementTimeout \(300 ms\).*raise the statementTimeout option\.$/,
      );
      expect(ms).toBeLessThan(5_000);
    } finally {
      await db.sql.query('ROLLBACK');
    }
    await zart.sendEvent(run.id, 'go');
    expect(await run.result({ timeout: '20s' })).toBe('done');
  });

  it('migrating waits for another migration longer than statementTimeout', async () => {
    const schema = 'zart_slow_migration';
    await db.sql.query('SELECT pg_advisory_lock(hashtext($1))', [`zart.migrate:${schema}`]);
    const zart = new Zart({ connectionString: db.url, schema, statementTimeout: '200ms', logger: silentLogger });
    try {
      const starting = zart.start();
      await new Promise((resolve) => setTimeout(resolve, 600));
      await db.sql.query('SELECT pg_advisory_unlock(hashtext($1))', [`zart.migrate:${schema}`]);
      await starting;
      const { rows } = await db.sql.query<{ count: number }>(`SELECT count(*)::int AS count FROM ${schema}.migrations`);
      expect(rows[0]!.count).toBeGreaterThan(0);
    } finally {
      await zart.shutdown({ drain: 0 });
    }
  });

  it("Zart's connections are named 'zart-worker' also when built from a DataSource without an application name", async () => {
    const dataSource = new DataSource({ type: 'postgres', url: db.url });
    const zart = new Zart({ dataSource, schema: 'zart_from_data_source', logger: silentLogger });
    await zart.start();
    try {
      const { rows } = await db.sql.query<{ count: number }>(
        "SELECT count(*)::int AS count FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'zart-worker'",
      );
      expect(rows[0]!.count).toBeGreaterThan(0);
    } finally {
      await zart.shutdown({ drain: 0 });
    }
  });
});
