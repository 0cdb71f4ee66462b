// Finds the first part of a value the serializer cannot store faithfully (a function, a symbol, a
// circular reference, a NUL in a string), with its path, so SerializationError can name it.

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
  if (ArrayBuffer.isView(value)) return undefined;
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
      const found = findUnstorableValue(value[i], `${path}[${i}]`, inside);
      if (found) return found;
    }
    return undefined;
  }
  if (value instanceof Error && 'cause' in value) {
    const found = findUnstorableValue(value.cause, `${path}.cause`, inside);
    if (found) return found;
  }
  for (const key of Object.keys(value)) {
    const found = findUnstorableValue((value as Record<string, unknown>)[key], `${path}.${key}`, inside);
    if (found) return found;
  }
  return undefined;
}
