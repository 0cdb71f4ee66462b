// A schedule's cron expression in its time zone, compiled once by croner (a maintained parser with
// no dependencies): the ticks after a given instant. DST follows croner, as docs/queues-and-schedules.md says.
import { Cron } from 'croner';
import { InvalidScheduleError } from '../errors';
import { showValue } from '../options/show-value';

/** @internal A compiled cron expression: ticks are instants (Dates in UTC). */
export class CronExpression {
  private constructor(
    private readonly cron: Cron,
    readonly expression: string,
    readonly timezone: string,
  ) {}

  /**
   * Compiles `expression` (5 fields, minute first, or 6 with seconds first) in `timezone` (an IANA
   * name). InvalidScheduleError, naming the schedule, for anything croner refuses, an unknown
   * time zone, or an expression that never fires.
   */
  static compile(schedule: string, expression: unknown, timezone: unknown): CronExpression {
    if (typeof expression !== 'string' || expression.trim() === '') {
      throw new InvalidScheduleError(
        schedule,
        `the cron expression must be a non-empty string such as '*/5 * * * *' (5 fields) or '0 */5 * * * *' (6 fields, seconds first), got ${showValue(expression)}.`,
      );
    }
    if (typeof timezone !== 'string' || !isTimeZone(timezone)) {
      throw new InvalidScheduleError(
        schedule,
        `timezone must be an IANA time zone name such as 'UTC' or 'Europe/Berlin', got ${showValue(timezone)}. Pass one that Intl.supportedValuesOf('timeZone') lists.`,
      );
    }
    let cron: Cron;
    try {
      cron = new Cron(expression, { timezone, paused: true, mode: '5-or-6-parts' });
    } catch (error) {
      const reason = error instanceof Error ? error.message.replace(/^CronPattern: /, '') : String(error);
      throw new InvalidScheduleError(
        schedule,
        `cannot parse the cron expression '${expression}': ${reason}. Use 5 fields (minute hour day-of-month month day-of-week) or 6 with seconds first.`,
      );
    }
    const compiled = new CronExpression(cron, expression, timezone);
    if (compiled.nextAfter(new Date()) === null) {
      throw new InvalidScheduleError(schedule, `the cron expression '${expression}' never fires. Check its fields.`);
    }
    return compiled;
  }

  /** The first tick strictly after `instant`, or null if there is none. */
  nextAfter(instant: Date): Date | null {
    return this.cron.nextRun(instant);
  }

  /** The latest `limit` ticks strictly before `instant`, oldest first. */
  ticksBefore(instant: Date, limit: number): Date[] {
    return this.cron.previousRuns(limit, instant).reverse();
  }
}

function isTimeZone(name: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: name });
    return name.length > 0;
  } catch {
    return false;
  }
}
