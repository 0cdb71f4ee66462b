// The caller of a step gets the value a replay would get (the stored form read back), already on
// the first execution: workflow code that works the first time cannot break on a replay.
import { Step, Workflow, now, step, type Zart } from '../../src';
import { useTestDatabase } from '../support/test-zart';
import { waitFor } from '../support/wait-for';

const db = useTestDatabase();

class Money {
  constructor(
    readonly cents: bigint,
    readonly at: Date,
  ) {}

  get display(): string {
    return `${this.cents} cents`;
  }
}

class Prices {
  @Step()
  async quote(cents: number): Promise<Money> {
    return new Money(BigInt(cents), new Date(7));
  }

  @Step({ transaction: true })
  async reserve(cents: number): Promise<Money> {
    return new Money(BigInt(cents), new Date(8));
  }
}

// An object the step keeps and changes after returning it, as a cache would.
const cache = { hits: 1 };

interface Seen {
  inline: unknown;
  decorated: unknown;
  transactional: unknown;
  holes: unknown;
  invalid: unknown;
  cached: unknown;
  when: unknown;
}

const seen: Seen[] = [];
let holdOnce = true;

@Workflow({ name: 'first-execution-shapes' })
class Shapes {
  private readonly prices = new Prices();

  async run(): Promise<Money> {
    const inline = await step('instance', () => new Money(5n, new Date(6)));
    const decorated = await this.prices.quote(10);
    const transactional = await this.prices.reserve(20);
    // eslint-disable-next-line no-sparse-arrays
    const holes = await step('holes', () => [1, , 3]);
    const invalid = await step('invalid-date', () => new Date('never'));
    const cached = await step('cached', () => cache);
    cache.hits++;
    const when = await now();
    seen.push({ inline, decorated, transactional, holes, invalid, cached, when });
    await step('hold', async () => {
      if (holdOnce) {
        holdOnce = false;
        await new Promise(() => undefined); // this worker is shut down here
      }
    });
    return new Money(99n, new Date(9));
  }
}

@Workflow({ name: 'first-execution-output' })
class Output {
  async run(): Promise<Money> {
    return new Money(1n, new Date(2));
  }
}

function expectPlainMoney(value: unknown, cents: bigint, at: number): void {
  expect(Object.getPrototypeOf(value)).toBe(Object.prototype);
  expect(value).not.toBeInstanceOf(Money);
  expect(value).toEqual({ cents, at: new Date(at) });
  expect((value as Partial<Money>).display).toBeUndefined();
}

describe('the first execution of a step', () => {
  it('gets the same values as a replay: class instances as plain objects, holes as null, a copy', async () => {
    const first = await db.zart();
    await first.startWorkflow(Shapes, undefined as never, { id: 'shapes-1' });
    await waitFor(() => seen.length === 1);
    await first.shutdown({ drain: 0 });

    const second: Zart = await db.zart();
    const output = await second.getHandle('shapes-1').result({ timeout: '20s' });
    expect(seen).toHaveLength(2);
    const [firstRun, replay] = seen as [Seen, Seen];
    for (const view of [firstRun, replay]) {
      expectPlainMoney(view.inline, 5n, 6);
      expectPlainMoney(view.decorated, 10n, 7);
      expectPlainMoney(view.transactional, 20n, 8);
      expect(view.holes).toEqual([1, null, 3]);
      expect(1 in (view.holes as unknown[])).toBe(true);
      expect(view.invalid).toBeInstanceOf(Date);
      expect((view.invalid as Date).getTime()).toBeNaN();
      // What was checkpointed, not the object the step went on changing.
      expect(view.cached).toEqual({ hits: 1 });
      expect(view.cached).not.toBe(cache);
      expect(view.when).toBeInstanceOf(Date);
    }
    expect(replay.when).toEqual(firstRun.when);
    expectPlainMoney(output, 99n, 9);
  });

  it('result() in the process that ran the workflow gets its output as stored', async () => {
    const zart = await db.zart();
    const handle = await zart.startWorkflow(Output, undefined as never, { id: 'output-1' });
    expectPlainMoney(await handle.result({ timeout: '20s' }), 1n, 2);
    expectPlainMoney((await zart.getRun('output-1')).output, 1n, 2);
  });
});
