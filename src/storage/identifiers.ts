// What the tables accept as a run id and as an event name, checked before anything is written. A
// parked run lists what it waits for one per line (waiting_for), so neither may hold a line break;
// PostgreSQL text cannot hold a NUL byte (the driver's raw "invalid byte sequence" otherwise).
import { ConfigurationError, RunNotFoundError } from '../errors';
import { showValue } from '../options/show-value';

const maxRunIdLength = 512;

function isStorableRunId(id: string): boolean {
  return id.length > 0 && id.length <= maxRunIdLength && !hasForbiddenCharacter(id);
}

function hasForbiddenCharacter(text: string): boolean {
  return /[\r\n]/.test(text) || text.includes('\u0000');
}

/** Throws ConfigurationError (naming `where`) unless `id` can be the id of a new run. */
export function checkRunId(id: unknown, where: string): asserts id is string {
  if (typeof id !== 'string' || !isStorableRunId(id)) {
    throw new ConfigurationError(
      `${where}: a run id must be a non-empty string of at most ${maxRunIdLength} characters without line breaks or NUL bytes, got ${showValue(id)}. Pass another id.`,
    );
  }
}

/**
 * For methods that look a run up: an id no run can have (empty, too long, a line break or a NUL
 * byte) is answered with RunNotFoundError without asking the database; a non-string is a mistake.
 */
export function checkExistingRunId(id: unknown, where: string): asserts id is string {
  if (typeof id !== 'string') {
    throw new ConfigurationError(`${where}: a run id must be a string, got ${showValue(id)}. Pass the id of a run.`);
  }
  if (!isStorableRunId(id)) throw new RunNotFoundError(id);
}

/** Throws ConfigurationError (naming `where`) unless `name` can be an event name. */
export function checkEventName(name: unknown, where: string): asserts name is string {
  if (typeof name !== 'string' || name.length === 0 || hasForbiddenCharacter(name)) {
    throw new ConfigurationError(
      `${where} needs a non-empty event name without line breaks or NUL bytes, got ${showValue(name)}. Pass another name.`,
    );
  }
}

/** Throws ConfigurationError (naming `where`) unless `id` can name a patch (`patched(id)`). */
export function checkPatchId(id: unknown, where: string): asserts id is string {
  if (typeof id !== 'string' || id.trim().length === 0 || hasForbiddenCharacter(id)) {
    throw new ConfigurationError(
      `${where} needs a non-empty patch id without line breaks or NUL bytes, got ${showValue(id)}. Pass a name for the change, such as 'fraud-check'.`,
    );
  }
}

/** Throws ConfigurationError (naming `where`) unless `key` can be a step key such as `'charge#0'`. */
export function checkStepKey(key: unknown, where: string): asserts key is string {
  if (typeof key !== 'string' || key.length === 0 || key.includes('\u0000')) {
    throw new ConfigurationError(
      `${where} needs a step key such as 'charge#0' (see getSteps()), got ${showValue(key)}. Pass one of the run's step keys.`,
    );
  }
}
