// Finishes of several runs in one statement (the group commit of finishes): children of one batch,
// single children and runs without a parent together, each fenced on its own lease, and the parents
// waiting for them woken only when what they wait for is done.
import { Client } from 'pg';
import { FinishWriter } from '../../src/storage/finish-writer';
import { finishRuns, type FinishingRun } from '../../src/storage/sql/finish-runs';
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
});

afterAll(async () => {
  await blocker.end();
  await zartDb.close();
});

// A parent parked on `waitingFor`, not due before an hour unless woken.
async function insertParked(id: string, waitingFor: string): Promise<void> {
  await db.sql.query(
    `INSERT INTO zart.runs (id, workflow, status, input, waiting_for, available_at)
     VALUES ($1, 'finish-runs', 'waiting', '{"json":null}', $2, now() + interval '1 hour')`,
    [id, waitingFor],
  );
}

async function insertRunning(id: string, parent?: { id: string; batchKey?: string }): Promise<void> {
  await db.sql.query(
    `INSERT INTO zart.runs (id, workflow, status, input, parent_id, batch_key, lease_owner, lease_epoch, lease_expires_at)
     VALUES ($1, 'finish-runs', 'running', '{"json":null}', $2, $3, 'worker-1', 1, now() + interval '1 minute')`,
    [id, parent?.id ?? null, parent?.batchKey ?? null],
  );
}

const finishing = (id: string, epoch = 1): FinishingRun => ({
  lease: { runId: id, owner: 'worker-1', epoch },
  outcome: { status: 'completed', output: { json: id } },
});

async function woken(id: string): Promise<boolean> {
  const { rows } = await db.sql.query<{ woken: boolean }>(
    'SELECT available_at <= now() AS woken FROM zart.runs WHERE id = $1',
    [id],
  );
  return rows[0]!.woken;
}

async function statusOf(id: string): Promise<string> {
  const { rows } = await db.sql.query<{ status: string }>('SELECT status FROM zart.runs WHERE id = $1', [id]);
  return rows[0]!.status;
}

describe('finishing several runs in one statement', () => {
  it('finishes a lone run without a parent on its own lease only, with its output or its error', async () => {
    for (const id of ['alone-1', 'alone-2', 'alone-3']) await insertRunning(id);
    const alone = (run: FinishingRun): FinishingRun => ({ ...run, parentId: null });
    const stored = async (id: string): Promise<Record<string, unknown>> =>
      (
        await db.sql.query<Record<string, unknown>>(
          'SELECT status, output, error, lease_owner FROM zart.runs WHERE id = $1',
          [id],
        )
      ).rows[0]!;

    // An older epoch, then another worker: neither writes, and each is told so.
    expect((await finishRuns(zartDb, [alone(finishing('alone-1', 0))])).written).toEqual([false]);
    const stranger = { ...finishing('alone-1'), lease: { runId: 'alone-1', owner: 'worker-2', epoch: 1 } };
    expect((await finishRuns(zartDb, [alone(stranger)])).written).toEqual([false]);
    expect(await stored('alone-1')).toMatchObject({ status: 'running', output: null, lease_owner: 'worker-1' });

    expect(await finishRuns(zartDb, [alone(finishing('alone-1'))])).toEqual({ written: [true], lookAgain: [] });
    expect(await stored('alone-1')).toEqual({
      status: 'completed',
      output: { json: 'alone-1' },
      error: null,
      lease_owner: null,
    });
    // Once finished, the same finish again writes nothing (a retry after a lost reply is told lost).
    expect((await finishRuns(zartDb, [alone(finishing('alone-1'))])).written).toEqual([false]);

    const failing: FinishingRun = {
      lease: { runId: 'alone-2', owner: 'worker-1', epoch: 1 },
      outcome: { status: 'failed', error: { json: 'it broke' } },
      parentId: null,
    };
    expect((await finishRuns(zartDb, [failing])).written).toEqual([true]);
    expect(await stored('alone-2')).toMatchObject({ status: 'failed', output: null, error: { json: 'it broke' } });
    expect(await statusOf('alone-3')).toBe('running');
  });

  it('wakes the parent of a batch when its last children finish together', async () => {
    await insertParked('batch-parent', 'children:b1');
    const children = ['batch-parent/c0', 'batch-parent/c1', 'batch-parent/c2'];
    for (const id of children) await insertRunning(id, { id: 'batch-parent', batchKey: 'b1' });

    const { written, lookAgain } = await finishRuns(
      zartDb,
      children.map((id) => finishing(id)),
    );
    expect(written).toEqual([true, true, true]);
    // Nothing of the batch is left to look at again.
    expect(lookAgain).toEqual([]);

    for (const id of children) expect(await statusOf(id)).toBe('completed');
    expect(await woken('batch-parent')).toBe(true);
  });

  it('leaves the parent of a batch parked while a child of it, whose finish here lost its lease, runs on', async () => {
    await insertParked('lost-parent', 'children:b1');
    await insertRunning('lost-parent/c0', { id: 'lost-parent', batchKey: 'b1' });
    await insertRunning('lost-parent/c1', { id: 'lost-parent', batchKey: 'b1' });

    // This execution of c1 holds an older lease (epoch 0): it writes nothing and is told so.
    const { written } = await finishRuns(zartDb, [finishing('lost-parent/c0'), finishing('lost-parent/c1', 0)]);

    expect(written).toEqual([true, false]);
    expect(await statusOf('lost-parent/c1')).toBe('running');
    expect(await woken('lost-parent')).toBe(false);
  });

  it('wakes the parent of a single child, beside a run without a parent and a batch not done', async () => {
    await insertParked('single-parent', 'child:single-parent/c0');
    await insertRunning('single-parent/c0', { id: 'single-parent' });
    await insertParked('busy-parent', 'children:b1');
    await insertRunning('busy-parent/c0', { id: 'busy-parent', batchKey: 'b1' });
    await insertRunning('busy-parent/c1', { id: 'busy-parent', batchKey: 'b1' });
    await insertRunning('alone');

    const { written } = await finishRuns(zartDb, [
      finishing('single-parent/c0'),
      finishing('busy-parent/c0'),
      finishing('alone'),
    ]);

    expect(written).toEqual([true, true, true]);
    expect(await statusOf('alone')).toBe('completed');
    expect(await woken('single-parent')).toBe(true);
    expect(await woken('busy-parent')).toBe(false);
  });

  it('wakes the parent of a batch whose last children finish in statements that run at once', async () => {
    await insertParked('race-parent', 'children:b1');
    await insertRunning('race-parent/c0', { id: 'race-parent', batchKey: 'b1' });
    await insertRunning('race-parent/c1', { id: 'race-parent', batchKey: 'b1' });
    const writer = new FinishWriter(zartDb);
    // c1's finish takes its snapshot (c0 running), then waits for c1's row while c0 finishes in a
    // statement of its own that sees c1 running: neither statement wakes the parent.
    await blocker.query('BEGIN');
    await blocker.query("SELECT 1 FROM zart.runs WHERE id = 'race-parent/c1' FOR UPDATE");
    const c1 = writer.write(finishing('race-parent/c1'));
    await waitFor(async () => {
      const { rows } = await db.sql.query<{ waiting: number }>(
        "SELECT count(*)::int AS waiting FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'",
      );
      return rows[0]!.waiting === 1;
    });
    await expect(writer.write(finishing('race-parent/c0'))).resolves.toBe(true);
    expect(await woken('race-parent')).toBe(false);
    await blocker.query('COMMIT');

    await expect(c1).resolves.toBe(true);
    await writer.settled();
    expect(await woken('race-parent')).toBe(true);
  });
});
