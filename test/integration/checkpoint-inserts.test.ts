// A call's first checkpoint is a plain fenced INSERT; a row of the call already stored (open
// between retry attempts, or final because a write was retried after its reply was lost) is met by
// the upsert instead, alone or in a batch, so no outcome is lost or written twice.
import { LeaseLostError } from '../../src/errors';
import { insertCheckpoint, type LeasedCheckpoint } from '../../src/storage/sql/insert-checkpoint';
import { insertCheckpoints } from '../../src/storage/sql/insert-checkpoints';
import type { ZartDatabase } from '../../src/storage/zart-database';
import { openZartDatabase, useTestDatabase } from '../support/test-zart';

const db = useTestDatabase();
let zartDb: ZartDatabase;

beforeAll(async () => {
  zartDb = await openZartDatabase(db.url, { poolSize: 2 });
  for (const id of ['one', 'batch-a', 'batch-b', 'retried']) {
    await db.sql.query(
      `INSERT INTO zart.runs (id, workflow, status, input, lease_owner, lease_epoch, lease_expires_at)
       VALUES ($1, 'checkpoint-inserts', 'running', '{"json":null}', 'worker-1', 1, now() + interval '1 minute')`,
      [id],
    );
  }
});

afterAll(() => zartDb.close());

function row(runId: string, key: string, output: number, extra: Partial<LeasedCheckpoint['checkpoint']> = {}) {
  return {
    lease: { runId, owner: 'worker-1', epoch: 1 },
    checkpoint: {
      key,
      seq: 0,
      sequential: true,
      completionSeq: 0,
      name: 'step',
      argsHash: null,
      status: 'completed' as const,
      output: { json: output },
      error: null,
      attempts: 1,
      durationMs: 1,
      replacesOpenRow: false,
      ...extra,
    },
  } satisfies LeasedCheckpoint;
}

async function stored(runId: string): Promise<Array<{ key: string; status: string; output: unknown }>> {
  const { rows } = await db.sql.query<{ key: string; status: string; output: unknown }>(
    'SELECT key, status, output FROM zart.steps WHERE run_id = $1 ORDER BY key',
    [runId],
  );
  return rows;
}

describe('checkpoint inserts', () => {
  it('writes a final checkpoint written again (a reply lost) once, keeping the first outcome', async () => {
    await insertCheckpoint(zartDb, row('one', 'a#0', 1));
    await expect(insertCheckpoint(zartDb, row('one', 'a#0', 2))).resolves.toBeUndefined();
    expect(await stored('one')).toEqual([{ key: 'a#0', status: 'completed', output: { json: 1 } }]);
  });

  it('answers a lost lease on the plain insert as on the upsert', async () => {
    const stale = { ...row('one', 'b#0', 1), lease: { runId: 'one', owner: 'worker-1', epoch: 0 } };
    await expect(insertCheckpoint(zartDb, stale)).rejects.toBeInstanceOf(LeaseLostError);
    expect(await stored('one')).toHaveLength(1);
  });

  it('writes a batch holding a row already stored: new rows inserted, the stored one kept, all answered', async () => {
    await insertCheckpoint(zartDb, row('batch-a', 'a#0', 1));
    const written = await insertCheckpoints(zartDb, [
      row('batch-a', 'a#0', 99),
      row('batch-a', 'b#0', 2),
      row('batch-b', 'a#0', 3),
    ]);
    expect([...written].sort()).toEqual(['batch-a/a#0', 'batch-a/b#0', 'batch-b/a#0']);
    expect(await stored('batch-a')).toEqual([
      { key: 'a#0', status: 'completed', output: { json: 1 } },
      { key: 'b#0', status: 'completed', output: { json: 2 } },
    ]);
    expect(await stored('batch-b')).toEqual([{ key: 'a#0', status: 'completed', output: { json: 3 } }]);
  });

  it('gives an open row its outcome, whether or not the write knew the row was there', async () => {
    const open = { status: 'retrying' as const, output: null, attempts: 1 };
    await insertCheckpoint(zartDb, row('retried', 'a#0', 0, open));
    await insertCheckpoint(zartDb, row('retried', 'b#0', 0, open));
    await insertCheckpoint(zartDb, row('retried', 'a#0', 1, { attempts: 2, replacesOpenRow: true }));
    // Not told (the row was recorded by an execution this one does not know of): the same outcome.
    await insertCheckpoints(zartDb, [row('retried', 'b#0', 2, { attempts: 2 }), row('retried', 'c#0', 3)]);
    expect(await stored('retried')).toEqual([
      { key: 'a#0', status: 'completed', output: { json: 1 } },
      { key: 'b#0', status: 'completed', output: { json: 2 } },
      { key: 'c#0', status: 'completed', output: { json: 3 } },
    ]);
  });
});
