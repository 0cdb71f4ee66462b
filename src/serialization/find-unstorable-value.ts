// Finds the first part of a value the serializer cannot store faithfully (a function, a symbol, a
// circular reference, a NUL in a string, a promise, shared memory, a property whose getter throws),
// with its path, so SerializationError can name it. It must read every property the serializer
// will read, so that a getter that throws fails here, where the path is known.
import { types } from 'node:util';

/** Where and why a value cannot be stored. */
export interface UnstorableValue {
  path: string;
  reason: string;
}

export function findUnstorableValue(value: unknown, path = '$', ancestors: object[] = []): UnstorableValue | undefined {
  switch (typeof value) {
    case 'function':
      return { path, reason: 'is a function' };
    case 'symbol':
      return { path, reason: 'is a symbol' };
    case 'string':
      // PostgreSQL's json text rejects the NUL character.
      return value.includes('\u0000') ? { path, reason: 'contains a NUL character (\\u0000)' } : undefined;
    case 'object':
      break;
    default:
      return undefined;
  }
  if (value === null || value instanceof Date || value instanceof RegExp || value instanceof URL) return undefined;
  // Typed arrays, DataViews and ArrayBuffers are stored as their bytes (binary-value.ts).
  if (ArrayBuffer.isView(value) || types.isArrayBuffer(value)) return undefined;
  if (types.isSharedArrayBuffer(value)) {
    return { path, reason: 'is a SharedArrayBuffer, whose sharing cannot be stored (copy it into a Uint8Array)' };
  }
  // new String('ab') would be stored as { 0: 'a', 1: 'b' }, new Number(1) as {}.
  if (types.isBoxedPrimitive(value)) {
    return { path, reason: 'is a boxed primitive (new String(), new Number(), ...); store the primitive value itself' };
  }
  if (value instanceof Promise) return { path, reason: 'is a Promise (await it before returning the value)' };
  if (value instanceof WeakMap || value instanceof WeakSet || value instanceof WeakRef) {
    return { path, reason: `is a ${value.constructor.name}, whose contents cannot be read or stored` };
  }
  if (ancestors.includes(value)) return { path, reason: 'refers back to an enclosing value (a circular reference)' };
  const inside = [...ancestors, value];

  if (value instanceof Map) {
    let index = 0;
    for (const [key, entry] of value) {
      const label = typeof key === 'string' || typeof key === 'number' ? JSON.stringify(key) : `#${index}`;
      const found =
        findUnstorableValue(key, `${path}.keys[${index}]`, inside) ??
        findUnstorableValue(entry, `${path}.get(${label})`, inside);
      if (found) return found;
      index++;
    }
    return undefined;
  }
  if (value instanceof Set) {
    let index = 0;
    for (const entry of value) {
      const found = findUnstorableValue(entry, `${path}.values[${index++}]`, inside);
      if (found) return found;
    }
    return undefined;
  }
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const element = read(value, i, `${path}[${i}]`);
      if ('unstorable' in element) return element.unstorable;
      const found = findUnstorableValue(element.value, `${path}[${i}]`, inside);
      if (found) return found;
    }
    return undefined;
  }
  if (value instanceof Error && 'cause' in value) {
    const found = findUnstorableValue(value.cause, `${path}.cause`, inside);
    if (found) return found;
  }
  for (const key of Object.keys(value)) {
    const property = read(value, key, `${path}.${key}`);
    if ('unstorable' in property) return property.unstorable;
    const found = findUnstorableValue(property.value, `${path}.${key}`, inside);
    if (found) return found;
  }
  return undefined;
}

// A property read that may run a getter that throws.
function read(
  object: object,
  key: string | number,
  path: string,
): { value: unknown } | { unstorable: UnstorableValue } {
  try {
    return { value: (object as Record<string | number, unknown>)[key] };
  } catch (error) {
    return { unstorable: { path, reason: `is a getter that threw: ${describe(error)}` } };
  }
}

function describe(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}
