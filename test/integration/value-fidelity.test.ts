// Values that plain JSON would change (NaN in a Float64Array, an own "__proto__" key, an invalid
// Date, a class instance) come back from a replay and from getRun() as the first execution saw
// them, or are refused with a SerializationError naming the step and the path.
import { SerializationError, Workflow, WorkflowFailedError, step, type Zart } from '../../src';
import { useTestDatabase } from '../support/test-zart';
import { waitFor } from '../support/wait-for';

const db = useTestDatabase();

function makeBinary(): Record<string, unknown> {
  const bytes = new Uint8Array([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, -0.5);
  return {
    f64: new Float64Array([NaN, -0, Infinity, -Infinity, 1.5]),
    f32: new Float32Array([NaN, -0, Infinity, 0.25]),
    i8: new Int8Array([-128, 127, 0]),
    u8: new Uint8Array([0, 255]),
    u8c: new Uint8ClampedArray([0, 255]),
    i16: new Int16Array([-32768, 32767]),
    u16: new Uint16Array([65535]),
    i32: new Int32Array([-2147483648, 2147483647]),
    u32: new Uint32Array([4294967295]),
    bi64: new BigInt64Array([-(2n ** 63n), 2n ** 63n - 1n]),
    bu64: new BigUint64Array([2n ** 64n - 1n]),
    slice: bytes.subarray(2, 5),
    view,
    buffer: new Uint8Array([9, 8, 7]).buffer,
  };
}

function makeUnusual(): Record<string, unknown> {
  return {
    parsed: JSON.parse('{"a": 1, "__proto__": {"b": 2}, "c": 3}') as unknown,
    constructor: new Date(0),
    prototype: { n: 5n },
    invalid: new Date(NaN),
  };
}

// What the workflow saw from its steps, on the first execution and on the replay.
const seen: Array<Record<string, unknown>> = [];
let holdOnce = true;

@Workflow({ name: 'fidelity-exact' })
class Exact {
  async run(): Promise<Record<string, unknown>> {
    const binary = await step('binary', () => makeBinary());
    const unusual = await step('unusual', () => makeUnusual());
    seen.push({ binary, unusual });
    await step('hold', async () => {
      if (holdOnce) {
        holdOnce = false;
        await new Promise(() => undefined); // this worker is shut down here
      }
    });
    return { binary, unusual };
  }
}

@Workflow({ name: 'fidelity-throwing-getter' })
class ThrowingGetter {
  async run(): Promise<string> {
    await step('read', () => ({
      order: {
        get total(): number {
          throw new Error('total is not loaded');
        },
      },
    }));
    return 'unreachable';
  }
}

function expectExactBinary(value: Record<string, unknown>): void {
  const f64 = value.f64 as Float64Array;
  expect(f64).toBeInstanceOf(Float64Array);
  expect([...f64].map((n) => Object.is(n, NaN))).toEqual([true, false, false, false, false]);
  expect(Object.is(f64[1], -0)).toBe(true);
  expect([f64[2], f64[3], f64[4]]).toEqual([Infinity, -Infinity, 1.5]);
  const f32 = value.f32 as Float32Array;
  expect(f32).toBeInstanceOf(Float32Array);
  expect(Number.isNaN(f32[0])).toBe(true);
  expect(Object.is(f32[1], -0)).toBe(true);
  expect([f32[2], f32[3]]).toEqual([Infinity, 0.25]);
  expect(value.i8).toEqual(new Int8Array([-128, 127, 0]));
  expect(value.u8).toEqual(new Uint8Array([0, 255]));
  expect(value.u8c).toEqual(new Uint8ClampedArray([0, 255]));
  expect(value.i16).toEqual(new Int16Array([-32768, 32767]));
  expect(value.u16).toEqual(new Uint16Array([65535]));
  expect(value.i32).toEqual(new Int32Array([-2147483648, 2147483647]));
  expect(value.u32).toEqual(new Uint32Array([4294967295]));
  expect(value.bi64).toEqual(new BigInt64Array([-(2n ** 63n), 2n ** 63n - 1n]));
  expect(value.bu64).toEqual(new BigUint64Array([2n ** 64n - 1n]));
  // A view keeps the bytes it shows, not the rest of its buffer.
  expect(value.slice).toEqual(new Uint8Array([2, 3, 4]));
  const view = value.view as DataView;
  expect(view).toBeInstanceOf(DataView);
  expect(view.byteLength).toBe(8);
  expect(view.getFloat64(0)).toBe(-0.5);
  expect(value.buffer).toBeInstanceOf(ArrayBuffer);
  expect([...new Uint8Array(value.buffer as ArrayBuffer)]).toEqual([9, 8, 7]);
}

function expectExactUnusual(value: Record<string, unknown>): void {
  const parsed = value.parsed as Record<string, unknown>;
  expect(Object.keys(parsed)).toEqual(['a', '__proto__', 'c']);
  expect(Object.getOwnPropertyDescriptor(parsed, '__proto__')?.value).toEqual({ b: 2 });
  expect(Object.getPrototypeOf(parsed)).toBe(Object.prototype);
  expect(Object.keys(value)).toEqual(['parsed', 'constructor', 'prototype', 'invalid']);
  expect(value.constructor).toEqual(new Date(0));
  expect(value.prototype).toEqual({ n: 5n });
  expect(value.invalid).toBeInstanceOf(Date);
  expect(Number.isNaN((value.invalid as Date).getTime())).toBe(true);
}

describe('values plain JSON would change', () => {
  it('come back from a replay and from getRun() exactly as the first execution saw them', async () => {
    const first = await db.zart();
    await first.startWorkflow(Exact, undefined as never, { id: 'exact-1' });
    await waitFor(() => seen.length === 1);
    await first.shutdown({ drain: 0 });

    const second: Zart = await db.zart();
    const output = await second.getHandle<Record<string, unknown>>('exact-1').result({ timeout: '20s' });
    expect(seen).toHaveLength(2);
    const run = await second.getRun('exact-1');
    for (const value of [...seen, output, run.output as Record<string, unknown>]) {
      expectExactBinary(value.binary as Record<string, unknown>);
      expectExactUnusual(value.unusual as Record<string, unknown>);
    }
    const steps = await second.getSteps('exact-1');
    expectExactBinary(steps.find((s) => s.key === 'binary#0')!.output as Record<string, unknown>);
    expectExactUnusual(steps.find((s) => s.key === 'unusual#0')!.output as Record<string, unknown>);
  });

  it('a getter that throws is refused with a SerializationError naming the step and the path', async () => {
    const zart = await db.zart();
    const handle = await zart.startWorkflow(ThrowingGetter, undefined as never, { id: 'getter-1' });
    const error = (await handle.result().catch((e: unknown) => e)) as WorkflowFailedError;
    expect(error).toBeInstanceOf(WorkflowFailedError);
    expect(error.cause).toBeInstanceOf(SerializationError);
    const cause = error.cause as SerializationError;
    expect(cause.path).toBe('$.order.total');
    expect(cause.message).toContain('step "read#0" of run "getter-1"');
    expect(cause.message).toContain('total is not loaded');
    const [checkpoint] = await zart.getSteps('getter-1');
    expect(checkpoint).toMatchObject({ key: 'read#0', status: 'failed' });
  });
});
