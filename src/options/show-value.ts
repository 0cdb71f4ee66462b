// How a value a user passed is quoted in an error message. It must never throw itself: the value
// may be circular, a BigInt or a Symbol, which JSON.stringify rejects.

/** @internal A short, safe rendering of `value` for an error message, e.g. `"10x"`, `null`, `an object`. */
export function showValue(value: unknown): string {
  switch (typeof value) {
    case 'string':
      return JSON.stringify(value.length > 80 ? `${value.slice(0, 80)}...` : value);
    case 'number':
    case 'boolean':
    case 'undefined':
      return String(value);
    case 'bigint':
      return `${value}n`;
    case 'symbol':
      return value.toString();
    case 'function':
      return `a function`;
    default:
      if (value === null) return 'null';
      return Array.isArray(value) ? 'an array' : 'an object';
  }
}
