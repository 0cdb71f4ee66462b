// Checks the options of startWorkflow() that place a run in its queue (priority, partition key,
// de-duplication key, delayed start) before anything is written; a bad one is a ConfigurationError
// naming the option, never a driver error or a silently ignored value.
import { parseDuration, type Duration } from '../duration/parse-duration';
import { ConfigurationError } from '../errors';
import { showValue } from '../options/show-value';
import type { RunPlacement } from '../storage/sql/insert-run';

/** The options of startWorkflow() that say when and in which order a run starts. */
export interface RunPlacementOptions {
  /** Higher runs of a queue are claimed first; equal ones in the order they became due. Default 0. */
  priority?: number | undefined;
  /** Runs of a queue with one key share its `partitionConcurrency`. */
  partitionKey?: string | undefined;
  /** While a run of this workflow with this key is pending, running or waiting, a start with it throws RunDeduplicatedError. */
  deduplicationKey?: string | undefined;
  /** Start no earlier than this long from now (database clock). Not with `startAt`. */
  delay?: Duration | undefined;
  /** Start no earlier than this time. Not with `delay`. */
  startAt?: Date | undefined;
}

// Both keys live in indexes, whose entries PostgreSQL caps at about 2.7 kB.
const maxKeyLength = 512;
const minPriority = -(2 ** 31);
const maxPriority = 2 ** 31 - 1;

/** @internal */
export function resolveRunPlacement(options: RunPlacementOptions, where: string): RunPlacement {
  const { priority, partitionKey, deduplicationKey, delay, startAt } = options;
  if (
    priority !== undefined &&
    (typeof priority !== 'number' || !Number.isInteger(priority) || priority < minPriority || priority > maxPriority)
  ) {
    throw new ConfigurationError(
      `${where}: priority must be an integer from ${minPriority} to ${maxPriority} (higher starts first), got ${showValue(priority)}.`,
    );
  }
  if (delay !== undefined && startAt !== undefined) {
    throw new ConfigurationError(`${where}: pass either delay or startAt, not both.`);
  }
  if (startAt !== undefined && !(startAt instanceof Date && !Number.isNaN(startAt.getTime()))) {
    throw new ConfigurationError(`${where}: startAt must be a valid Date, got ${showValue(startAt)}.`);
  }
  return {
    priority: priority ?? 0,
    partitionKey: key(partitionKey, 'partitionKey', where),
    deduplicationKey: key(deduplicationKey, 'deduplicationKey', where),
    delayMs: delay === undefined ? null : parseDuration(delay, `${where}: delay`),
    startAt: startAt ?? null,
  };
}

function key(value: unknown, name: string, where: string): string | null {
  if (value === undefined) return null;
  if (typeof value !== 'string' || value.length === 0 || value.length > maxKeyLength || value.includes('\u0000')) {
    throw new ConfigurationError(
      `${where}: ${name} must be a non-empty string of at most ${maxKeyLength} characters without NUL bytes, got ${showValue(value)}.`,
    );
  }
  return value;
}
