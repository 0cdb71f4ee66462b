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
    expect(() => new DefaultSerializer().serialize(new Map([['k', () => 1]]), 'v')).toThrow(
      /\$\.get\("k"\) is a function/,
    );
  });

  it('allows the same object twice when it is not circular', () => {
    const shared = { id: 1 };
    expect(roundTrip([shared, shared])).toEqual([{ id: 1 }, { id: 1 }]);
  });

  it('keeps errors recognisable across two copies of the library (brand + name)', () => {
    const foreign = Object.assign(Object.create(Error.prototype) as object, {});
    Object.defineProperty(foreign, Symbol.for('zart.error'), { value: true });
    expect(foreign instanceof LeaseLostError).toBe(false);
    expect(new LeaseLostError('r') instanceof ZartError).toBe(true);
  });
});
