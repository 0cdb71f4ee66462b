// The logger interface Zart writes to, and the console default. Never pass payloads or secrets:
// fields are ids, names, counts and durations.

/** Structured logger; `fields` hold ids, names and numbers, never payloads. */
export interface ZartLogger {
  debug(message: string, fields?: Record<string, unknown>): void;
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

/** Writes info and above to the console; debug only when ZART_DEBUG is set. */
export const consoleLogger: ZartLogger = {
  debug: (message, fields) => {
    if (process.env.ZART_DEBUG) console.debug(`[zart] ${message}`, fields ?? '');
  },
  info: (message, fields) => console.info(`[zart] ${message}`, fields ?? ''),
  warn: (message, fields) => console.warn(`[zart] ${message}`, fields ?? ''),
  error: (message, fields) => console.error(`[zart] ${message}`, fields ?? ''),
};

/**
 * @internal A logger that adds `fields` to every line (a run's id, workflow and attempt; a step's
 * key and attempt), so each line about a run can be found by them. The line's own fields win.
 */
export function withLogFields(logger: ZartLogger, fields: Record<string, unknown>): ZartLogger {
  return {
    debug: (message, own) => logger.debug(message, { ...fields, ...own }),
    info: (message, own) => logger.info(message, { ...fields, ...own }),
    warn: (message, own) => logger.warn(message, { ...fields, ...own }),
    error: (message, own) => logger.error(message, { ...fields, ...own }),
  };
}
