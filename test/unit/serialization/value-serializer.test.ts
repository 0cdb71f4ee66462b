import { DefaultSerializer, LargeValueStoreError, ValueTooLargeError, type LargeValueStore } from '../../../src';
import { parseByteSize } from '../../../src/serialization/parse-byte-size';
import { resolveValueOptions } from '../../../src/serialization/resolve-value-options';
import { ValueSerializer } from '../../../src/serialization/value-serializer';

const mapStore = (): LargeValueStore & { values: Map<string, string> } => {
  const values = new Map<string, string>();
  return {
    values,
    put: async (data) => {
      values.set(`k${values.size}`, data);
      return `k${values.size - 1}`;
    },
    get: async (ref) => values.get(ref) ?? '',
  };
};

describe('parseByteSize', () => {
  it.each([
    [0, 0],
    [1500, 1500],
    ['512B', 512],
    ['1kB', 1024],
    ['1.5KiB', 1536],
    ['16MB', 16 * 1024 ** 2],
    ['1 GB', 1024 ** 3],
  ])('reads %p as %p bytes', (size, bytes) => {
    expect(parseByteSize(size as never, 'size')).toBe(bytes);
  });

  it.each([[-1], [1.5], ['lots'], ['12 parsecs'], [NaN]])('refuses %p, naming the option', (size) => {
    expect(() => parseByteSize(size as never, 'limits.maxValueSize')).toThrow(/^limits\.maxValueSize must be/);
  });
});

describe('resolveValueOptions', () => {
  const problemsOf = (options: object): string[] => {
    const problems: string[] = [];
    resolveValueOptions(options, problems);
    return problems;
  };

  it('defaults to a 16 MB limit and no store', () => {
    expect(resolveValueOptions({}, [])).toEqual({ maxValueBytes: 16 * 1024 ** 2, largeValues: null });
  });

  it('defaults the threshold to 256 kB', () => {
    const store = mapStore();
    expect(resolveValueOptions({ largeValues: { store } }, []).largeValues).toEqual({
      thresholdBytes: 256 * 1024,
      store,
    });
  });

  it('reports every problem at once', () => {
    expect(problemsOf({ limits: { maxValueSize: '1MB' }, largeValues: { threshold: '2MB', store: {} } })).toEqual([
      'largeValues.store must be an object with put(data, info) and get(ref) methods.',
      expect.stringContaining(
        'largeValues.threshold (2097152 bytes) must be below limits.maxValueSize (1048576 bytes)',
      ),
    ]);
    expect(problemsOf({ largeValues: { threshold: 10, store: mapStore(), extra: 1 } })).toEqual([
      expect.stringContaining('Unknown option "extra" in largeValues'),
      expect.stringContaining('largeValues.threshold must be at least 1kB'),
    ]);
  });
});

describe('ValueSerializer', () => {
  const settings = (store: LargeValueStore | null, maxValueBytes = 1024 ** 2) => ({
    maxValueBytes,
    largeValues: store && { thresholdBytes: 1024, store },
  });

  it('measures values as the UTF-8 bytes of their stored JSON', () => {
    const values = new ValueSerializer(new DefaultSerializer(), settings(null, 2048));
    const encoded = values.encode('é'.repeat(1000), 'a value');
    expect(encoded.bytes).toBe(Buffer.byteLength(JSON.stringify({ json: 'é'.repeat(1000) })));
    expect(() => values.encode('é'.repeat(1100), 'the payload of event "x"')).toThrow(ValueTooLargeError);
  });

  it('keeps small values in the row and large ones in the store, and reads both back', async () => {
    const store = mapStore();
    const values = new ValueSerializer(new DefaultSerializer(), settings(store));
    const place = { runId: 'r', stepKey: 's#0' };
    const small = await values.store(values.encode({ n: 1n }, 'small'), place);
    expect(store.values.size).toBe(0);
    const large = await values.store(values.encode({ at: new Date(3), text: 'x'.repeat(2000) }, 'large'), place);
    expect(large).toEqual({ 'zart.largeValue': { ref: 'k0', bytes: expect.any(Number) as number } });
    await expect(values.load(small, 'small')).resolves.toEqual({ n: 1n });
    await expect(values.load(large, 'large')).resolves.toEqual({ at: new Date(3), text: 'x'.repeat(2000) });
    // Read synchronously without fetching: a defect, reported as such rather than a wrong value.
    expect(() => values.deserialize(large)).toThrow(LargeValueStoreError);
  });

  it('refuses what the store returns when it is not what was put', async () => {
    const store = mapStore();
    const values = new ValueSerializer(new DefaultSerializer(), settings(store));
    const large = await values.store(values.encode('y'.repeat(2000), 'the output of step "a#0"'), {
      runId: 'r',
      stepKey: 'a#0',
    });
    store.values.set('k0', '"truncated"');
    await expect(values.load(large, 'the output of step "a#0"')).rejects.toThrow(
      /failed to read the output of step "a#0" \(reference "k0"\): Error: get\(\) returned 11 bytes where \d+ were stored/,
    );
  });
});
