// start() while PostgreSQL restarts: a server that refuses connections or drops one during the
// migration is waited for (up to connectTimeout), so a process started beside a database restart
// comes up instead of crashing; past the window it fails with ConfigurationError.
import { setTimeout as delay } from 'node:timers/promises';
import { Client } from 'pg';
import { ConfigurationError, Workflow, Zart, step } from '../../src';
import { startScratchPostgres } from '../support/scratch-postgres';
import { logged, silentLogger } from '../support/silent-logger';
import { createTestDatabase } from '../../src/testing';
import { waitFor } from '../support/wait-for';

@Workflow({ name: 'restart-echo' })
class Echo {
  async run(input: { text: string }): Promise<string> {
    return step('echo', () => input.text);
  }
}

const retriesLogged = (): number => logged.filter((l) => l.message.startsWith('PostgreSQL is not available')).length;

describe('start() during a PostgreSQL restart', () => {
  it('waits for a server that is down for a moment, then runs workflows', async () => {
    const server = await startScratchPostgres();
    const zart = new Zart({ connectionString: server.url, logger: silentLogger, worker: { pollInterval: '50ms' } });
    try {
      const before = retriesLogged();
      const restarting = server.restart(1_500);
      await delay(100); // the server is shutting down or gone
      await zart.start();
      await restarting;
      expect(retriesLogged()).toBeGreaterThan(before);
      const handle = await zart.startWorkflow(Echo, { text: 'back' });
      expect(await handle.result({ timeout: '20s' })).toBe('back');
    } finally {
      await zart.shutdown({ drain: 0 });
      await server.stop();
    }
  });

  it('starts again when its connection is terminated during the migration', async () => {
    // Another process holds the migration lock, so start() waits inside migrate(); its connection
    // is then terminated there, as a restart would.
    const fresh = await createTestDatabase();
    const admin = new Client({ connectionString: fresh.url });
    await admin.connect();
    const zart = new Zart({ connectionString: fresh.url, logger: silentLogger, worker: { pollInterval: '50ms' } });
    try {
      await admin.query("SELECT pg_advisory_lock(hashtext('zart.migrate:zart'))");
      const starting = zart.start();
      const waitingBackend = async (): Promise<number | undefined> => {
        const { rows } = await admin.query<{ pid: number }>(
          `SELECT pid FROM pg_stat_activity
WHERE datname = current_database() AND wait_event = 'advisory' AND pid <> pg_backend_pid()`,
        );
        return rows[0]?.pid;
      };
      await waitFor(async () => (await waitingBackend()) !== undefined, 10_000);
      await admin.query('SELECT pg_terminate_backend($1)', [await waitingBackend()]);
      await admin.query("SELECT pg_advisory_unlock(hashtext('zart.migrate:zart'))");
      await starting;
      const { rows } = await admin.query<{ count: number }>('SELECT count(*)::int AS count FROM zart.migrations');
      expect(rows[0]!.count).toBeGreaterThanOrEqual(3);
      const handle = await zart.startWorkflow(Echo, { text: 'migrated' });
      expect(await handle.result({ timeout: '20s' })).toBe('migrated');
    } finally {
      await zart.shutdown({ drain: 0 });
      await admin.end();
      await fresh.drop();
    }
  });

  it('fails with ConfigurationError naming connectTimeout when the server stays away', async () => {
    const server = await startScratchPostgres();
    const url = server.url;
    await server.stop();
    const zart = new Zart({ connectionString: url, connectTimeout: '700ms', logger: silentLogger });
    const failure = await zart.start().then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(failure).toBeInstanceOf(ConfigurationError);
    expect((failure as Error).message).toMatch(/could not connect to PostgreSQL at 127\.0\.0\.1:\d+/);
    await zart.shutdown({ drain: 0 });
  });
});
