// Validates the `limits` and `largeValues` options of `new Zart(...)` (collecting problems with
// the other options, so all are reported at once) and compiles them for the ValueSerializer.
import type { LargeValueStore } from './large-value-store';
import { parseByteSize, type ByteSize } from './parse-byte-size';
import type { ValueSettings } from './value-serializer';
import { unknownKeys } from '../options/unknown-keys';

/** Option `limits` of `new Zart(...)`. */
export interface LimitsOptions {
  /**
   * The largest value Zart stores, measured as its stored JSON text: a workflow input, a step
   * output, an event payload, a child's input, a run's output or error. Larger ones are refused
   * with ValueTooLargeError. Default `'16MB'`; at most `'1GB'` (PostgreSQL's limit).
   */
  maxValueSize?: ByteSize | undefined;
}

/** Option `largeValues` of `new Zart(...)`: the claim check. */
export interface LargeValuesOptions {
  /** Values larger than this (as stored JSON text) go to `store`. Default `'256kB'`. */
  threshold?: ByteSize | undefined;
  store: LargeValueStore;
}

const defaultMaxValueSize = '16MB';
const defaultThreshold = '256kB';
// PostgreSQL refuses a json value over 1 GB.
const maxStorableBytes = 1024 ** 3;
// A reference with its envelope takes up to about 1 kB: a threshold below that would save nothing.
const minimumBytes = 1024;

/** @internal */
export function resolveValueOptions(
  options: { limits?: LimitsOptions | undefined; largeValues?: LargeValuesOptions | undefined },
  problems: string[],
): ValueSettings {
  const size = (value: ByteSize, what: string): number | undefined => {
    try {
      return parseByteSize(value, what);
    } catch (error) {
      problems.push((error as Error).message);
      return undefined;
    }
  };
  const limits = options.limits ?? {};
  if (typeof limits !== 'object' || limits === null)
    problems.push('limits must be an object such as { maxValueSize: "16MB" }.');
  else unknownKeys(limits, ['maxValueSize'], 'limits', problems);
  const maxValueBytes = size(limits.maxValueSize ?? defaultMaxValueSize, 'limits.maxValueSize') ?? maxStorableBytes;
  if (maxValueBytes < minimumBytes || maxValueBytes > maxStorableBytes) {
    problems.push(`limits.maxValueSize must be between 1kB and 1GB (PostgreSQL's limit), got ${maxValueBytes} bytes.`);
  }

  let largeValues: ValueSettings['largeValues'] = null;
  const large = options.largeValues;
  if (large !== undefined) {
    if (typeof large !== 'object' || large === null) {
      problems.push('largeValues must be an object { store, threshold? }.');
    } else {
      unknownKeys(large, ['threshold', 'store'], 'largeValues', problems);
      const store = large.store as Partial<LargeValueStore> | undefined;
      if (typeof store?.put !== 'function' || typeof store.get !== 'function') {
        problems.push('largeValues.store must be an object with put(data, info) and get(ref) methods.');
      }
      const thresholdBytes = size(large.threshold ?? defaultThreshold, 'largeValues.threshold') ?? minimumBytes;
      if (thresholdBytes < minimumBytes) {
        problems.push(
          `largeValues.threshold must be at least 1kB (a reference takes up to that), got ${thresholdBytes} bytes.`,
        );
      } else if (thresholdBytes >= maxValueBytes) {
        problems.push(
          `largeValues.threshold (${thresholdBytes} bytes) must be below limits.maxValueSize (${maxValueBytes} bytes), ` +
            'which refuses larger values before they reach the store: raise limits.maxValueSize.',
        );
      }
      largeValues = Object.freeze({ thresholdBytes, store: large.store });
    }
  }
  return Object.freeze({ maxValueBytes, largeValues });
}
