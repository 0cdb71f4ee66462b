// A logger for tests: keeps warnings and errors (a test may assert on them), prints nothing.
import type { ZartLogger } from '../../src';

export const logged: Array<{ level: string; message: string; fields?: Record<string, unknown> }> = [];

export const silentLogger: ZartLogger = {
  debug: () => undefined,
  info: () => undefined,
  warn: (message, fields) => void logged.push({ level: 'warn', message, fields }),
  error: (message, fields) => void logged.push({ level: 'error', message, fields }),
};
