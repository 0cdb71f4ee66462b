// Statements that lock several runs lock them in one order (by id), so a worker that finishes a
// child while its lease renewal covers both the child and the parent never deadlocks.
import { Client } from 'pg';
import { cancelRuns } from '../../src/storage/sql/cancel-runs';
import { finishRuns } from '../../src/storage/sql/finish-runs';
import { renewLeases } from '../../src/storage/sql/renew-leases';
import type { ZartDatabase } from '../../src/storage/zart-database';
import { openZartDatabase, useTestDatabase } from '../support/test-zart';
import { waitFor } from '../support/wait-for';

const db = useTestDatabase();
let zartDb: ZartDatabase;
let blocker: Client;

beforeAll(async () => {
  zartDb = await openZartDatabase(db.url, { poolSize: 4 });
  blocker = new Client({ connectionString: db.url });
  // The database is dropped after the file, which terminates this session if it is still open.
  blocker.on('error', () => undefined);
  await blocker.connect();
  // Deadlocks are reported after this long; the default 1 s would only slow a failing test down.
  await db.sql.query(`ALTER DATABASE "${db.url.split('/').pop()!}" SET deadlock_timeout = '200ms'`);
});

afterAll(async () => {
  await blocker.end();
  await zartDb.close();
});

async function insertRunning(id: string, parentId: string | null): Promise<void> {
  await db.sql.query(
    `INSERT INTO zart.runs (id, workflow, status, input, parent_id, lease_owner, lease_epoch, lease_expires_at)
     VALUES ($1, 'lock-order', 'running', '{"json":null}', $2, 'worker-1', 1, now() + interval '1 minute')`,
    [id, parentId],
  );
}

// Holds the lock of `id` in the blocker session until the returned function is called.
async function holdLock(id: string): Promise<() => Promise<void>> {
  await blocker.query('BEGIN');
  await blocker.query('SELECT 1 FROM zart.runs WHERE id = $1 FOR UPDATE', [id]);
  return async () => void (await blocker.query('COMMIT'));
}

async function sessionsWaitingForLocks(): Promise<number> {
  const { rows } = await db.sql.query<{ waiting: number }>(
    "SELECT count(*)::int AS waiting FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'",
  );
  return rows[0]!.waiting;
}

describe('the order in which runs are locked', () => {
  it('lets a child finish while a renewal of the parent and the child waits, without a deadlock', async () => {
    await insertRunning('order-parent', null);
    await insertRunning('order-parent/zart.child#0', 'order-parent');
    const release = await holdLock('order-parent/zart.child#0');

    const finished = finishRuns(zartDb, [
      {
        lease: { runId: 'order-parent/zart.child#0', owner: 'worker-1', epoch: 1 },
        outcome: { status: 'completed', output: { json: 1 } },
      },
    ]);
    await waitFor(async () => (await sessionsWaitingForLocks()) === 1);
    const held = [
      { id: 'order-parent', epoch: 1 },
      { id: 'order-parent/zart.child#0', epoch: 1 },
    ];
    const renewed = renewLeases(zartDb, 'worker-1', held, 60_000);
    await waitFor(async () => (await sessionsWaitingForLocks()) === 2);
    await release();

    expect((await finished).written).toEqual([true]);
    // The child finished before the renewal locked it: only the parent's lease is renewed.
    expect([...(await renewed)]).toEqual(['1:order-parent']);
  });

  it('lets a child be cancelled while a renewal of the parent and the child waits, without a deadlock', async () => {
    await insertRunning('cancel-parent', null);
    await insertRunning('cancel-parent/zart.child#0', 'cancel-parent');
    const release = await holdLock('cancel-parent/zart.child#0');

    const cancelled = cancelRuns(zartDb, 'cancel-parent/zart.child#0');
    await waitFor(async () => (await sessionsWaitingForLocks()) === 1);
    const held = [
      { id: 'cancel-parent', epoch: 1 },
      { id: 'cancel-parent/zart.child#0', epoch: 1 },
    ];
    const renewed = renewLeases(zartDb, 'worker-1', held, 60_000);
    await waitFor(async () => (await sessionsWaitingForLocks()) === 2);
    await release();

    // The status reported is the one the run had when cancel() came.
    await expect(cancelled).resolves.toEqual({ status: 'running', cancelled: 1, workflows: ['lock-order'] });
    expect([...(await renewed)]).toEqual(['1:cancel-parent']);
  });
});
