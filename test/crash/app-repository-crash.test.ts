import { spawnTypeScript, type ChildHandle } from '../support/child-process';
import { useTestDatabase } from '../support/test-zart';
import { AppRepositoryLedger } from './fixtures/app-repository.workflow';

const db = useTestDatabase();
const spawned: ChildHandle[] = [];
const spawnWorker = (env: Record<string, string> = {}): ChildHandle => {
  const child = spawnTypeScript('test/crash/fixtures/app-repository-worker.ts', { DATABASE_URL: db.url, ...env });
  spawned.push(child);
  return child;
};

afterEach(async () => {
  const children = spawned.splice(0);
  for (const child of children) child.process.kill('SIGKILL');
  await Promise.all(children.map((child) => child.exited));
});

describe('a worker SIGKILLed inside a transactional step that wrote through the app’s own repository', () => {
  it('leaves the write absent with its checkpoint; the rerun writes it once', async () => {
    await db.sql.query('CREATE TABLE app_ledger (id serial PRIMARY KEY, run_id text NOT NULL, pid int NOT NULL)');
    const client = await db.client();
    const doomed = spawnWorker({ ZART_HANG_AT_STEP: 'tx' });
    // ts-node compiles the fixtures on start: slow on a loaded two-core machine.
    await doomed.waitForLine('READY', 90_000);
    await client.startWorkflow(AppRepositoryLedger, { runId: 'app-crash' }, { id: 'app-crash' });
    await doomed.waitForLine('IN_TX', 20_000);
    doomed.process.kill('SIGKILL');
    await doomed.exited;
    // The injected repository's write was in the step's transaction: it died with the connection.
    expect((await db.sql.query('SELECT count(*)::int AS n FROM app_ledger')).rows[0].n).toBe(0);
    expect(await client.getSteps('app-crash')).toEqual([]);

    const next = spawnWorker();
    expect(await client.getHandle('app-crash').result({ timeout: '60s' })).toBe(next.process.pid);
    const { rows } = await db.sql.query('SELECT run_id, pid FROM app_ledger');
    expect(rows).toEqual([{ run_id: 'app-crash', pid: next.process.pid }]);
  }, 150_000);
});
