// Turns any value a run stored (errors, bigints, maps, sets, dates, undefined) into plain JSON data,
// for what the CLI prints and what the HTTP API answers. Never used to store values: the Serializer
// does that, exactly; this view is for people and scripts and may lose types.

/** How `toPlainJson` shows errors. */
export interface PlainJsonOptions {
  /** Include each error's stack (the dashboard shows it; the CLI's one-line views do not). */
  errorStacks?: boolean | undefined;
}

/** A value as plain JSON data. */
export function toPlainJson(value: unknown, options: PlainJsonOptions = {}): unknown {
  const stacks = options.errorStacks === true;
  function replacer(this: unknown, key: string, value: unknown): unknown {
    // `this[key]` is the value before toJSON(): a Date is already its ISO string in `value`.
    const original = (this as Record<string, unknown>)[key];
    if (typeof original === 'bigint') return original.toString();
    if (original instanceof Error) {
      const { name, message } = original;
      const extra = Object.fromEntries(Object.entries(original));
      return {
        name,
        message,
        ...(stacks && original.stack !== undefined ? { stack: original.stack } : {}),
        ...extra,
        ...(original.cause !== undefined ? { cause: original.cause } : {}),
      };
    }
    if (original instanceof Map) return { $map: [...original.entries()] };
    if (original instanceof Set) return { $set: [...original.values()] };
    if (original === undefined && key !== '') return null;
    return value;
  }
  return JSON.parse(JSON.stringify(value, replacer) ?? 'null') as unknown;
}
