import {
  NonDeterminismError,
  Step,
  Workflow,
  WorkflowFailedError,
  now,
  sleep,
  startChild,
  step,
  waitForEvent,
  type ZartClient,
} from '../../src';
import { replayHistory } from '../../src/testing';
import { useTestDatabase } from '../support/test-zart';
import { waitFor } from '../support/wait-for';

const db = useTestDatabase();

// What the workflow below does, call by call: each test records a history with one plan, then
// replays it with another, as a deploy that changed the code would.
type Call =
  | `step:${string}`
  | `inline:${string}`
  | `sleep:${number}`
  | `event:${string}`
  | `child:${string}`
  | 'now'
  | 'ping'
  | 'pair';
let plan: Call[] = [];
// The first execution blocks at its end, so the run is replayed by the next Zart (which does not).
let holding = true;

class Shop {
  @Step()
  async charge(item: string): Promise<string> {
    return `charged ${item}`;
  }

  @Step()
  async ping(): Promise<string> {
    return 'pong';
  }
}

@Workflow({ name: 'order-child' })
class OrderChild {
  async run(input: string): Promise<string> {
    return `child ${input}`;
  }
}

@Workflow({ name: 'planned' })
class Planned {
  private readonly shop = new Shop();

  async run(): Promise<string[]> {
    const seen: string[] = [];
    for (const call of plan) seen.push(await this.make(call));
    if (holding) await step('hold', () => new Promise(() => undefined));
    return seen;
  }

  private async make(call: Call): Promise<string> {
    const [kind, arg = ''] = call.split(':') as [string, string | undefined];
    switch (kind) {
      case 'step':
        return this.shop.charge(arg);
      case 'inline':
        return step(arg, () => `inline ${arg}`);
      case 'sleep':
        await sleep(Number(arg));
        return 'slept';
      case 'event':
        return String(await waitForEvent<string>(arg));
      case 'child':
        return (await startChild(OrderChild, arg)).id;
      case 'now':
        return (await now()).toISOString();
      case 'pair':
        return (await Promise.all([this.shop.charge('p'), this.shop.charge('q')])).join();
      default:
        return this.shop.ping();
    }
  }
}

// Records `first` up to the hold, hands the run over, and replays it with `second`.
// Each Zart is shut down before the next test: a live worker would claim (and hold) its runs.
async function replayWith(id: string, first: Call[], second: Call[]): Promise<{ zart: ZartClient; outcome: unknown }> {
  plan = first;
  holding = true;
  const recorder = await db.zart();
  await recorder.startWorkflow(Planned, undefined, { id });
  for (const call of first) if (call.startsWith('event:')) await recorder.sendEvent(id, call.slice(6), 'payload');
  await waitFor(async () => (await recorder.getSteps(id)).length >= first.length);
  await recorder.shutdown({ drain: 0 });

  plan = second;
  holding = false;
  const zart = await db.zart();
  // The replay may already have failed: then the run takes no events.
  for (const call of second)
    if (call.startsWith('event:')) await zart.sendEvent(id, call.slice(6), 'payload').catch(() => undefined);
  const outcome = await zart
    .getHandle(id)
    .result({ timeout: '30s' })
    .catch((error: unknown) => error);
  await zart.shutdown({ drain: 0 });
  return { zart: await db.client(), outcome };
}

function divergence(outcome: unknown): NonDeterminismError {
  expect(outcome).toBeInstanceOf(WorkflowFailedError);
  const cause = (outcome as WorkflowFailedError).cause;
  expect(cause).toBeInstanceOf(NonDeterminismError);
  return cause as NonDeterminismError;
}

describe('replays are checked against the order of the calls in the history', () => {
  it('detects a call of an existing step inserted before others of its name, with the same arguments', async () => {
    const { zart, outcome } = await replayWith(
      'order-insert',
      ['step:book', 'ping'],
      ['step:book', 'step:book', 'ping'],
    );
    const error = divergence(outcome);
    expect(error.position).toBe(1);
    expect(error.stepKey).toBe('Shop.charge#1');
    expect(error.expected).toBe('a call of step "Shop.ping"');
    expect(error.actual).toContain('a call of step "Shop.charge"');
    expect(error.message).toContain('at call 1');
    // Nothing of the diverging call ran: the history is as recorded.
    expect((await zart.getSteps('order-insert')).map((s) => s.key)).toEqual(['Shop.charge#0', 'Shop.ping#0']);
  });

  it('detects a removed call of a step name that is called again later', async () => {
    const { outcome } = await replayWith('order-remove', ['step:a', 'step:a', 'ping'], ['step:a', 'ping']);
    const error = divergence(outcome);
    expect(error.position).toBe(1);
    expect(error.expected).toBe('a call of step "Shop.charge"');
    expect(error.actual).toBe('a call of step "Shop.ping" (recorded at call 2)');
  });

  it('detects reordered argument-less steps and inline steps', async () => {
    const argless = divergence((await replayWith('order-argless', ['ping', 'now'], ['now', 'ping'])).outcome);
    expect([argless.position, argless.expected, argless.actual]).toEqual([
      0,
      'a call of step "Shop.ping"',
      'a now() call (recorded at call 1)',
    ]);
    const inline = divergence(
      (await replayWith('order-inline', ['inline:x', 'inline:y'], ['inline:y', 'inline:x'])).outcome,
    );
    expect([inline.position, inline.expected]).toEqual([0, 'a call of step "x"']);
  });

  it('detects a renamed step instead of running it again', async () => {
    const error = divergence(
      (await replayWith('order-rename', ['inline:old', 'ping'], ['inline:new', 'ping'])).outcome,
    );
    expect([error.position, error.expected, error.actual]).toEqual([
      0,
      'a call of step "old"',
      'a call of step "new", which the history does not have',
    ]);
  });

  it('detects a sleep, an event wait or a child start inserted before existing ones', async () => {
    const slept = divergence(
      (await replayWith('order-sleep', ['sleep:5', 'ping'], ['sleep:5', 'sleep:5', 'ping'])).outcome,
    );
    expect([slept.position, slept.expected, slept.actual]).toEqual([
      1,
      'a call of step "Shop.ping"',
      'a durable sleep, which the history does not have',
    ]);
    const waited = divergence(
      (await replayWith('order-event', ['event:paid', 'ping'], ['event:paid', 'event:paid', 'ping'])).outcome,
    );
    expect([waited.position, waited.actual]).toEqual([1, 'a wait for event "paid", which the history does not have']);
    const renamed = divergence((await replayWith('order-event-name', ['event:paid'], ['event:settled'])).outcome);
    expect([renamed.position, renamed.expected]).toEqual([0, 'a wait for event "paid"']);
    const child = divergence(
      (await replayWith('order-child', ['child:a', 'ping'], ['child:a', 'child:a', 'ping'])).outcome,
    );
    expect([child.position, child.actual]).toEqual([1, 'a startChild() call, which the history does not have']);
  });

  it('detects code that now returns before calls the history has', async () => {
    const error = divergence((await replayWith('order-shorter', ['ping', 'step:x'], ['ping'])).outcome);
    expect([error.position, error.expected, error.actual]).toEqual([
      1,
      'a call of step "Shop.charge"',
      'the end of run()',
    ]);
  });

  it('replays unchanged code, and code that only appends calls, to completion', async () => {
    const same = await replayWith(
      'order-same',
      ['step:a', 'sleep:5', 'now', 'inline:z'],
      ['step:a', 'sleep:5', 'now', 'inline:z'],
    );
    expect(same.outcome).toEqual(['charged a', 'slept', expect.any(String), 'inline z']);
    const appended = await replayWith('order-append', ['step:a'], ['step:a', 'ping']);
    expect(appended.outcome).toEqual(['charged a', 'pong']);
  });

  it('still replays histories recorded before positions were checked', async () => {
    plan = ['step:a', 'ping'];
    holding = true;
    const recorder = await db.zart();
    await recorder.startWorkflow(Planned, undefined, { id: 'order-legacy' });
    await waitFor(async () => (await recorder.getSteps('order-legacy')).length >= 2);
    await recorder.shutdown({ drain: 0 });
    // As an older zart wrote them: no sequential flag, positions that do not match this code's.
    await db.sql.query(
      `UPDATE zart.steps SET sequential = NULL, completion_seq = NULL, seq = 10 - seq WHERE run_id = 'order-legacy'`,
    );
    holding = false;
    const zart = await db.zart();
    expect(await zart.getHandle('order-legacy').result({ timeout: '30s' })).toEqual(['charged a', 'pong']);
    await zart.shutdown({ drain: 0 });
  });
});

// Concurrent calls complete in an order a replay does not reproduce: they must never be taken for
// a divergence.
let releaseSlow: () => void = () => undefined;
let slowGate = new Promise<void>((resolve) => (releaseSlow = resolve));
let concurrentHold = true;

class Parallel {
  @Step()
  async slow(tag: string): Promise<string> {
    await slowGate;
    return `slow ${tag}`;
  }

  @Step()
  async fast(tag: string): Promise<string> {
    return `fast ${tag}`;
  }
}

@Workflow({ name: 'fan-out' })
class FanOut {
  private readonly parallel = new Parallel();

  async run(): Promise<unknown> {
    // Two parallel steps, the first completing last.
    const pair = await Promise.all([this.parallel.slow('a'), this.parallel.fast('b')]);
    // Branches with several calls each: their second calls are made in completion order.
    const branches = await Promise.all(
      ['x', 'y'].map(async (tag) => {
        const first = tag === 'x' ? await this.parallel.slow(tag) : await this.parallel.fast(tag);
        return [first, await step(`after-${tag}`, () => tag), (await now()).getTime() > 0];
      }),
    );
    // A fan-out of children, each awaited as soon as it is started.
    const children = await Promise.all(
      ['c1', 'c2', 'c3'].map(async (tag) => (await startChild(OrderChild, tag, { id: `fan-${tag}` })).result()),
    );
    await step('hold', async () => {
      if (concurrentHold) await new Promise(() => undefined);
    });
    return { pair, branches, children };
  }
}

describe('concurrent calls', () => {
  it('record their call order, and replay without a false divergence whatever order they completed in', async () => {
    const first = await db.zart();
    await first.startWorkflow(FanOut, undefined, { id: 'fan-out-1' });
    // fast#0 completes while slow#0 waits: completion order differs from call order.
    await waitFor(async () => (await first.getSteps('fan-out-1')).some((s) => s.key === 'Parallel.fast#0'));
    releaseSlow();
    await waitFor(
      async () => (await first.getSteps('fan-out-1')).filter((s) => s.name === 'zart.child-result:fan-c3').length === 1,
    );
    const steps = await first.getSteps('fan-out-1');
    await first.shutdown({ drain: 0 });
    // Positions are the call order: slow#0 was called first though it finished second.
    expect(steps.slice(0, 2).map((s) => s.key)).toEqual(['Parallel.slow#0', 'Parallel.fast#0']);
    const finished = (key: string): number => steps.find((s) => s.key === key)!.finishedAt.getTime();
    expect(finished('Parallel.fast#0')).toBeLessThanOrEqual(finished('Parallel.slow#0'));

    concurrentHold = false;
    slowGate = new Promise<void>(() => undefined); // a replay must not call slow() again
    const second = await db.zart();
    expect(await second.getHandle('fan-out-1').result({ timeout: '30s' })).toEqual({
      pair: ['slow a', 'fast b'],
      branches: [
        ['slow x', 'x', true],
        ['fast y', 'y', true],
      ],
      children: ['child c1', 'child c2', 'child c3'],
    });
    // A worker left running would claim (and hold) the runs of the tests below.
    await second.shutdown({ drain: 0 });
  });
});

// Two branches that each call the argument-less inline step 'fetch' twice: branch a's first call
// completes after both calls of branch b, so b's second call takes the key fetch#2 and a's fetch#3.
let bSecondDone: () => void = () => undefined;
let bSecondGate = new Promise<void>((resolve) => (bSecondDone = resolve));
let branchesHold = true;
// What run() saw from its branches, whoever ran it (a worker or replayHistory()).
let branchesSeen: string[][] = [];

@Workflow({ name: 'two-branches' })
class TwoBranches {
  async run(): Promise<string[][]> {
    branchesSeen = await Promise.all(
      ['a', 'b'].map(async (tag) => {
        const first = await step('fetch', async () => {
          if (tag === 'a') await bSecondGate;
          return `${tag}1`;
        });
        const second = await step('fetch', () => {
          if (tag === 'b') bSecondDone();
          return `${tag}2`;
        });
        return [first, second];
      }),
    );
    await step('hold', async () => {
      if (branchesHold) await new Promise(() => undefined);
    });
    return branchesSeen;
  }
}

describe('concurrent calls replayed in the order they completed', () => {
  it('give each branch its own results again, argument-less steps included (a worker and replayHistory())', async () => {
    const first = await db.zart();
    await first.startWorkflow(TwoBranches, undefined, { id: 'branches-1' });
    await waitFor(async () => (await first.getSteps('branches-1')).length === 4);
    const recorded = await first.getSteps('branches-1');
    await first.shutdown({ drain: 0 });
    // Keys follow the order the calls were made in: b's second call came before a's.
    expect(Object.fromEntries(recorded.map((s) => [s.key, s.output]))).toEqual({
      'fetch#0': 'a1',
      'fetch#1': 'b1',
      'fetch#2': 'b2',
      'fetch#3': 'a2',
    });

    branchesHold = false;
    branchesSeen = [];
    bSecondGate = new Promise<void>(() => undefined); // a replay must not run a's first call again
    const second = await db.zart();
    expect(await second.getHandle('branches-1').result({ timeout: '30s' })).toEqual([
      ['a1', 'a2'],
      ['b1', 'b2'],
    ]);
    const history = await second.exportRun('branches-1');
    await second.shutdown({ drain: 0 });

    branchesSeen = [];
    const report = await replayHistory(history, TwoBranches);
    expect(report).toMatchObject({ ok: true, outcome: 'completed', replayedCalls: 5 });
    expect(branchesSeen).toEqual([
      ['a1', 'a2'],
      ['b1', 'b2'],
    ]);

    // Without the completion order (a history recorded by an older Zart), the stored results
    // resolve at once and branch a takes b's second result: why the order is recorded.
    const older = structuredClone(history);
    for (const call of older.calls) delete call.completionSeq;
    branchesSeen = [];
    await replayHistory(older, TwoBranches);
    expect(branchesSeen).toEqual([
      ['a1', 'b2'],
      ['b1', 'a2'],
    ]);
  });

  it('detects a call inserted after a Promise.all, at its position', async () => {
    const { zart, outcome } = await replayWith('order-after-all', ['pair', 'ping'], ['pair', 'inline:x', 'ping']);
    const error = divergence(outcome);
    expect([error.position, error.stepKey, error.expected, error.actual]).toEqual([
      2,
      'x#0',
      'a call of step "Shop.ping"',
      'a call of step "x", which the history does not have',
    ]);
    expect((await zart.getSteps('order-after-all')).map((s) => s.key)).toEqual([
      'Shop.charge#0',
      'Shop.charge#1',
      'Shop.ping#0',
    ]);
  });
});
