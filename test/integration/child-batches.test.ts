import {
  ConfigurationError,
  RunIdConflictError,
  ValidationError,
  Workflow,
  WorkflowCancelledError,
  WorkflowFailedError,
  startChildren,
  step,
  waitForEvent,
} from '../../src';
import { IsInt } from 'class-validator';
import { useTestDatabase } from '../support/test-zart';
import { waitFor } from '../support/wait-for';

const db = useTestDatabase();

class SquareInput {
  @IsInt() n!: number;
}

@Workflow({ name: 'batch-square', input: SquareInput })
class Square {
  async run(input: SquareInput): Promise<number> {
    return step('square', () => {
      if (input.n < 0) throw new RangeError(`negative: ${input.n}`);
      return input.n * input.n;
    });
  }
}

@Workflow({ name: 'batch-fan-out' })
class FanOut {
  async run(input: { numbers: number[]; batchSize: number }): Promise<number[]> {
    const squares: number[] = [];
    for (let first = 0; first < input.numbers.length; first += input.batchSize) {
      const batch = await startChildren(
        Square,
        input.numbers.slice(first, first + input.batchSize).map((n) => ({ n })),
      );
      squares.push(...(await batch.results()));
    }
    return squares;
  }
}

@Workflow({ name: 'batch-with-failure' })
class WithFailure {
  async run(input: { numbers: number[] }): Promise<string> {
    const batch = await startChildren(
      Square,
      input.numbers.map((n) => ({ n })),
    );
    try {
      await batch.results();
      return 'unreachable';
    } catch (error) {
      if (!(error instanceof WorkflowFailedError)) throw error;
      return `${error.runId}: ${((error.cause as Error).cause as Error).message}`;
    }
  }
}

@Workflow({ name: 'batch-waiter' })
class Waiter {
  async run(input: { n: number }): Promise<number> {
    await waitForEvent('go');
    return input.n;
  }
}

@Workflow({ name: 'batch-of-waiters' })
class OfWaiters {
  async run(input: { count: number; ids?: string[] }): Promise<number[]> {
    const batch = await startChildren(
      Waiter,
      Array.from({ length: input.count }, (_, n) => ({ n })),
      { ids: input.ids },
    );
    return batch.results();
  }
}

@Workflow({ name: 'batch-empty' })
class EmptyBatch {
  async run(): Promise<{ ids: readonly string[]; results: number[] }> {
    const batch = await startChildren(Square, []);
    return { ids: batch.ids, results: await batch.results() };
  }
}

@Workflow({ name: 'batch-bad-call' })
class BadCall {
  async run(input: { kind: 'not-array' | 'ids-length' | 'invalid-input' }): Promise<string> {
    try {
      if (input.kind === 'not-array') await startChildren(Square, 3 as never);
      if (input.kind === 'ids-length') await startChildren(Square, [{ n: 1 }], { ids: ['a', 'b'] });
      if (input.kind === 'invalid-input') await startChildren(Square, [{ n: 1 }, { n: 1.5 }]);
      return 'no error';
    } catch (error) {
      return `${(error as Error).name}: ${(error as Error).message}`;
    }
  }
}

describe('startChildren(): a batch of children in one durable call', () => {
  it('starts every child once and returns their outputs in input order, batch after batch', async () => {
    const zart = await db.zart({ worker: { concurrency: 16 } });
    const numbers = Array.from({ length: 120 }, (_, i) => 120 - i);
    const handle = await zart.startWorkflow(FanOut, { numbers, batchSize: 50 }, { id: 'fan' });
    expect(await handle.result({ timeout: '60s' })).toEqual(numbers.map((n) => n * n));

    const { rows } = await db.sql.query<{ batch_key: string; n: number }>(
      `SELECT batch_key, count(*)::int AS n FROM zart.runs WHERE parent_id = 'fan' AND status = 'completed'
       GROUP BY batch_key ORDER BY batch_key`,
    );
    expect(rows).toEqual([
      { batch_key: 'zart.children#0', n: 50 },
      { batch_key: 'zart.children#1', n: 50 },
      { batch_key: 'zart.children#2', n: 20 },
    ]);
    // One checkpoint per batch start and one per batch's outcomes, not one per child.
    const steps = await db.sql.query<{ name: string }>("SELECT name FROM zart.steps WHERE run_id = 'fan' ORDER BY seq");
    expect(steps.rows.map((r) => r.name)).toEqual([
      'zart.children',
      'zart.children-result:zart.children#0',
      'zart.children',
      'zart.children-result:zart.children#1',
      'zart.children',
      'zart.children-result:zart.children#2',
    ]);
    const ids = await db.sql.query<{ id: string }>(
      "SELECT id FROM zart.runs WHERE parent_id = 'fan' AND batch_key = 'zart.children#2' ORDER BY id",
    );
    expect(ids.rows.map((r) => r.id)).toContain('fan/zart.children#2/19');
  });

  it('wakes the parked parent once for the batch, when its last child finishes', async () => {
    const zart = await db.zart({ worker: { concurrency: 40 } });
    const handle = await zart.startWorkflow(OfWaiters, { count: 30 }, { id: 'waiters' });
    await waitFor(async () => (await handle.status()) === 'waiting' && (await childrenWaiting('waiters')) === 30);
    const parked = await db.sql.query<{ waiting_for: string }>(
      "SELECT waiting_for FROM zart.runs WHERE id = 'waiters'",
    );
    expect(parked.rows[0]?.waiting_for).toBe('children:zart.children#0');

    // All but one child finish while this test holds the parent's row lock: a child's finish that
    // locked its parent would wait here, and they would not finish.
    await db.sql.query('BEGIN');
    await db.sql.query("SELECT 1 FROM zart.runs WHERE id = 'waiters' FOR UPDATE");
    try {
      for (let i = 0; i < 29; i++) await zart.sendEvent(`waiters/zart.children#0/${i}`, 'go', null);
      await waitFor(async () => (await childrenCompleted('waiters')) === 29);
      expect(await childrenWaiting('waiters')).toBe(1);
    } finally {
      await db.sql.query('COMMIT');
    }
    expect(await handle.status()).toBe('waiting');

    await zart.sendEvent('waiters/zart.children#0/29', 'go', null);
    expect(await handle.result({ timeout: '30s' })).toEqual(Array.from({ length: 30 }, (_, n) => n));
  });

  it('throws the first failed child in input order into the parent, once every child has finished', async () => {
    const zart = await db.zart();
    const handle = await zart.startWorkflow(WithFailure, { numbers: [1, 2, -3, 4, -5] }, { id: 'failing' });
    expect(await handle.result({ timeout: '30s' })).toBe('failing/zart.children#0/2: negative: -3');
    const children = await db.sql.query<{ status: string; n: number }>(
      "SELECT status, count(*)::int AS n FROM zart.runs WHERE parent_id = 'failing' GROUP BY status ORDER BY status",
    );
    expect(children.rows).toEqual([
      { status: 'completed', n: 3 },
      { status: 'failed', n: 2 },
    ]);
  });

  it('rejects with WorkflowCancelledError when a child of the batch is cancelled', async () => {
    const zart = await db.zart();
    const handle = await zart.startWorkflow(OfWaiters, { count: 3 }, { id: 'cancelling' });
    await waitFor(async () => (await childrenWaiting('cancelling')) === 3);
    await zart.sendEvent('cancelling/zart.children#0/0', 'go', null);
    await zart.sendEvent('cancelling/zart.children#0/2', 'go', null);
    await zart.cancel('cancelling/zart.children#0/1');
    const error = await handle.result({ timeout: '30s' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(WorkflowFailedError);
    expect((error as WorkflowFailedError).cause).toBeInstanceOf(WorkflowCancelledError);
  });

  it('starts no child when one id of the batch is taken, and stores the conflict', async () => {
    const zart = await db.zart();
    await zart.startWorkflow(Square, { n: 2 }, { id: 'taken' });
    const handle = await zart.startWorkflow(OfWaiters, { count: 2, ids: ['free', 'taken'] }, { id: 'conflict' });
    const error = await handle.result({ timeout: '30s' }).catch((e: unknown) => e);
    expect((error as WorkflowFailedError).cause).toBeInstanceOf(RunIdConflictError);
    expect(((error as WorkflowFailedError).cause as Error).message).toContain('id "taken" already belongs to');
    const children = await db.sql.query("SELECT id FROM zart.runs WHERE id = 'free' OR parent_id = 'conflict'");
    expect(children.rows).toEqual([]);
  });

  it('starts nothing for an empty batch, whose results() are []', async () => {
    const zart = await db.zart();
    const handle = await zart.startWorkflow(EmptyBatch, undefined, { id: 'empty' });
    expect(await handle.result({ timeout: '30s' })).toEqual({ ids: [], results: [] });
  });

  it('refuses bad calls with errors that say what to fix, writing nothing', async () => {
    const zart = await db.zart();
    const result = async (kind: string): Promise<unknown> =>
      (await zart.startWorkflow(BadCall, { kind } as never, { id: `bad-${kind}` })).result({ timeout: '30s' });
    expect(await result('not-array')).toMatch(/^ConfigurationError: .*inputs must be an array/);
    expect(await result('ids-length')).toMatch(/^ConfigurationError: .*one id per input \(1\)/);
    expect(await result('invalid-input')).toMatch(/^ValidationError: .*inputs\[1\]\.n/s);
    const children = await db.sql.query("SELECT id FROM zart.runs WHERE parent_id LIKE 'bad-%'");
    expect(children.rows).toEqual([]);
    expect(ConfigurationError).toBeDefined();
    expect(ValidationError).toBeDefined();
  });
});

async function childrenCompleted(parentId: string): Promise<number> {
  const { rows } = await db.sql.query<{ n: number }>(
    "SELECT count(*)::int AS n FROM zart.runs WHERE parent_id = $1 AND status = 'completed'",
    [parentId],
  );
  return rows[0]?.n ?? 0;
}

async function childrenWaiting(parentId: string): Promise<number> {
  const { rows } = await db.sql.query<{ n: number }>(
    "SELECT count(*)::int AS n FROM zart.runs WHERE parent_id = $1 AND status = 'waiting'",
    [parentId],
  );
  return rows[0]?.n ?? 0;
}
