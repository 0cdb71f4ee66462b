// What the tables accept as a run id and as an event name, checked before anything is written. A
// parked run lists what it waits for one per line (waiting_for), so neither may hold a line break.
import { ConfigurationError } from '../errors';

/** Throws ConfigurationError (naming `where`) unless `id` can be a run id. */
export function checkRunId(id: unknown, where: string): asserts id is string {
  if (typeof id !== 'string' || id.length === 0 || id.length > 512 || /[\r\n]/.test(id)) {
    throw new ConfigurationError(
      `${where}: a run id must be a non-empty string of at most 512 characters without line breaks, got ${JSON.stringify(id)}.`,
    );
  }
}

/** Throws ConfigurationError (naming `where`) unless `name` can be an event name. */
export function checkEventName(name: unknown, where: string): asserts name is string {
  if (typeof name !== 'string' || name.length === 0 || /[\r\n]/.test(name)) {
    throw new ConfigurationError(
      `${where} needs a non-empty event name without line breaks, got ${JSON.stringify(name)}.`,
    );
  }
}
