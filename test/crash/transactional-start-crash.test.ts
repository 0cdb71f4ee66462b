// A transactional start whose caller is SIGKILLed before or after COMMIT: the run exists, and runs once, iff committed.
import { RunNotFoundError, type ZartClient } from '../../src';
import { spawnTypeScript, type ChildHandle } from '../support/child-process';
import { useCrashHarness } from '../support/crash-harness';
import { useTestDatabase } from '../support/test-zart';
import { waitFor } from '../support/wait-for';
import { TxStartProbe } from './fixtures/transactional-start.workflow';

const db = useTestDatabase();
const { startWorker, effects } = useCrashHarness(db);

const callers: ChildHandle[] = [];

beforeAll(async () => {
  await db.sql.query('CREATE TABLE orders (id text PRIMARY KEY, pid int)');
});

afterEach(async () => {
  const children = callers.splice(0);
  for (const child of children) child.process.kill('SIGKILL');
  await Promise.all(children.map((child) => child.exited));
});

function spawnCaller(orderId: string, mode: 'hang-before-commit' | 'commit'): ChildHandle {
  const caller = spawnTypeScript('test/crash/fixtures/transactional-start-caller.ts', {
    DATABASE_URL: db.url,
    ORDER_ID: orderId,
    TX_START_MODE: mode,
  });
  callers.push(caller);
  return caller;
}

/** The caller's business-side sessions (its DataSource names them) and their state. */
async function callerSessions(): Promise<string[]> {
  const { rows } = await db.sql.query<{ state: string }>(
    "SELECT state FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'tx-start-caller'",
  );
  return rows.map((row) => row.state);
}

// A probe completed by the worker proves it has claimed meanwhile: a visible run would have been
// claimed by that same claim (same queue, already due).
async function proveWorkerClaims(client: ZartClient, id: string, pid: number): Promise<void> {
  await client.startWorkflow(TxStartProbe, undefined as never, { id });
  expect(await client.getHandle(id).result({ timeout: '30s' })).toBe(pid);
}

describe('startWorkflow({ manager }) in a caller SIGKILLed before its COMMIT', () => {
  it('leaves neither the business row nor the run, and no worker ever executes it', async () => {
    const client = await db.client();
    const worker = await startWorker();
    const pid = worker.process.pid!;
    const caller = spawnCaller('o-1', 'hang-before-commit');
    await caller.waitForLine('STARTED_BEFORE_COMMIT', 60_000);

    // The transaction is open, holding both inserts; nothing outside it sees the run.
    expect(await callerSessions()).toContain('idle in transaction');
    await expect(client.getRun('fulfil-o-1')).rejects.toThrow(RunNotFoundError);
    await proveWorkerClaims(client, 'probe-before-kill', pid);

    caller.process.kill('SIGKILL');
    await caller.exited;
    // The server rolls the transaction back once it sees the connection gone.
    await waitFor(async () => (await callerSessions()).length === 0);
    await proveWorkerClaims(client, 'probe-after-kill', pid);

    expect((await db.sql.query('SELECT * FROM orders')).rows).toEqual([]);
    expect((await db.sql.query("SELECT id FROM zart.runs WHERE id = 'fulfil-o-1'")).rows).toEqual([]);
    await expect(client.getRun('fulfil-o-1')).rejects.toThrow(RunNotFoundError);
    await expect(client.getHandle('fulfil-o-1').result({ timeout: '1s' })).rejects.toThrow(RunNotFoundError);
    expect(await effects()).toEqual([]); // the fulfilment's steps never ran
  }, 60_000);
});

describe('startWorkflow({ manager }) in a caller SIGKILLed right after its COMMIT', () => {
  it('leaves both rows, and the worker woken by the commit executes the run exactly once', async () => {
    const client = await db.client();
    // A 60 s poll: only the NOTIFY committed with the run can wake the worker in time.
    const worker = await startWorker({ ZART_POLL_INTERVAL: '60s' });
    const pid = worker.process.pid!;
    const caller = spawnCaller('o-2', 'commit');
    await caller.waitForLine('COMMITTED', 60_000);
    caller.process.kill('SIGKILL');
    await caller.exited;

    expect(await client.getHandle('fulfil-o-2').result({ timeout: '10s' })).toBe(`shipped o-2 from ${pid}`);
    expect((await db.sql.query('SELECT id, pid FROM orders')).rows).toEqual([{ id: 'o-2', pid: caller.process.pid }]);
    expect(await client.getRun('fulfil-o-2')).toMatchObject({
      workflow: 'tx-start-fulfil',
      status: 'completed',
      attempt: 1,
      input: { orderId: 'o-2' },
    });
    expect(
      (await client.getSteps('fulfil-o-2')).map(({ key, status, attempts }) => ({ key, status, attempts })),
    ).toEqual([
      { key: 'pick#0', status: 'completed', attempts: 1 },
      { key: 'ship#0', status: 'completed', attempts: 1 },
    ]);
    expect(await effects('fulfil-o-2')).toEqual([
      { run_id: 'fulfil-o-2', step: 1, pid },
      { run_id: 'fulfil-o-2', step: 2, pid },
    ]);
  }, 60_000);
});
