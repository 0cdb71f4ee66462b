// What a schedule is declared with (@Schedule, schedule()) and what listSchedules() returns, and
// the check that turns the options into the values stored in the schedules table.
import { InvalidScheduleError } from '../errors';
import { showValue } from '../options/show-value';
import { CronExpression } from './cron-expression';

/**
 * What a tick does while the run of an earlier tick is still pending, running or waiting:
 * `skip` starts nothing, `bufferOne` starts one run as soon as that run has finished (further
 * ticks meanwhile are skipped), `allowAll` starts a run for every tick regardless.
 */
export type OverlapPolicy = 'skip' | 'bufferOne' | 'allowAll';

/**
 * What happens to ticks missed while no worker process ran (or none could keep up): `none` runs
 * none of them, `latest` runs the latest one, `all` runs every one of them, oldest first (at most
 * `maxCatchUp`, the latest ones). A tick at most a minute late is on time, not missed.
 */
export type CatchUpPolicy = 'none' | 'latest' | 'all';

/** Options of `schedule()` and `@Schedule()`. */
export interface ScheduleOptions {
  /** The IANA time zone the cron expression is read in, e.g. `'Europe/Berlin'`. Default `'UTC'`. */
  timezone?: string | undefined;
  /** See OverlapPolicy. Default `'skip'`. */
  overlap?: OverlapPolicy | undefined;
  /** See CatchUpPolicy. Default `'latest'`. */
  catchUp?: CatchUpPolicy | undefined;
  /** With `catchUp: 'all'`, the most missed ticks run after downtime (the latest ones). Default 100. */
  maxCatchUp?: number | undefined;
}

/** Options of `@Schedule()`: a schedule's options, plus its name and the input of its runs. */
export interface ScheduleDeclarationOptions extends ScheduleOptions {
  /** The schedule's name (unique among schedules). Default: the workflow's name. */
  name?: string | undefined;
  /** The input every run gets, validated like startWorkflow's at start(). Default: none. */
  input?: unknown;
}

/** A schedule as listSchedules() reports it. */
export interface ScheduleInfo {
  name: string;
  workflow: string;
  cron: string;
  timezone: string;
  overlap: OverlapPolicy;
  catchUp: CatchUpPolicy;
  maxCatchUp: number;
  paused: boolean;
  /** When the next tick is due (database clock); null while paused. */
  nextTickAt: Date | null;
  /** The latest tick fired or skipped, or null before the first. */
  lastTickAt: Date | null;
  /** The run the latest fired tick started (`schedule:<name>:<ISO tick>`), or null. */
  lastRunId: string | null;
  /** With overlap `bufferOne`: the tick waiting for the running one to finish, else null. */
  bufferedTickAt: Date | null;
  /** `decorator` (@Schedule, kept in step with the code at start()) or `api` (schedule()). */
  declaredBy: 'decorator' | 'api';
}

/** @internal The checked options, as stored. */
export interface ResolvedScheduleOptions {
  readonly cron: CronExpression;
  readonly overlap: OverlapPolicy;
  readonly catchUp: CatchUpPolicy;
  readonly maxCatchUp: number;
}

const overlapPolicies: readonly OverlapPolicy[] = ['skip', 'bufferOne', 'allowAll'];
const catchUpPolicies: readonly CatchUpPolicy[] = ['none', 'latest', 'all'];
const optionKeys = ['timezone', 'overlap', 'catchUp', 'maxCatchUp', 'name', 'input'];
// A run id is `schedule:<name>:<ISO tick>` and may be 512 characters long.
const maxNameLength = 200;

/** @internal Throws InvalidScheduleError unless `name` can name a schedule. */
export function checkScheduleName(name: unknown): asserts name is string {
  if (
    typeof name !== 'string' ||
    name.length === 0 ||
    name.length > maxNameLength ||
    /[\r\n]/.test(name) ||
    name.includes('\u0000')
  ) {
    throw new InvalidScheduleError(
      typeof name === 'string' ? name.slice(0, maxNameLength) : String(name),
      `a schedule name must be a non-empty string of at most ${maxNameLength} characters without line breaks or NUL bytes, got ${showValue(name)}. Pass another name.`,
    );
  }
}

/** @internal Checks a schedule's cron expression and options; InvalidScheduleError names it. */
export function resolveScheduleOptions(name: string, cron: unknown, options: unknown): ResolvedScheduleOptions {
  if (options === null || typeof options !== 'object' || Array.isArray(options)) {
    throw new InvalidScheduleError(
      name,
      `the options must be an object such as { timezone: 'UTC' }, got ${showValue(options)}.`,
    );
  }
  const given = options as ScheduleDeclarationOptions;
  const unknown = Object.keys(given).filter((key) => !optionKeys.includes(key));
  if (unknown.length > 0) {
    throw new InvalidScheduleError(
      name,
      `unknown option ${unknown.map((key) => `'${key}'`).join(', ')}. The options are timezone, overlap, catchUp and maxCatchUp.`,
    );
  }
  const overlap = given.overlap ?? 'skip';
  if (!overlapPolicies.includes(overlap)) {
    throw new InvalidScheduleError(
      name,
      `overlap must be one of ${overlapPolicies.join(', ')}, got ${showValue(overlap)}.`,
    );
  }
  const catchUp = given.catchUp ?? 'latest';
  if (!catchUpPolicies.includes(catchUp)) {
    throw new InvalidScheduleError(
      name,
      `catchUp must be one of ${catchUpPolicies.join(', ')}, got ${showValue(catchUp)}.`,
    );
  }
  const maxCatchUp = given.maxCatchUp ?? 100;
  if (!Number.isInteger(maxCatchUp) || maxCatchUp < 1 || maxCatchUp > 10_000) {
    throw new InvalidScheduleError(
      name,
      `maxCatchUp must be a whole number from 1 to 10000, got ${showValue(maxCatchUp)}.`,
    );
  }
  return { cron: CronExpression.compile(name, cron, given.timezone ?? 'UTC'), overlap, catchUp, maxCatchUp };
}

/** @internal The id of the run a schedule starts for a tick: the same in every process. */
export function scheduledRunId(name: string, tick: Date): string {
  return `schedule:${name}:${tick.toISOString()}`;
}
