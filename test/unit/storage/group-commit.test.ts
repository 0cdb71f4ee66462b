import { GroupCommit } from '../../../src/storage/group-commit';

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
  it('sends the first writes at once and the ones arriving meanwhile together, each caller getting its own answer', async () => {
    const { send, statements, commit } = heldSend();
    const group = new GroupCommit(send);
    const answers = [1, 2, 3, 4, 5].map((row) => group.write(row));
    // Two statements in flight at most: 1 and 2 alone, then 3 to 5 in one once a slot frees.
    expect(statements).toEqual([[1], [2]]);
    commit();
    await settled();
    expect(statements).toEqual([[1], [2], [3, 4, 5]]);
    commit();
    commit();
    expect(await Promise.all(answers)).toEqual(['answer 1', 'answer 2', 'answer 3', 'answer 4', 'answer 5']);
  });

  it('fails every caller of a statement that failed, and only those', async () => {
    const { send, commit } = heldSend();
    const group = new GroupCommit(send);
    const first = group.write(1);
    const second = group.write(2);
    commit(new Error('connection lost'));
    commit();
    await expect(first).rejects.toThrow('connection lost');
    await expect(second).resolves.toBe('answer 2');
  });
});
