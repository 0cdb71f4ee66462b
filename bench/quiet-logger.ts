// The ZartLogger of the benchmarks: drops debug and info lines so a run's output is the table,
// but keeps warnings and errors, which would mean the figures are suspect.
import type { ZartLogger } from 'zart';

export const quietLogger: ZartLogger = {
  debug: () => undefined,
  info: () => undefined,
  warn: (message, fields) => console.warn(`zart warn: ${message}`, fields ?? ''),
  error: (message, fields) => console.error(`zart error: ${message}`, fields ?? ''),
};
