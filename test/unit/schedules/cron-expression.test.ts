import { InvalidScheduleError } from '../../../src';
import { CronExpression } from '../../../src/schedules/cron-expression';
import { resolveScheduleOptions } from '../../../src/schedules/schedule-options';

const at = (iso: string): Date => new Date(iso);
const iso = (dates: Array<Date | null>): Array<string | null> => dates.map((d) => d?.toISOString() ?? null);

function nextTicks(cron: CronExpression, from: string, count: number): Array<string | null> {
  const ticks: Array<Date | null> = [];
  let after: Date | null = at(from);
  for (let i = 0; i < count && after; i++) {
    after = cron.nextAfter(after);
    ticks.push(after);
  }
  return iso(ticks);
}

describe('cron expressions', () => {
  it('read 5 fields as minute first and 6 fields as seconds first', () => {
    const minutes = CronExpression.compile('five', '*/5 * * * *', 'UTC');
    expect(nextTicks(minutes, '2026-01-01T00:01:30Z', 2)).toEqual([
      '2026-01-01T00:05:00.000Z',
      '2026-01-01T00:10:00.000Z',
    ]);
    const seconds = CronExpression.compile('six', '*/20 * * * * *', 'UTC');
    expect(nextTicks(seconds, '2026-01-01T00:00:05Z', 3)).toEqual([
      '2026-01-01T00:00:20.000Z',
      '2026-01-01T00:00:40.000Z',
      '2026-01-01T00:01:00.000Z',
    ]);
  });

  it('give the tick strictly after an instant, also when the instant is a tick', () => {
    const cron = CronExpression.compile('every-second', '* * * * * *', 'UTC');
    expect(iso([cron.nextAfter(at('2026-01-01T00:00:10.000Z'))])).toEqual(['2026-01-01T00:00:11.000Z']);
    expect(iso([cron.nextAfter(at('2026-01-01T00:00:10.400Z'))])).toEqual(['2026-01-01T00:00:11.000Z']);
  });

  it('list the latest ticks strictly before an instant, oldest first', () => {
    const cron = CronExpression.compile('every-second', '* * * * * *', 'UTC');
    expect(iso(cron.ticksBefore(at('2026-01-01T00:00:10.000Z'), 3))).toEqual([
      '2026-01-01T00:00:07.000Z',
      '2026-01-01T00:00:08.000Z',
      '2026-01-01T00:00:09.000Z',
    ]);
  });

  it('read the fields in the time zone given', () => {
    const berlin = CronExpression.compile('berlin', '0 9 * * *', 'Europe/Berlin');
    // 09:00 in Berlin is 08:00 UTC in winter and 07:00 UTC in summer.
    expect(nextTicks(berlin, '2026-01-15T12:00:00Z', 1)).toEqual(['2026-01-16T08:00:00.000Z']);
    expect(nextTicks(berlin, '2026-07-15T12:00:00Z', 1)).toEqual(['2026-07-16T07:00:00.000Z']);
    const newYork = CronExpression.compile('ny', '0 0 * * *', 'America/New_York');
    expect(nextTicks(newYork, '2026-01-15T12:00:00Z', 1)).toEqual(['2026-01-16T05:00:00.000Z']);
  });

  describe('across daylight saving time changes (Europe/Berlin: 2026-03-29 02:00 -> 03:00, 2026-10-25 03:00 -> 02:00)', () => {
    it('run a fixed-time job whose time does not exist once, at the end of the gap', () => {
      const cron = CronExpression.compile('dst', '30 2 * * *', 'Europe/Berlin');
      // 2026-03-29 has no 02:30 in Berlin: the job runs at 03:00 CEST (01:00 UTC), then as usual.
      expect(nextTicks(cron, '2026-03-28T12:00:00Z', 2)).toEqual([
        '2026-03-29T01:00:00.000Z',
        '2026-03-30T00:30:00.000Z',
      ]);
    });

    it('run a fixed-time job whose time occurs twice once, at the first occurrence', () => {
      const cron = CronExpression.compile('dst', '30 2 * * *', 'Europe/Berlin');
      // 02:30 occurs at 00:30 UTC (CEST) and at 01:30 UTC (CET): only the first runs.
      expect(nextTicks(cron, '2026-10-24T12:00:00Z', 2)).toEqual([
        '2026-10-25T00:30:00.000Z',
        '2026-10-26T01:30:00.000Z',
      ]);
    });

    it('run an interval job through the repeated hour on both occurrences, and skip the missing hour', () => {
      const cron = CronExpression.compile('dst', '*/30 * * * *', 'Europe/Berlin');
      expect(nextTicks(cron, '2026-10-24T23:45:00Z', 6)).toEqual([
        '2026-10-25T00:00:00.000Z', // 02:00 CEST
        '2026-10-25T00:30:00.000Z', // 02:30 CEST
        '2026-10-25T01:00:00.000Z', // 02:00 CET
        '2026-10-25T01:30:00.000Z', // 02:30 CET
        '2026-10-25T02:00:00.000Z', // 03:00 CET
        '2026-10-25T02:30:00.000Z',
      ]);
      // 01:30 CET is followed by 03:00 CEST: the real time between them is 30 minutes.
      expect(nextTicks(cron, '2026-03-29T00:15:00Z', 3)).toEqual([
        '2026-03-29T00:30:00.000Z', // 01:30 CET
        '2026-03-29T01:00:00.000Z', // 03:00 CEST
        '2026-03-29T01:30:00.000Z',
      ]);
    });
  });

  describe('refuse, with an InvalidScheduleError naming the schedule,', () => {
    const refusal = (cron: unknown, timezone: unknown): InvalidScheduleError => {
      try {
        CronExpression.compile('nightly-report', cron, timezone);
      } catch (error) {
        return error as InvalidScheduleError;
      }
      throw new Error('compile() accepted it');
    };

    it.each([
      ['four fields', '* * * *'],
      ['seven fields', '0 0 0 1 1 * 2030'],
      ['a minute out of range', '61 * * * *'],
      ['garbage', 'every day'],
      ['an empty string', ''],
    ])('%s', (_what, cron) => {
      const error = refusal(cron, 'UTC');
      expect(error).toBeInstanceOf(InvalidScheduleError);
      expect(error.code).toBe('ZART_INVALID_SCHEDULE');
      expect(error.schedule).toBe('nightly-report');
      expect(error.message).toMatch(/^Schedule "nightly-report" is invalid: /);
    });

    it('an unknown time zone', () => {
      const error = refusal('0 9 * * *', 'Mars/Olympus_Mons');
      expect(error).toBeInstanceOf(InvalidScheduleError);
      expect(error.message).toContain(
        `timezone must be an IANA time zone name such as 'UTC' or 'Europe/Berlin', got "Mars/Olympus_Mons"`,
      );
    });

    it('an expression that never fires', () => {
      expect(refusal('0 0 30 2 *', 'UTC').message).toContain('never fires');
    });

    it('unknown options and policies', () => {
      expect(() => resolveScheduleOptions('s', '* * * * *', { overlap: 'queue' })).toThrow(
        'Schedule "s" is invalid: overlap must be one of skip, bufferOne, allowAll, got "queue".',
      );
      expect(() => resolveScheduleOptions('s', '* * * * *', { catchUp: 'some' })).toThrow(
        /catchUp must be one of none, latest, all/,
      );
      expect(() => resolveScheduleOptions('s', '* * * * *', { maxCatchUp: 0 })).toThrow(
        /maxCatchUp must be a whole number/,
      );
      expect(() => resolveScheduleOptions('s', '* * * * *', { timeZone: 'UTC' })).toThrow(/unknown option 'timeZone'/);
    });
  });
});
