import { CronExpression } from '../../../src/schedules/cron-expression';
import type { CatchUpPolicy, OverlapPolicy } from '../../../src/schedules/schedule-options';
import { planTicks, type TickState } from '../../../src/schedules/tick-plan';

const everySecond = CronExpression.compile('every-second', '* * * * * *', 'UTC');
const daily = CronExpression.compile('daily', '0 0 * * *', 'UTC');
const t = (seconds: number): Date => new Date(Date.UTC(2026, 0, 1, 0, 0, seconds));
const seconds = (dates: Date[]): number[] => dates.map((d) => (d.getTime() - t(0).getTime()) / 1000);

function plan(overrides: Partial<TickState> & { catchUp?: CatchUpPolicy; overlap?: OverlapPolicy }) {
  return planTicks({
    cron: everySecond,
    overlap: 'allowAll',
    catchUp: 'latest',
    maxCatchUp: 100,
    nextTickAt: t(10),
    bufferedTickAt: null,
    lastRunLive: false,
    now: t(10.05),
    ...overrides,
  });
}

describe('which ticks start a run', () => {
  it('fires the tick that is due, and moves on to the next one', () => {
    const result = plan({});
    expect(seconds(result.fire)).toEqual([10]);
    expect(result.nextTickAt).toEqual(t(11));
    expect(result.lastTickAt).toEqual(t(10));
    expect(result.skipped).toBe(0);
  });

  it('fires nothing before the next tick is due', () => {
    const result = plan({ nextTickAt: t(11) });
    expect(result.fire).toEqual([]);
    expect(result.lastTickAt).toBeNull();
    expect(result.nextTickAt).toEqual(t(11));
  });

  describe('after a downtime (ticks 10 to 19 missed, now just after 20)', () => {
    const after = { nextTickAt: t(10), now: t(20.3) };

    it("catchUp 'none' fires only the current tick", () => {
      const result = plan({ ...after, catchUp: 'none' });
      expect(seconds(result.fire)).toEqual([20]);
      expect(result.missed).toBeGreaterThanOrEqual(1);
      expect(result.skipped).toBe(0);
    });

    it("catchUp 'latest' fires the latest missed tick and the current one", () => {
      expect(seconds(plan({ ...after, catchUp: 'latest' }).fire)).toEqual([19, 20]);
    });

    it("catchUp 'all' fires every missed tick, oldest first, and the current one", () => {
      expect(seconds(plan({ ...after, catchUp: 'all' }).fire)).toEqual([10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20]);
    });

    it("catchUp 'all' fires at most maxCatchUp missed ticks, the latest ones", () => {
      expect(seconds(plan({ ...after, catchUp: 'all', maxCatchUp: 3 }).fire)).toEqual([17, 18, 19, 20]);
    });

    it('counts a tick more than a minute late as missed', () => {
      // A daily tick at midnight, seen at 00:02: missed, so 'none' runs nothing until tomorrow.
      const midnight = new Date(Date.UTC(2026, 0, 2));
      const state = { cron: daily, nextTickAt: midnight, now: new Date(midnight.getTime() + 120_000) };
      expect(plan({ ...state, catchUp: 'none' }).fire).toEqual([]);
      expect(plan({ ...state, catchUp: 'latest' }).fire).toEqual([midnight]);
      expect(plan({ ...state, catchUp: 'none' }).nextTickAt).toEqual(new Date(Date.UTC(2026, 0, 3)));
      // Seen 50 s late it is on time.
      expect(plan({ ...state, catchUp: 'none', now: new Date(midnight.getTime() + 50_000) }).fire).toEqual([midnight]);
    });
  });

  describe('while the run of the last tick is still live', () => {
    it("overlap 'skip' fires nothing", () => {
      const result = plan({ overlap: 'skip', lastRunLive: true });
      expect(result.fire).toEqual([]);
      expect(result.bufferedTickAt).toBeNull();
      expect(result.skipped).toBe(1);
      expect(result.nextTickAt).toEqual(t(11));
    });

    it("overlap 'bufferOne' holds the first tick back and skips later ones", () => {
      const first = plan({ overlap: 'bufferOne', lastRunLive: true });
      expect(first.fire).toEqual([]);
      expect(first.bufferedTickAt).toEqual(t(10));
      const second = plan({
        overlap: 'bufferOne',
        lastRunLive: true,
        bufferedTickAt: t(10),
        nextTickAt: t(11),
        now: t(11.1),
      });
      expect(second.fire).toEqual([]);
      expect(second.bufferedTickAt).toEqual(t(10));
      expect(second.skipped).toBe(1);
    });

    it("overlap 'bufferOne' fires the held tick once the live run has finished", () => {
      const result = plan({
        overlap: 'bufferOne',
        lastRunLive: false,
        bufferedTickAt: t(10),
        nextTickAt: t(12),
        now: t(11.5),
      });
      expect(seconds(result.fire)).toEqual([10]);
      expect(result.bufferedTickAt).toBeNull();
    });

    it("overlap 'bufferOne' fires the held tick and buffers the tick due with it", () => {
      const result = plan({
        overlap: 'bufferOne',
        lastRunLive: false,
        bufferedTickAt: t(10),
        nextTickAt: t(12),
        now: t(12.1),
      });
      expect(seconds(result.fire)).toEqual([10]);
      expect(result.bufferedTickAt).toEqual(t(12));
    });

    it("overlap 'allowAll' fires every tick", () => {
      expect(seconds(plan({ overlap: 'allowAll', lastRunLive: true, now: t(12.2), catchUp: 'all' }).fire)).toEqual([
        10, 11, 12,
      ]);
    });

    it("overlap 'skip' with catchUp 'all' fires only the first of the ticks caught up", () => {
      expect(seconds(plan({ overlap: 'skip', now: t(12.2), catchUp: 'all' }).fire)).toEqual([10]);
    });
  });
});
