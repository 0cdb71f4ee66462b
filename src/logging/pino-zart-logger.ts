// Writes zart's log lines through a pino logger: each line is pino's JSON with zart's fields (run
// id, workflow, step, attempt) as properties beside `msg`. pino is the application's: zart only
// calls the four level methods, so it is not a dependency of zart.
import type { ZartLogger } from './zart-logger';

/** The part of a pino `Logger` zart writes to: `logger.info(fields, message)` and its siblings. */
export interface PinoLogger {
  debug(fields: object, message: string): void;
  info(fields: object, message: string): void;
  warn(fields: object, message: string): void;
  error(fields: object, message: string): void;
}

/**
 * A ZartLogger that writes to `logger`, e.g. `new Zart({ logger: pinoZartLogger(pino()) })`.
 * Lines carry `component: 'zart'` unless `bindings` say otherwise (`logger.child()` is not needed).
 */
export function pinoZartLogger(
  logger: PinoLogger,
  bindings: Record<string, unknown> = { component: 'zart' },
): ZartLogger {
  const fieldsOf = (fields: Record<string, unknown> | undefined): object => ({ ...bindings, ...fields });
  return {
    debug: (message, fields) => logger.debug(fieldsOf(fields), message),
    info: (message, fields) => logger.info(fieldsOf(fields), message),
    warn: (message, fields) => logger.warn(fieldsOf(fields), message),
    error: (message, fields) => logger.error(fieldsOf(fields), message),
  };
}
