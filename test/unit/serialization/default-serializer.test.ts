import SuperJSON from 'superjson';
import * as zart from '../../../src';
import {
  DefaultSerializer,
  LeaseLostError,
  SerializationError,
  StepFailedError,
  ZartError,
  type StoredValue,
} from '../../../src';

class QuotaError extends Error {
  override name = 'QuotaError';
  constructor(readonly limit: number) {
    super(`over quota ${limit}`);
  }
}

const roundTrip = (value: unknown, serializer = new DefaultSerializer([QuotaError])): unknown =>
  serializer.deserialize(JSON.parse(JSON.stringify(serializer.serialize(value, 'a test value'))) as StoredValue);

describe('DefaultSerializer', () => {
  it('keeps Date, BigInt, Map, Set, undefined, null, NaN and key order through JSON text', () => {
    const value = { z: 1, a: new Date(7), big: -(2n ** 70n), m: new Map([[1, new Set([null])]]), u: undefined, n: NaN };
    const back = roundTrip(value) as typeof value;
    expect(back).toEqual(value);
    expect(Object.keys(back)).toEqual(['z', 'a', 'big', 'm', 'u', 'n']);
  });

  it('rebuilds errors by class with stack, cause and own fields', () => {
    const error = new StepFailedError('run-1', 'charge#0', 3, new QuotaError(10));
    const back = roundTrip(error) as StepFailedError;
    expect(back).toBeInstanceOf(StepFailedError);
    expect(back).toBeInstanceOf(ZartError);
    expect(back).toMatchObject({ runId: 'run-1', stepKey: 'charge#0', attempts: 3, code: 'ZART_STEP_FAILED' });
    expect(back.stack).toBe(error.stack);
    expect(back.cause).toBeInstanceOf(QuotaError);
    expect((back.cause as QuotaError).limit).toBe(10);
    expect(Object.keys(back)).toEqual(Object.keys(error));
  });

  it('names the path of a value it cannot store', () => {
    const loop: unknown[] = [];
    loop.push({ again: loop });
    expect(() => new DefaultSerializer().serialize({ items: loop }, 'the output of step "x#0"')).toThrow(
      expect.objectContaining({ name: 'SerializationError', path: '$.items[0].again' }) as Error,
    );
    expect(() => new DefaultSerializer().serialize({ text: 'a\u0000b' }, 'v')).toThrow(SerializationError);
    // A string alone too, not only inside an object or a list.
    expect(() => new DefaultSerializer().serialize('a\u0000b', 'the output of step "x#0"')).toThrow(
      expect.objectContaining({ name: 'SerializationError', path: '$' }) as Error,
    );
    expect(() => new DefaultSerializer().serialize(new Map([['k', () => 1]]), 'v')).toThrow(
      /\$\.get\("k"\) is a function/,
    );
  });

  it('stores undefined and plain scalars exactly as superjson does, and reads them back', () => {
    const superjson = new SuperJSON({ dedupe: false });
    const serializer = new DefaultSerializer();
    for (const sample of [undefined, null, 0, -0, 1.5, NaN, -Infinity, '', 'text', true, false]) {
      const text = JSON.stringify(serializer.serialize(sample, 'v'));
      expect(text).toBe(JSON.stringify(superjson.serialize(sample)));
      expect(Object.is(serializer.deserialize(JSON.parse(text) as StoredValue), sample)).toBe(true);
    }
    // Stored forms that only look alike are superjson's to read.
    const alike = { json: null, meta: { values: ['undefined'], referentialEqualities: {} } };
    expect(serializer.deserialize(alike as unknown as StoredValue)).toBe(
      superjson.deserialize(alike as unknown as Parameters<SuperJSON['deserialize']>[0]),
    );
    // Each caller gets its own stored form of undefined.
    expect(serializer.serialize(undefined, 'v')).not.toBe(serializer.serialize(undefined, 'v'));
  });

  it('allows the same object twice when it is not circular', () => {
    const shared = { id: 1 };
    expect(roundTrip([shared, shared])).toEqual([{ id: 1 }, { id: 1 }]);
  });

  it('stores lists of plain scalars exactly as superjson does, and sends the rest to it', () => {
    const superjson = new SuperJSON({ dedupe: false });
    const shared = [1, 2];
    const holey = [1, , 3]; // eslint-disable-line no-sparse-arrays
    const samples: unknown[] = [
      [],
      Array.from({ length: 500 }, (_, i) => i * 7),
      ['bench-w5-page', [0, 1.5, -2, 'x', true, null], null],
      [[[['deep']]]],
      [[[[[[[[[[['deeper than the copy goes']]]]]]]]]]],
      [-0],
      [NaN, Infinity],
      [undefined],
      holey,
      [shared, shared],
      [new Date(7)],
      [{ a: 1 }],
      [1n],
    ];
    const serializer = new DefaultSerializer();
    for (const sample of samples) {
      expect(JSON.stringify(serializer.serialize(sample, 'v'))).toBe(JSON.stringify(superjson.serialize(sample)));
      const text = JSON.stringify(superjson.serialize(sample));
      expect(roundTrip(sample)).toEqual(
        superjson.deserialize(JSON.parse(text) as Parameters<SuperJSON['deserialize']>[0]),
      );
    }
    // A copy: changing the list afterwards does not change what was serialized.
    const list = [1, 2, 3];
    const stored = serializer.serialize(list, 'v');
    list.push(4);
    expect(stored).toEqual({ json: [1, 2, 3] });
    expect(() => serializer.serialize(['a\u0000b'], 'v')).toThrow(SerializationError);
    const [back] = roundTrip([shared, shared]) as [unknown, unknown];
    expect(back).toEqual([1, 2]);
  });

  it('keeps errors recognisable across two copies of the library (brand + name)', () => {
    const foreign = Object.assign(Object.create(Error.prototype) as object, {});
    Object.defineProperty(foreign, Symbol.for('zart.error'), { value: true });
    expect(foreign instanceof LeaseLostError).toBe(false);
    expect(new LeaseLostError('r') instanceof ZartError).toBe(true);
  });
});

describe('DefaultSerializer with binary data and class instances', () => {
  class Money {
    constructor(
      readonly cents: bigint,
      readonly at: Date,
    ) {}
  }

  it('round-trips Buffers and typed arrays', () => {
    const value = { buffer: Buffer.from('héllo'), bytes: new Uint8Array([1, 2, 255]), floats: new Float64Array([0.5]) };
    const back = roundTrip(value) as typeof value;
    expect(Buffer.isBuffer(back.buffer)).toBe(true);
    expect(back.buffer.toString()).toBe('héllo');
    expect(back.bytes).toEqual(new Uint8Array([1, 2, 255]));
    expect(back.floats).toEqual(new Float64Array([0.5]));
  });

  it('keeps the exact bytes of float, BigInt and clamped typed arrays, DataViews and ArrayBuffers', () => {
    class Pixels extends Uint8ClampedArray {}
    const value = {
      floats: new Float32Array([NaN, -0, -Infinity]),
      bigs: new BigUint64Array([2n ** 64n - 1n]),
      pixels: new Pixels([1, 2]),
      view: new DataView(new Uint8Array([5, 6, 7]).buffer, 1, 2),
      raw: new Uint16Array([513]).buffer,
    };
    const back = roundTrip(value) as typeof value;
    expect(Object.is(back.floats[1], -0)).toBe(true);
    expect(back.floats).toEqual(value.floats);
    expect(back.bigs).toEqual(value.bigs);
    // A subclass comes back as the built-in class it extends.
    expect(back.pixels).toEqual(new Uint8ClampedArray([1, 2]));
    expect([back.view.byteLength, back.view.getUint8(0), back.view.getUint8(1)]).toEqual([2, 6, 7]);
    expect(new Uint16Array(back.raw)).toEqual(new Uint16Array([513]));
  });

  it('still reads typed arrays stored by earlier versions as lists of numbers', () => {
    const stored = { json: [0.5, 2], meta: { values: [['typed-array', 'Float64Array']] } } as unknown as StoredValue;
    expect(new DefaultSerializer().deserialize(stored)).toEqual(new Float64Array([0.5, 2]));
  });

  it('keeps own keys named __proto__, constructor and prototype, with annotated values inside', () => {
    const parsed = JSON.parse('{"__proto__": {"polluted": true}, "z": 1}') as Record<string, unknown>;
    const value = { parsed, deep: { constructor: new Date(1), prototype: new Map([[1, 2n]]) } };
    const back = roundTrip(value) as typeof value;
    expect(Object.keys(back.parsed)).toEqual(['__proto__', 'z']);
    expect(Object.getPrototypeOf(back.parsed)).toBe(Object.prototype);
    expect(({} as { polluted?: boolean }).polluted).toBeUndefined();
    expect(back.deep).toEqual(value.deep);
  });

  it('names the index of an array element whose getter throws', () => {
    const list: unknown[] = [1];
    Object.defineProperty(list, 0, {
      get: () => {
        throw new Error('lazy');
      },
    });
    expect(() => new DefaultSerializer().serialize({ list }, 'v')).toThrow(
      expect.objectContaining({
        path: '$.list[0]',
        message: expect.stringContaining('getter that threw') as string,
      }) as Error,
    );
  });

  it('keeps an invalid Date invalid', () => {
    const back = roundTrip({ at: new Date('not a date') }) as { at: Date };
    expect(back.at).toBeInstanceOf(Date);
    expect(back.at.getTime()).toBeNaN();
  });

  it('names the path of a getter that throws', () => {
    const value = {
      list: [
        {
          get broken(): never {
            throw new RangeError('not loaded');
          },
        },
      ],
    };
    expect(() => new DefaultSerializer().serialize(value, 'the output of step "x#0"')).toThrow(
      expect.objectContaining({
        name: 'SerializationError',
        path: '$.list[0].broken',
        message: expect.stringContaining('RangeError: not loaded') as string,
      }) as Error,
    );
  });

  it('stores class instances as plain objects whose Dates and BigInts survive', () => {
    const back = roundTrip({ price: new Money(12n, new Date(3)) }) as { price: { cents: bigint; at: Date } };
    expect(back.price).toEqual({ cents: 12n, at: new Date(3) });
    expect(back.price.at).toBeInstanceOf(Date);
  });

  it.each([
    ['a Promise', Promise.resolve(1), 'is a Promise'],
    ['a SharedArrayBuffer', new SharedArrayBuffer(4), 'is a SharedArrayBuffer'],
    ['a WeakMap', new WeakMap(), 'is a WeakMap'],
    ['a boxed string', new String('ab'), 'is a boxed primitive'],
  ])('rejects %s with its path', (_label, value, reason) => {
    expect(() => new DefaultSerializer().serialize({ field: value }, 'v')).toThrow(
      expect.objectContaining({ path: '$.field', message: expect.stringContaining(reason) as string }) as Error,
    );
  });
});

describe('every public Zart error class', () => {
  it('comes back from storage as itself, not as a plain Error', () => {
    const errorClasses = Object.values(zart).filter(
      (value): value is typeof ZartError => typeof value === 'function' && value.prototype instanceof Error,
    );
    expect(errorClasses.length).toBeGreaterThan(15);
    for (const errorClass of errorClasses) {
      // Built without its constructor: only the class matters for rehydration.
      const error = Object.create(errorClass.prototype) as Error;
      Object.defineProperty(error, 'message', { value: 'stored', writable: true, configurable: true });
      // Stored by one process, read by another that never serialized this class itself.
      const stored = JSON.parse(JSON.stringify(new DefaultSerializer().serialize(error, 'an error'))) as StoredValue;
      expect(new DefaultSerializer().deserialize(stored)).toBeInstanceOf(errorClass);
    }
  });
});
