// A connection terminated by PostgreSQL in the same socket read as its hand-over to a
// promise-based taker (pg-pool's gap; see storage/guard-pool-clients.ts) fails that taker's
// statement with a connection error, which zart retries; it must not kill the process, as it did
// three times in 120 chaos iterations.
import { spawnTypeScript } from '../support/child-process';
import { useTestDatabase } from '../support/test-zart';

const db = useTestDatabase();

describe('a connection terminated at its hand-over', () => {
  it('fails only the statement that had it, and the process goes on', async () => {
    await db.client(); // the file's database, migrated
    const child = spawnTypeScript('test/crash/fixtures/terminated-at-handover.ts', { DATABASE_URL: db.url });
    const status = await child.exited;
    expect(child.stderr()).not.toMatch(/terminating connection due to administrator command\n\s+at /);
    expect(status).toBe(0);
    const output = child.stdout();
    // One transaction ran on the idle client, the other got the terminated one.
    expect(output).toMatch(/^TRANSACTIONS (ok; failed: .+|failed: .+; ok)$/m);
    expect(output).toMatch(/not queryable|Connection terminated|terminating connection/);
  });
});
