import { setImmediate as nextTurn } from 'node:timers/promises';
import type { CallPosition } from '../../../src/engine/call-sequence';
import { CompletionOrder, type CompletedCall } from '../../../src/engine/completion-order';

const stored = (key: string, seq: number, completionSeq: number | null, sequential: boolean): CompletedCall => ({
  key,
  name: key.split('#')[0]!,
  seq,
  sequential,
  status: 'completed',
  completionSeq,
});
const made = (key: string, seq: number): CallPosition => ({ key, seq, sequential: false, completionSeq: null });
const never = (): void => {
  throw new Error('the order was relaxed');
};

describe('CompletionOrder', () => {
  it('delivers the calls of a sequential history at once, without waiting for a turn', () => {
    const order = new CompletionOrder([stored('a#0', 0, 0, true), stored('b#0', 1, 1, true)], never);
    expect(order.deliver(made('a#0', 0), false)).toBeUndefined();
    expect(order.deliver(made('b#0', 1), false)).toBeUndefined();
  });

  it('delivers stored concurrent calls in the order they completed, one per turn', async () => {
    // fetch#0 was made first but completed after fetch#1.
    const order = new CompletionOrder([stored('fetch#0', 0, 1, true), stored('fetch#1', 1, 0, false)], never);
    const delivered: string[] = [];
    const first = order.deliver(made('fetch#0', 0), true)!.then(() => delivered.push('fetch#0'));
    const second = order.deliver(made('fetch#1', 1), true)!.then(() => delivered.push('fetch#1'));
    await nextTurn();
    expect(delivered).toEqual(['fetch#1']);
    await Promise.all([first, second]);
    expect(delivered).toEqual(['fetch#1', 'fetch#0']);
  });

  it('delivers live results in the order of their numbers', async () => {
    const order = new CompletionOrder([], never);
    const a = made('a#0', 0);
    const b = made('b#0', 1);
    expect([order.complete(a), order.complete(b), order.complete(a)]).toEqual([0, 1, 0]);
    const delivered: string[] = [];
    // b's checkpoint committed first: it waits for a's.
    const later = order.deliver(b, true)!.then(() => delivered.push('b'));
    expect(order.deliver(a, true)).toBeUndefined();
    delivered.push('a');
    await later;
    expect(delivered).toEqual(['a', 'b']);
  });

  it('lets later results go when a number is released unwritten', async () => {
    const order = new CompletionOrder([], never);
    const wait = made('zart.event:x#0', 0);
    const b = made('b#0', 1);
    order.complete(wait);
    order.complete(b);
    const later = order.deliver(b, true);
    order.release(wait);
    await expect(later).resolves.toBeUndefined();
  });

  it('gives up the order when the call that completed next in the history is never made', async () => {
    const relaxed: string[] = [];
    const order = new CompletionOrder([stored('a#0', 0, 0, true), stored('b#0', 1, 1, false)], (next) =>
      relaxed.push(next.key),
    );
    await order.deliver(made('b#0', 1), true);
    expect(relaxed).toEqual(['a#0']);
    expect(order.deliver(made('a#0', 0), true)).toBeUndefined();
  });

  it('keeps no order for a history recorded before completion numbers', () => {
    const order = new CompletionOrder([stored('a#0', 0, null, true), stored('b#0', 1, null, false)], never);
    expect(order.deliver(made('b#0', 1), true)).toBeUndefined();
    expect(order.deliver(made('a#0', 0), true)).toBeUndefined();
  });
});
