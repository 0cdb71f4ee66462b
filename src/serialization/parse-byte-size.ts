// Byte sizes in options: a number of bytes, or a string such as '512kB' or '16MB'. Units are
// powers of 1024 whatever their spelling (kB, KB, KiB), as they are for PostgreSQL's settings.

/** A number of bytes, or a string such as `'512kB'`, `'16MB'`, `'1GB'` (units of 1024). */
export type ByteSize = number | `${number}${'B' | 'kB' | 'KB' | 'KiB' | 'MB' | 'MiB' | 'GB' | 'GiB'}`;

const units: Record<string, number> = {
  b: 1,
  kb: 1024,
  kib: 1024,
  mb: 1024 ** 2,
  mib: 1024 ** 2,
  gb: 1024 ** 3,
  gib: 1024 ** 3,
};

/** The size in bytes; throws a plain message (the caller collects problems) when it is not one. */
export function parseByteSize(size: ByteSize, what: string): number {
  if (typeof size === 'number') {
    if (Number.isSafeInteger(size) && size >= 0) return size;
    throw new Error(`${what} must be a whole number of bytes or a string such as '16MB', got ${String(size)}.`);
  }
  const match = typeof size === 'string' ? /^(\d+(?:\.\d+)?)\s*([a-z]+)$/i.exec(size.trim()) : null;
  const factor = match ? units[match[2]!.toLowerCase()] : undefined;
  if (!match || factor === undefined) {
    throw new Error(
      `${what} must be a number of bytes or a string such as '512kB' or '16MB', got ${JSON.stringify(size)}.`,
    );
  }
  return Math.floor(Number(match[1]) * factor);
}
