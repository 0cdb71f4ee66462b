import { GroupCommit, RowRefused } from '../../../src/storage/group-commit';

// A send that holds each statement until the test lets it commit.
function heldSend(): {
  send: (rows: readonly number[]) => Promise<string[]>;
  statements: number[][];
  commit: (fail?: Error) => void;
} {
  const statements: number[][] = [];
  const pending: Array<{ resolve: () => void; reject: (error: Error) => void }> = [];
  return {
    statements,
    send: (rows) => {
      statements.push([...rows]);
      return new Promise<void>((resolve, reject) => pending.push({ resolve, reject })).then(() =>
        rows.map((row) => `answer ${row}`),
      );
    },
    commit: (fail) => {
      const next = pending.shift()!;
      if (fail) next.reject(fail);
      else next.resolve();
    },
  };
}

const settled = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('GroupCommit', () => {
  it('sends the writes of one turn of the event loop together, and those made while two statements are in flight once a slot frees', async () => {
    const { send, statements, commit } = heldSend();
    const group = new GroupCommit(send);
    const answers = [1, 2, 3].map((row) => group.write(row));
    // Nothing goes out within the turn that made the writes.
    expect(statements).toEqual([]);
    await settled();
    expect(statements).toEqual([[1, 2, 3]]);
    answers.push(group.write(4));
    await settled();
    // The second slot: a write does not wait for the first statement's commit.
    expect(statements).toEqual([[1, 2, 3], [4]]);
    answers.push(group.write(5), group.write(6));
    await settled();
    expect(statements).toHaveLength(2);
    commit();
    await settled();
    expect(statements).toEqual([[1, 2, 3], [4], [5, 6]]);
    commit();
    commit();
    expect(await Promise.all(answers)).toEqual([1, 2, 3, 4, 5, 6].map((row) => `answer ${row}`));
  });

  it('fails every caller of a statement that failed, and only those', async () => {
    const { send, commit } = heldSend();
    const group = new GroupCommit(send);
    const first = group.write(1);
    await settled();
    const second = group.write(2);
    await settled();
    commit(new Error('connection lost'));
    commit();
    await expect(first).rejects.toThrow('connection lost');
    await expect(second).resolves.toBe('answer 2');
  });

  it('fails only the caller of a row the statement refused', async () => {
    const group = new GroupCommit((rows: readonly number[]) =>
      Promise.resolve(rows.map((row) => (row === 2 ? new RowRefused(new Error(`row ${row} refused`)) : row * 10))),
    );
    const [one, two, three] = [1, 2, 3].map((row) => group.write(row));
    await expect(two).rejects.toThrow('row 2 refused');
    expect(await Promise.all([one, three])).toEqual([10, 30]);
  });
});
