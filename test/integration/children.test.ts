import {
  DeadlineExceededError,
  RunIdConflictError,
  Workflow,
  WorkflowCancelledError,
  WorkflowFailedError,
  startChild,
  step,
  waitForEvent,
} from '../../src';
import { ZartDatabase } from '../../src/storage/zart-database';
import { useTestDatabase } from '../support/test-zart';
import { waitFor } from '../support/wait-for';

const db = useTestDatabase();

@Workflow({ name: 'child-square' })
class Square {
  async run(input: { n: number }): Promise<number> {
    return step('square', () => {
      if (input.n < 0) throw new RangeError(`negative: ${input.n}`);
      return input.n * input.n;
    });
  }
}

@Workflow({ name: 'child-fan-out' })
class FanOut {
  async run(input: { numbers: number[] }): Promise<number> {
    const children = await Promise.all(input.numbers.map((n) => startChild(Square, { n })));
    const squares = await Promise.all(children.map((child) => child.result()));
    return squares.reduce((a, b) => a + b, 0);
  }
}

@Workflow({ name: 'child-failure' })
class ChildFailure {
  async run(): Promise<string> {
    const child = await startChild(Square, { n: -3 });
    try {
      await child.result();
      return 'unreachable';
    } catch (error) {
      if (!(error instanceof WorkflowFailedError)) throw error;
      return `child ${error.runId} failed: ${((error.cause as Error).cause as Error).message}`;
    }
  }
}

@Workflow({ name: 'child-waits-forever' })
class WaitsForever {
  async run(): Promise<unknown> {
    return waitForEvent('never');
  }
}

@Workflow({ name: 'child-parent-of-waiter' })
class ParentOfWaiter {
  async run(input: { childId?: string }): Promise<unknown> {
    const child = await startChild(WaitsForever, undefined as never, { id: input.childId });
    return child.result();
  }
}

describe('child workflows', () => {
  it('fan out to children once each and fan their results in', async () => {
    const zart = await db.zart();
    const handle = await zart.startWorkflow(FanOut, { numbers: [1, 2, 3, 4] }, { id: 'fan-1' });
    expect(await handle.result({ timeout: '30s' })).toBe(30);
    const { rows } = await db.sql.query("SELECT id, status FROM zart.runs WHERE parent_id = 'fan-1' ORDER BY id");
    expect(rows).toEqual([0, 1, 2, 3].map((i) => ({ id: `fan-1/zart.child#${i}`, status: 'completed' })));
  });

  it('reject the parent’s await with the child’s failure', async () => {
    const zart = await db.zart();
    const result = await (
      await zart.startWorkflow(ChildFailure, undefined as never, { id: 'parent-2' })
    ).result({
      timeout: '30s',
    });
    expect(result).toBe('child parent-2/zart.child#0 failed: negative: -3');
  });

  it('cancel children with their parent, and never leave a parent waiting on a cancelled child', async () => {
    const zart = await db.zart();
    await zart.startWorkflow(ParentOfWaiter, { childId: 'the-waiting-child' }, { id: 'parent-3' });
    await waitFor(
      async () =>
        (await db.sql.query("SELECT 1 FROM zart.runs WHERE id = 'the-waiting-child' AND status = 'waiting'"))
          .rowCount === 1,
    );
    await zart.cancel('the-waiting-child');
    const error = await zart
      .getHandle('parent-3')
      .result({ timeout: '20s' })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(WorkflowFailedError);
    expect((error as WorkflowFailedError).cause).toBeInstanceOf(WorkflowCancelledError);

    await zart.startWorkflow(ParentOfWaiter, {}, { id: 'parent-4' });
    await waitFor(
      async () =>
        (await db.sql.query("SELECT 1 FROM zart.runs WHERE parent_id = 'parent-4' AND status = 'waiting'")).rowCount ===
        1,
    );
    await zart.cancel('parent-4');
    const child = await db.sql.query("SELECT status FROM zart.runs WHERE parent_id = 'parent-4'");
    expect(child.rows).toEqual([{ status: 'cancelled' }]);
  });
});

@Workflow({ name: 'child-big-family' })
class BigFamily {
  async run(input: { count: number }): Promise<unknown> {
    const children = await Promise.all(
      Array.from({ length: input.count }, () => startChild(WaitsForever, undefined as never)),
    );
    return Promise.all(children.map((child) => child.result()));
  }
}

describe('cancelling a large tree', () => {
  it('cancels a parent with 400 children in one call', async () => {
    const zart = await db.zart();
    await zart.startWorkflow(BigFamily, { count: 400 }, { id: 'family' });
    await waitFor(
      async () =>
        (await db.sql.query("SELECT count(*)::int AS n FROM zart.runs WHERE parent_id = 'family'")).rows[0].n === 400,
      60_000,
    );
    await zart.cancel('family');
    const { rows } = await db.sql.query(
      "SELECT status, count(*)::int AS n FROM zart.runs WHERE id = 'family' OR parent_id = 'family' GROUP BY status",
    );
    expect(rows).toEqual([{ status: 'cancelled', n: 401 }]);
  }, 90_000);
});

@Workflow({ name: 'child-parent-with-deadline', timeout: '1500ms' })
class ParentWithDeadline {
  async run(): Promise<unknown> {
    const child = await startChild(WaitsForever, undefined as never, { id: 'child-of-deadline' });
    return child.result();
  }
}

describe('child ids and deadlines', () => {
  it('start a child once when the reply to its insert is lost (the retry finds its own child)', async () => {
    // The statement commits, then the reply is lost as if the connection dropped: the engine
    // retries it, and must take the child it finds for its own, not for another run's.
    const original = Object.getOwnPropertyDescriptor(ZartDatabase.prototype, 'query')!.value as ZartDatabase['query'];
    let dropped = false;
    ZartDatabase.prototype.query = async function (this: ZartDatabase, sql: string, params?: unknown[]) {
      const result = await original.call(this, sql, params);
      if (!dropped && sql.includes('INSERT INTO') && sql.includes('parent_id') && sql.includes('recorded AS')) {
        dropped = true;
        throw Object.assign(new Error('Connection terminated unexpectedly'), { code: 'ECONNRESET' });
      }
      return result;
    } as typeof original;
    try {
      const zart = await db.zart();
      const handle = await zart.startWorkflow(FanOut, { numbers: [5] }, { id: 'lost-reply' });
      expect(await handle.result({ timeout: '20s' })).toBe(25);
      expect(dropped).toBe(true);
      const { rows } = await db.sql.query("SELECT count(*)::int AS n FROM zart.runs WHERE parent_id = 'lost-reply'");
      expect(rows).toEqual([{ n: 1 }]);
    } finally {
      ZartDatabase.prototype.query = original;
    }
  });

  it('refuse a child id that another run already has, instead of adopting that run', async () => {
    const zart = await db.zart();
    await zart.startWorkflow(WaitsForever, undefined as never, { id: 'taken-id' });
    const error = await (
      await zart.startWorkflow(ParentOfWaiter, { childId: 'taken-id' }, { id: 'parent-5' })
    )
      .result({ timeout: '20s' })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(WorkflowFailedError);
    const conflict = (error as WorkflowFailedError).cause;
    expect(conflict).toBeInstanceOf(RunIdConflictError);
    expect((conflict as Error).message).toContain('startChild(child-waits-forever, { id: "taken-id" })');
    expect((conflict as Error).message).toContain('a top-level run');
    // The other run is untouched: still its own, still waiting, not the parent's child.
    const { rows } = await db.sql.query("SELECT parent_id, status FROM zart.runs WHERE id = 'taken-id'");
    expect(rows).toEqual([{ parent_id: null, status: expect.stringMatching(/^(pending|running|waiting)$/) }]);
  });

  it('give a child no later deadline than its parent’s, so neither outlives it', async () => {
    const zart = await db.zart();
    const handle = await zart.startWorkflow(ParentWithDeadline, undefined as never, { id: 'parent-6' });
    await expect(handle.result({ timeout: '20s' })).rejects.toBeInstanceOf(DeadlineExceededError);
    await expect(zart.getHandle('child-of-deadline').result({ timeout: '20s' })).rejects.toBeInstanceOf(
      DeadlineExceededError,
    );
    const { rows } = await db.sql.query(
      "SELECT c.deadline_at = p.deadline_at AS same FROM zart.runs c JOIN zart.runs p ON p.id = c.parent_id WHERE c.id = 'child-of-deadline'",
    );
    expect(rows).toEqual([{ same: true }]);
  });
});
