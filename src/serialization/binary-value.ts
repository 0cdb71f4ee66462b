// How binary data other than Buffer is stored: typed arrays, DataViews and ArrayBuffers as their
// raw bytes in base64. superjson's own rule stores a Float64Array as a JSON array of numbers,
// which turns NaN, Infinity and -0 into 0 and cannot hold a BigInt64Array at all; bytes are exact.
import { types } from 'node:util';

type BinaryClass = new (buffer: ArrayBuffer) => ArrayBufferView;

const classes = new Map<string, BinaryClass>(
  [
    Int8Array,
    Uint8Array,
    Uint8ClampedArray,
    Int16Array,
    Uint16Array,
    Int32Array,
    Uint32Array,
    Float32Array,
    Float64Array,
    BigInt64Array,
    BigUint64Array,
    DataView,
  ].map((cls): [string, BinaryClass] => [cls.name, cls]),
);

/** A typed array, DataView or ArrayBuffer as stored: its class and its bytes (platform byte order). */
export interface StoredBinary {
  type: string;
  base64: string;
}

/** Typed arrays (subclasses store as their built-in class), DataViews, ArrayBuffers; not Buffer. */
export function isBinaryValue(value: unknown): value is ArrayBufferView | ArrayBuffer {
  // util.types, not instanceof: the `buffer` of a typed array may come from another realm (Node's
  // own, under jest or vm), where `instanceof ArrayBuffer` is false.
  return (ArrayBuffer.isView(value) && !Buffer.isBuffer(value)) || types.isArrayBuffer(value);
}

/** Only the bytes a view shows are kept: a subarray comes back as an array of its own. */
export function storeBinary(value: ArrayBufferView | ArrayBuffer): StoredBinary {
  if (types.isArrayBuffer(value)) return { type: 'ArrayBuffer', base64: Buffer.from(value).toString('base64') };
  const bytes = Buffer.from(value.buffer, value.byteOffset, value.byteLength);
  const type = types.isDataView(value) ? 'DataView' : builtInName(value);
  return { type, base64: bytes.toString('base64') };
}

export function rebuildBinary(stored: StoredBinary): ArrayBufferView | ArrayBuffer {
  const bytes = Buffer.from(stored.base64, 'base64');
  // A fresh buffer of exactly these bytes: Buffer.from may return a slice of a shared pool.
  const buffer = new ArrayBuffer(bytes.length);
  bytes.copy(new Uint8Array(buffer));
  if (stored.type === 'ArrayBuffer') return buffer;
  const cls = classes.get(stored.type);
  if (!cls) throw new TypeError(`Unknown stored binary type "${stored.type}"`);
  return new cls(buffer);
}

// The built-in class of a typed array, also for a subclass (`class Pixels extends Uint8Array`) or
// one from another realm: %TypedArray%.prototype[Symbol.toStringTag] reports the built-in name.
function builtInName(value: ArrayBufferView): string {
  return Object.prototype.toString.call(value).slice(8, -1);
}
