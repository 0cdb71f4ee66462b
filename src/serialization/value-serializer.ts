// The serializer as Zart uses it: the configured Serializer, plus the size limit on stored values
// and the claim check of large values (large-value-store.ts). It measures a value by its JSON text,
// which is what PostgreSQL stores, and reads a value back from that text, so that the caller of a
// step gets exactly what a replay will get. It must never hand a workflow a live object.
import { LargeValueStoreError, SerializationError, ValueTooLargeError } from '../errors';
import type { LargeValueInfo, LargeValueStore } from './large-value-store';
import type { Serializer, StoredValue } from './serializer';

/** @internal The resolved `limits` and `largeValues` options. */
export interface ValueSettings {
  readonly maxValueBytes: number;
  readonly largeValues: { readonly thresholdBytes: number; readonly store: LargeValueStore } | null;
}

/** @internal A serialized value with its JSON text, measured. */
export interface EncodedValue {
  readonly stored: StoredValue;
  readonly text: string;
  readonly bytes: number;
  readonly what: string;
}

/** Where a value goes, for the store's `info`. */
export interface ValuePlace {
  runId: string;
  stepKey: string | null;
}

// The only key of a stored reference. No superjson envelope has it (those have `json`, `meta`).
const referenceKey = 'zart.largeValue';
interface StoredReference {
  [referenceKey]: { ref: string; bytes: number };
}

// A reference is checkpointed in place of the value: a longer one would defeat the point.
const maxReferenceLength = 1_000;

/** @internal */
export class ValueSerializer implements Serializer {
  constructor(
    /** The configured Serializer (the default one, or the application's). */
    readonly serializer: Serializer,
    readonly settings: ValueSettings,
  ) {}

  /**
   * For values that never go to the large-value store: serialized, within the size limit. Errors
   * are not limited: refusing one would lose the record of a failure (a step's output that is an
   * Error goes through encode() and is limited like any output).
   */
  serialize(value: unknown, what: string): StoredValue {
    if (value instanceof Error) return this.serializer.serialize(value, what);
    return this.encode(value, what).stored;
  }

  /** A stored value whose reference (if any) was fetched first; see fetch() and load(). */
  deserialize(stored: StoredValue): unknown {
    if (isReference(stored)) {
      const { ref } = stored[referenceKey];
      // A read path that skipped fetch(): a defect in Zart, not in the application.
      throw new LargeValueStoreError('a large value', ref, new Error('it was read without fetching it first'));
    }
    return this.serializer.deserialize(stored);
  }

  /**
   * Serializes and measures a value (ValueTooLargeError over `limits.maxValueSize`). Measuring
   * costs one JSON.stringify, the text then serves the size check, the large-value store and
   * readBack(), so each of them costs no second serialization.
   */
  encode(value: unknown, what: string): EncodedValue {
    let stored: StoredValue;
    try {
      stored = this.serializer.serialize(value, what);
    } catch (error) {
      // An application's serializer may throw anything: name the value all the same.
      if (error instanceof SerializationError) throw error;
      const reason = `could not be serialized (${error instanceof Error ? error.message : String(error)})`;
      throw new SerializationError(what, '$', reason);
    }
    const text = JSON.stringify(stored);
    const bytes = Buffer.byteLength(text);
    if (bytes > this.settings.maxValueBytes) throw new ValueTooLargeError(what, bytes, this.settings.maxValueBytes);
    return { stored, text, bytes, what };
  }

  /** The value as a replay will get it: read back from the text that is stored. */
  readBack(encoded: EncodedValue): unknown {
    return this.serializer.deserialize(JSON.parse(encoded.text) as StoredValue);
  }

  /** What to write in the row when it is the value itself (no large-value store takes it); else undefined. */
  storedInPlace(encoded: EncodedValue): StoredValue | undefined {
    return this.keptInPlace(encoded) ? encoded.stored : undefined;
  }

  private keptInPlace(encoded: EncodedValue): boolean {
    const large = this.settings.largeValues;
    return !large || encoded.bytes <= large.thresholdBytes;
  }

  /**
   * What to write in the row: the value itself, or, over `largeValues.threshold`, a reference to
   * where the store put it. LargeValueStoreError if the store fails.
   */
  async store(encoded: EncodedValue, place: ValuePlace): Promise<StoredValue> {
    const large = this.settings.largeValues;
    if (!large || this.keptInPlace(encoded)) return encoded.stored;
    const info: LargeValueInfo = { what: encoded.what, ...place, bytes: encoded.bytes };
    let ref: unknown;
    try {
      ref = await large.store.put(encoded.text, info);
    } catch (error) {
      throw new LargeValueStoreError(encoded.what, null, error);
    }
    if (typeof ref !== 'string' || ref.length === 0 || ref.length > maxReferenceLength) {
      const problem = new TypeError(`put() must return a non-empty string of at most ${maxReferenceLength} characters`);
      throw new LargeValueStoreError(encoded.what, null, problem);
    }
    const reference: StoredReference = { [referenceKey]: { ref, bytes: encoded.bytes } };
    return reference as unknown as StoredValue;
  }

  /** The stored value itself: a reference is read from the store (LargeValueStoreError if it fails). */
  async fetch(stored: StoredValue, what: string): Promise<StoredValue> {
    if (!isReference(stored)) return stored;
    const { ref, bytes } = stored[referenceKey];
    const store = this.settings.largeValues?.store;
    let text: string;
    try {
      if (!store) throw new Error('this process has no largeValues.store option; configure the same store here');
      const data = await store.get(ref);
      text = typeof data === 'string' ? data : Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString();
      if (Buffer.byteLength(text) !== bytes) {
        throw new Error(`get() returned ${Buffer.byteLength(text)} bytes where ${bytes} were stored`);
      }
    } catch (error) {
      throw new LargeValueStoreError(what, ref, error);
    }
    return JSON.parse(text) as StoredValue;
  }

  /** fetch() then deserialize(). */
  async load(stored: StoredValue, what: string): Promise<unknown> {
    return this.deserialize(await this.fetch(stored, what));
  }

  /** Fetches the referenced outputs of loaded checkpoint rows, in place and in parallel. */
  async fetchOutputs<Row extends { key: string; output: StoredValue | null }>(
    rows: Iterable<Row>,
    runId: string,
  ): Promise<void> {
    const fetches: Array<Promise<void>> = [];
    for (const row of rows) {
      if (row.output === null || !isReference(row.output)) continue;
      const what = `the output of step "${row.key}" of run "${runId}"`;
      fetches.push(this.fetch(row.output, what).then((output) => void (row.output = output)));
    }
    await Promise.all(fetches);
  }
}

function isReference(stored: StoredValue | null): stored is StoredValue & StoredReference {
  if (typeof stored !== 'object' || stored === null || Array.isArray(stored)) return false;
  const reference = (stored as Record<string, unknown>)[referenceKey];
  return typeof reference === 'object' && reference !== null && Object.keys(stored).length === 1;
}
