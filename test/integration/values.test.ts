import { SerializationError, Workflow, WorkflowFailedError, step, type Zart } from '../../src';
import { useTestDatabase } from '../support/test-zart';
import { waitFor } from '../support/wait-for';

const db = useTestDatabase();

class PaymentDeclinedError extends Error {
  override name = 'PaymentDeclinedError';
  constructor(
    message: string,
    readonly code: string,
    readonly declinedAt: Date,
  ) {
    super(message);
  }
}

function makeValue(): Record<string, unknown> {
  return {
    when: new Date('2026-11-24T10:00:00.123Z'),
    big: 12345678901234567890n,
    map: new Map<string, unknown>([
      ['a', 1],
      ['b', new Date(0)],
    ]),
    set: new Set(['x', 'y']),
    missing: undefined,
    nothing: null,
    nested: { list: [1, undefined, 'three'], error: new PaymentDeclinedError('card declined', 'E42', new Date(5)) },
  };
}

// What the workflow saw from the step, on the first execution and on the replay.
const seen: unknown[] = [];
let holdOnce = true;

@Workflow({ name: 'values-round-trip' })
class RoundTrip {
  async run(): Promise<Record<string, unknown>> {
    const value = await step('make', () => makeValue());
    seen.push(value);
    await step('hold', async () => {
      if (holdOnce) {
        holdOnce = false;
        await new Promise(() => undefined); // this worker is shut down here
      }
    });
    return value;
  }
}

@Workflow({ name: 'values-unstorable' })
class Unstorable {
  async run(): Promise<string> {
    await step('circular', () => {
      const node: Record<string, unknown> = { name: 'loop' };
      node.self = node;
      return node;
    });
    return 'unreachable';
  }
}

describe('values', () => {
  it('come back from a replay exactly as the first execution returned them', async () => {
    const first = await db.zart();
    await first.startWorkflow(RoundTrip, undefined as never, { id: 'values-1' });
    await waitFor(() => seen.length === 1);
    await first.shutdown({ drain: 0 });

    // A new process knows an application's error classes only when told (errorClasses).
    const second: Zart = await db.zart({ errorClasses: [PaymentDeclinedError] });
    const output = await second.getHandle<Record<string, unknown>>('values-1').result({ timeout: '20s' });
    expect(seen).toHaveLength(2);
    const [original, replayed] = seen as Array<Record<string, unknown>>;
    for (const value of [replayed!, output]) {
      expect(value).toEqual(original);
      expect(Object.keys(value)).toEqual(Object.keys(original!));
      expect('missing' in value).toBe(true);
      expect(value.when).toBeInstanceOf(Date);
      expect(typeof value.big).toBe('bigint');
      expect(value.map).toBeInstanceOf(Map);
      expect(value.set).toBeInstanceOf(Set);
      const error = (value.nested as { error: PaymentDeclinedError }).error;
      expect(error).toBeInstanceOf(PaymentDeclinedError);
      expect(error).toBeInstanceOf(Error);
      expect(error.name).toBe('PaymentDeclinedError');
      expect(error.message).toBe('card declined');
      expect(error.code).toBe('E42');
      expect(error.declinedAt).toEqual(new Date(5));
      expect(error.stack).toBe((original!.nested as { error: Error }).error.stack);
    }
  });

  it('keep the name, message and fields of an error whose class this process does not know', async () => {
    const client = await db.client();
    const run = await client.getRun('values-1');
    const error = (run.output as { nested: { error: PaymentDeclinedError } }).nested.error;
    expect(error).toBeInstanceOf(Error);
    expect(error).not.toBeInstanceOf(PaymentDeclinedError);
    expect(error.name).toBe('PaymentDeclinedError');
    expect(error.code).toBe('E42');
    expect(error.declinedAt).toEqual(new Date(5));
  });

  it('that cannot be stored fail with SerializationError naming the step and the path', async () => {
    const zart = await db.zart();
    const handle = await zart.startWorkflow(Unstorable, undefined as never, { id: 'values-2' });
    const error = (await handle.result().catch((e: unknown) => e)) as WorkflowFailedError;
    expect(error).toBeInstanceOf(WorkflowFailedError);
    expect(error.cause).toBeInstanceOf(SerializationError);
    const cause = error.cause as SerializationError;
    expect(cause.message).toContain('step "circular#0"');
    expect(cause.path).toBe('$.self');
    expect(cause.message).toContain('circular reference');
  });

  it.each([
    ['a function', () => ({ callback: () => 1 }), '$.callback', 'is a function'],
    ['a symbol', () => ({ list: [1, Symbol('s')] }), '$.list[1]', 'is a symbol'],
  ])('containing %s are rejected before anything is written', async (_label, make, path, reason) => {
    const zart = await db.zart();
    const error = await zart
      .startWorkflow('values-unstorable', make(), { id: `bad-input-${path}` })
      .catch((e: unknown) => e as SerializationError);
    expect(error).toBeInstanceOf(SerializationError);
    expect((error as SerializationError).path).toBe(path);
    expect((error as SerializationError).message).toContain(reason);
    await expect(zart.getRun(`bad-input-${path}`)).rejects.toThrow('No run with id');
  });
});
