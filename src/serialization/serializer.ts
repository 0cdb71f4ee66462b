// The one Serializer every stored value goes through (inputs, step outputs, errors, results).
// The default is superjson, extended so errors keep their class, stack, cause and own fields.
import SuperJSON from 'superjson';
import type { JSONValue } from 'superjson/dist/types';
import { SerializationError, zartErrorClasses } from '../errors';
import { isBinaryValue, rebuildBinary, storeBinary, type StoredBinary } from './binary-value';
import { findUnstorableValue } from './find-unstorable-value';

/** JSON as stored in the `json` columns. */
export type StoredValue = JSONValue;

/** Turns values into JSON for storage and back; a replay must get back what the first run had. */
export interface Serializer {
  /** `what` names the value in errors, e.g. `output of step "charge#0"`. */
  serialize(value: unknown, what: string): StoredValue;
  deserialize(stored: StoredValue): unknown;
}

/** A class of errors the serializer can rebuild with its prototype. */
export type ErrorClass = abstract new (...args: never[]) => Error;

interface StoredError {
  className: string;
  name: string;
  message: string;
  stack?: string;
  cause?: unknown;
  fields: Record<string, unknown>;
}

const builtInErrors: ErrorClass[] = [
  Error,
  TypeError,
  RangeError,
  ReferenceError,
  SyntaxError,
  EvalError,
  URIError,
  AggregateError,
];

// Own keys superjson refuses in the paths of its annotations ("__proto__ is not allowed as a
// property" when reading the value back) or drops (`__proto__`, which JSON.parse creates).
const reservedKeys = ['__proto__', 'constructor', 'prototype'];

type Envelope = Parameters<SuperJSON['deserialize']>[0];

/**
 * superjson with errors that round-trip by class: `Date`, `BigInt`, `Map`, `Set`, `undefined`,
 * `RegExp`, `URL`, typed arrays and ArrayBuffers come back as they went in. Error classes are found by constructor name among the
 * built-ins, Zart's own, those passed as `errorClasses`, and those this process has serialized.
 */
export class DefaultSerializer implements Serializer {
  private readonly json = new SuperJSON({ dedupe: false });
  private readonly errorClasses = new Map<string, ErrorClass>();

  constructor(errorClasses: readonly ErrorClass[] = []) {
    for (const cls of [...builtInErrors, ...zartErrorClasses, ...errorClasses]) this.errorClasses.set(cls.name, cls);
    this.json.registerCustom<Error, JSONValue>(
      {
        isApplicable: (value): value is Error => value instanceof Error,
        serialize: (error) => this.json.serialize(this.describeError(error)) as unknown as JSONValue,
        deserialize: (stored) => this.rebuildError(this.json.deserialize(stored as unknown as Envelope)),
      },
      'zart.error',
    );
    // superjson has no rule for Buffer (a Uint8Array subclass it would fail to rebuild).
    this.json.registerCustom<Buffer, string>(
      {
        isApplicable: (value): value is Buffer => Buffer.isBuffer(value),
        serialize: (buffer) => buffer.toString('base64'),
        deserialize: (base64) => Buffer.from(base64, 'base64'),
      },
      'zart.buffer',
    );
    this.json.registerCustom<ArrayBufferView | ArrayBuffer, JSONValue>(
      {
        isApplicable: isBinaryValue,
        serialize: (value) => storeBinary(value) as unknown as JSONValue,
        deserialize: (stored) => rebuildBinary(stored as unknown as StoredBinary),
      },
      'zart.binary',
    );
    // superjson stores an invalid Date as null.
    this.json.registerCustom<Date, string>(
      {
        isApplicable: (value): value is Date => value instanceof Date && Number.isNaN(value.getTime()),
        serialize: () => 'Invalid Date',
        deserialize: () => new Date(NaN),
      },
      'zart.invalid-date',
    );
    // A plain object with a reserved own key is stored as its entries, so no annotation path
    // crosses the key; it is rebuilt with defineProperty, which makes `__proto__` an own key again.
    this.json.registerCustom<object, JSONValue>(
      {
        isApplicable: (value): value is object =>
          isPlainObject(value) && reservedKeys.some((key) => Object.hasOwn(value, key)),
        serialize: (value) => this.json.serialize(Object.entries(value)) as unknown as JSONValue,
        deserialize: (stored) => {
          const object = {};
          for (const [key, entry] of this.json.deserialize<Array<[string, unknown]>>(stored as unknown as Envelope)) {
            Object.defineProperty(object, key, { value: entry, writable: true, enumerable: true, configurable: true });
          }
          return object;
        },
      },
      'zart.reserved-keys',
    );
    // superjson leaves instances of unregistered classes to JSON.stringify, which would turn the
    // Dates, Maps and BigInts inside them into strings or throw. They are stored as plain objects
    // (the prototype is not kept), with their contents round-tripping like any other value.
    this.json.registerCustom<object, JSONValue>(
      {
        isApplicable: (value): value is object => isClassInstance(value),
        serialize: (instance) => this.json.serialize({ ...instance }) as unknown as JSONValue,
        deserialize: (stored) => this.json.deserialize<object>(stored as unknown as Envelope),
      },
      'zart.instance',
    );
  }

  serialize(value: unknown, what: string): StoredValue {
    // The commonest outputs, stored exactly as superjson stores them, without its walk: a plain
    // scalar, and undefined (a workflow started without input, a step or run returning nothing).
    if (isStorableScalar(value)) return { json: value };
    if (value === undefined) return storedUndefined();
    // Lists of such scalars too (a batch's ids, inputs and outputs, hashed again on every replay):
    // superjson's walk cost 0.6 ms for 500 numbers.
    const list = Array.isArray(value) ? copyOfScalarList(value) : undefined;
    if (list) return { json: list };
    let stored: StoredValue;
    try {
      const unstorable = findUnstorableValue(value);
      if (unstorable) throw new SerializationError(what, unstorable.path, unstorable.reason);
      stored = this.json.serialize(value) as unknown as StoredValue;
    } catch (error) {
      if (error instanceof SerializationError) throw error;
      // Whatever slipped past findUnstorableValue (a getter that throws only when read twice, a
      // Proxy whose traps throw): still named, never a bare error.
      const reason = `could not be serialized (${error instanceof Error ? error.message : String(error)})`;
      throw new SerializationError(what, '$', reason);
    }
    return stored;
  }

  deserialize(stored: StoredValue): unknown {
    if (isStoredScalar(stored)) return stored.json;
    if (isStoredUndefined(stored)) return undefined;
    return this.json.deserialize(stored as unknown as Envelope);
  }

  private describeError(error: Error): StoredError {
    const cls = error.constructor as ErrorClass;
    // Learn classes as they are thrown, so a replay in this process rebuilds them exactly.
    if (typeof cls === 'function' && !this.errorClasses.has(cls.name)) this.errorClasses.set(cls.name, cls);
    const fields: Record<string, unknown> = {};
    for (const key of Object.keys(error)) fields[key] = (error as unknown as Record<string, unknown>)[key];
    const stored: StoredError = { className: cls.name, name: error.name, message: error.message, fields };
    if (error.stack !== undefined) stored.stack = error.stack;
    if ('cause' in error) stored.cause = error.cause;
    return stored;
  }

  private rebuildError(value: unknown): Error {
    const stored = value as StoredError;
    const cls = this.errorClasses.get(stored.className) ?? Error;
    const error = Object.create(cls.prototype as object) as Error;
    const hidden = (key: string, v: unknown): void => {
      Object.defineProperty(error, key, { value: v, writable: true, configurable: true, enumerable: false });
    };
    hidden('message', stored.message);
    if (stored.stack !== undefined) hidden('stack', stored.stack);
    if ('cause' in stored) hidden('cause', stored.cause);
    if (error.name !== stored.name) hidden('name', stored.name);
    Object.assign(error, stored.fields);
    return error;
  }
}

function isPlainObject(value: unknown): value is object {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const prototype = Object.getPrototypeOf(value) as object | null;
  return prototype === null || prototype === Object.prototype;
}

// Objects superjson does not handle itself: not plain, not an array, not a built-in it knows.
function isClassInstance(value: unknown): boolean {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const prototype = Object.getPrototypeOf(value) as object | null;
  if (prototype === null || prototype === Object.prototype) return false;
  return !(
    value instanceof Date ||
    value instanceof Map ||
    value instanceof Set ||
    value instanceof RegExp ||
    value instanceof URL ||
    value instanceof Error ||
    isBinaryValue(value)
  );
}

// A value superjson stores as `{ json: value }` with no annotation: a string, a boolean, null, or
// a finite number other than -0 (NaN, the infinities and -0 get annotations).
function isPlainJsonScalar(value: unknown): value is string | number | boolean | null {
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return true;
  return typeof value === 'number' && Number.isFinite(value) && !Object.is(value, -0);
}

// Such a scalar that may also be stored: not a string with a NUL, which findUnstorableValue
// refuses (PostgreSQL cannot read it back as text), so it goes the long way and is refused there.
function isStorableScalar(value: unknown): value is string | number | boolean | null {
  return isPlainJsonScalar(value) && !(typeof value === 'string' && value.includes('\u0000'));
}

// superjson's form of undefined, made fresh for each caller (a stored value may be kept and changed).
function storedUndefined(): StoredValue {
  return { json: null, meta: { values: ['undefined'] } };
}

function isStoredUndefined(stored: StoredValue): boolean {
  if (stored === null || typeof stored !== 'object' || Array.isArray(stored)) return false;
  const { json, meta } = stored as { json?: unknown; meta?: { values?: unknown } };
  if (json !== null || Object.keys(stored).length !== 2 || typeof meta !== 'object' || meta === null) return false;
  const { values } = meta;
  return Object.keys(meta).length === 1 && Array.isArray(values) && values.length === 1 && values[0] === 'undefined';
}

// Lists nested deeper than this go to superjson (and no recursion here runs out of stack).
const maxListDepth = 8;

// A copy of `list` when it holds only plain JSON scalars (no NUL in a string, which
// findUnstorableValue refuses) and such lists, each a plain array met once: superjson stores
// exactly `{ json: copy }` for it, no annotation. Else undefined, and superjson decides (a hole,
// undefined, -0, NaN, a Date; an array met twice, which it annotates as one shared reference; an
// element whose getter throws, which its walk reports with the path).
function copyOfScalarList(
  list: readonly unknown[],
  seen = new Set<readonly unknown[]>(),
  depth = 0,
): JSONValue[] | undefined {
  if (depth > maxListDepth || seen.has(list) || Object.getPrototypeOf(list) !== Array.prototype) return undefined;
  seen.add(list);
  try {
    const copy = new Array<JSONValue>(list.length);
    for (let i = 0; i < list.length; i++) {
      const element: unknown = list[i];
      if (Array.isArray(element)) {
        const inner = copyOfScalarList(element, seen, depth + 1);
        if (!inner) return undefined;
        copy[i] = inner;
      } else if (isStorableScalar(element)) {
        copy[i] = element;
      } else {
        return undefined;
      }
    }
    return copy;
  } catch {
    return undefined;
  }
}

// The stored form of such a value: read back without superjson's copy and annotation pass.
function isStoredScalar(stored: StoredValue): stored is { json: string | number | boolean | null } {
  if (stored === null || typeof stored !== 'object' || Array.isArray(stored)) return false;
  const keys = Object.keys(stored);
  return keys.length === 1 && keys[0] === 'json' && isPlainJsonScalar(stored.json);
}
