import {
  InvalidScheduleError,
  Schedule,
  ScheduleNotFoundError,
  ValidationError,
  Workflow,
  currentRun,
  now,
  waitForEvent,
  type Zart,
} from '../../src';
import { IsPositive } from 'class-validator';
import { useTestDatabase } from '../support/test-zart';
import { waitFor } from '../support/wait-for';

const db = useTestDatabase();

class TickInput {
  @IsPositive() amount!: number;
}

@Workflow({ name: 'record-tick', input: TickInput })
class RecordTick {
  async run(input: TickInput): Promise<{ now: string; scheduledAt: string | null; later: string; amount: number }> {
    const first = await now();
    const later = await now();
    return {
      now: first.toISOString(),
      scheduledAt: currentRun().scheduledAt?.toISOString() ?? null,
      later: later.toISOString(),
      amount: input.amount,
    };
  }
}

// Stays live until it gets the event 'done': the overlap policies see a run still running.
@Workflow({ name: 'held-tick' })
class HeldTick {
  async run(): Promise<string> {
    await waitForEvent('done');
    return 'done';
  }
}

@Schedule('0 0 1 1 *', { name: 'new-year', timezone: 'Pacific/Auckland', overlap: 'allowAll' })
@Workflow({ name: 'declared-by-decorator' })
class NewYear {
  async run(): Promise<void> {}
}

async function runIdsOf(name: string): Promise<string[]> {
  const { rows } = await db.sql.query<{ id: string }>(
    `SELECT id FROM zart.runs WHERE id LIKE $1 ORDER BY scheduled_at`,
    [`schedule:${name}:%`],
  );
  return rows.map((row) => row.id);
}

async function statuses(name: string): Promise<string[]> {
  const { rows } = await db.sql.query<{ status: string }>(
    `SELECT status FROM zart.runs WHERE id LIKE $1 ORDER BY scheduled_at`,
    [`schedule:${name}:%`],
  );
  return rows.map((row) => row.status);
}

describe('schedules', () => {
  let zart: Zart;
  beforeAll(async () => {
    zart = await db.zart();
  });

  it('start a run per tick whose id holds the tick, and whose first now() is the tick', async () => {
    const info = await zart.schedule('every-second', '* * * * * *', RecordTick, { amount: 7 }, { overlap: 'allowAll' });
    expect(info).toMatchObject({
      name: 'every-second',
      workflow: 'record-tick',
      cron: '* * * * * *',
      timezone: 'UTC',
      overlap: 'allowAll',
      catchUp: 'latest',
      paused: false,
      declaredBy: 'api',
    });
    expect(info.nextTickAt!.getMilliseconds()).toBe(0);
    await waitFor(async () => (await runIdsOf('every-second')).length >= 3);
    await zart.unschedule('every-second');
    const [id] = await runIdsOf('every-second');
    const tick = id!.slice('schedule:every-second:'.length);
    expect(new Date(tick).toISOString()).toBe(tick);
    const output = (await zart.getHandle(id!).result({ timeout: '30s' })) as Record<string, unknown>;
    expect(output).toMatchObject({ now: tick, scheduledAt: tick, amount: 7 });
    // Only the first now() is the tick's time; later calls read the clock.
    expect(new Date(output.later as string).getTime()).toBeGreaterThanOrEqual(new Date(tick).getTime());
    expect((await zart.getRun(id!)).scheduledAt).toEqual(new Date(tick));
    // One run per tick: consecutive ticks, no gaps, no duplicates.
    const ticks = (await runIdsOf('every-second')).map((runId) => new Date(runId.slice(-24)).getTime());
    expect(ticks.slice(1).map((t, i) => t - ticks[i]!)).toEqual(ticks.slice(1).map(() => 1000));
  });

  it('list, pause and resume: a paused schedule starts nothing, ticks missed while paused are not caught up', async () => {
    await zart.schedule('pausable', '* * * * * *', RecordTick, { amount: 1 }, { catchUp: 'all', overlap: 'allowAll' });
    await waitFor(async () => (await runIdsOf('pausable')).length >= 1);
    const paused = await zart.pauseSchedule('pausable');
    expect(paused).toMatchObject({ paused: true, nextTickAt: null });
    const before = (await runIdsOf('pausable')).length;
    await new Promise((resolve) => setTimeout(resolve, 2_500));
    // A tick that was being fired while pause() ran may have landed: at most one more.
    const duringPause = (await runIdsOf('pausable')).length;
    expect(duringPause - before).toBeLessThanOrEqual(1);
    const resumedAt = (await db.sql.query<{ now: Date }>('SELECT now()')).rows[0]!.now;
    const resumed = await zart.resumeSchedule('pausable');
    expect(resumed.paused).toBe(false);
    expect(resumed.nextTickAt!.getTime()).toBeGreaterThan(resumedAt.getTime() - 1000);
    await waitFor(async () => (await runIdsOf('pausable')).length > duringPause);
    const after = (await runIdsOf('pausable')).slice(duringPause);
    // The first run after resume() is for a tick after it, not one missed while paused.
    expect(new Date(after[0]!.slice(-24)).getTime()).toBeGreaterThan(resumedAt.getTime() - 1000);
    const listed = (await zart.listSchedules()).find((s) => s.name === 'pausable');
    expect(listed).toMatchObject({ paused: false, workflow: 'record-tick', catchUp: 'all' });
    expect(listed!.lastTickAt).not.toBeNull();
    expect(listed!.lastRunId).toMatch(/^schedule:pausable:/);
    expect(await zart.unschedule('pausable')).toBe(true);
    expect(await zart.unschedule('pausable')).toBe(false);
    await expect(zart.pauseSchedule('pausable')).rejects.toThrow(ScheduleNotFoundError);
    await expect(zart.resumeSchedule('pausable')).rejects.toThrow('No schedule is named "pausable"');
  });

  it("overlap 'skip' starts nothing while the last run is live", async () => {
    await zart.schedule('skipping', '* * * * * *', HeldTick, undefined, { overlap: 'skip' });
    await waitFor(async () => (await runIdsOf('skipping')).length === 1);
    await new Promise((resolve) => setTimeout(resolve, 2_500));
    expect(await runIdsOf('skipping')).toHaveLength(1);
    const [first] = await runIdsOf('skipping');
    await zart.sendEvent(first!, 'done', null);
    await zart.getHandle(first!).result({ timeout: '30s' });
    await waitFor(async () => (await runIdsOf('skipping')).length === 2);
    await zart.unschedule('skipping');
    const ids = await runIdsOf('skipping');
    // The second run is for a tick after the first finished, not one skipped before.
    const finishedAt = (await zart.getRun(first!)).finishedAt!;
    expect(new Date(ids[1]!.slice(-24)).getTime()).toBeGreaterThan(finishedAt.getTime() - 1000);
  });

  it("overlap 'bufferOne' holds one tick back and starts it when the live run has finished", async () => {
    await zart.schedule('buffering', '* * * * * *', HeldTick, undefined, { overlap: 'bufferOne' });
    await waitFor(async () => (await runIdsOf('buffering')).length === 1);
    const [first] = await runIdsOf('buffering');
    await waitFor(async () => (await zart.getSchedule('buffering')).bufferedTickAt !== null);
    const buffered = (await zart.getSchedule('buffering')).bufferedTickAt!;
    // The buffered tick is the one right after the first run's tick.
    expect(buffered.getTime()).toBe(new Date(first!.slice(-24)).getTime() + 1000);
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    expect(await runIdsOf('buffering')).toHaveLength(1);
    await zart.sendEvent(first!, 'done', null);
    await waitFor(async () => (await runIdsOf('buffering')).length === 2);
    await zart.pauseSchedule('buffering');
    const ids = await runIdsOf('buffering');
    expect(ids[1]).toBe(`schedule:buffering:${buffered.toISOString()}`);
    // Its now() is still the tick's time, though it started seconds later.
    await zart.sendEvent(ids[1]!, 'done', null);
    await zart.getHandle(ids[1]!).result({ timeout: '30s' });
    expect((await zart.getRun(ids[1]!)).scheduledAt).toEqual(buffered);
    await zart.unschedule('buffering');
  });

  it("overlap 'allowAll' starts a run for every tick while earlier ones are live", async () => {
    await zart.schedule('overlapping', '* * * * * *', HeldTick, undefined, { overlap: 'allowAll' });
    await waitFor(async () => (await runIdsOf('overlapping')).length >= 3);
    await zart.unschedule('overlapping');
    const live = (await statuses('overlapping')).filter((status) => status !== 'completed');
    expect(live.length).toBeGreaterThanOrEqual(3);
    for (const id of await runIdsOf('overlapping')) await zart.cancel(id);
  });

  it('refuse a bad cron expression, time zone or input with a typed error, and write nothing', async () => {
    await expect(zart.schedule('bad-cron', '61 * * * *', RecordTick, { amount: 1 })).rejects.toThrow(
      InvalidScheduleError,
    );
    await expect(
      zart.schedule('bad-zone', '* * * * *', RecordTick, { amount: 1 }, { timezone: 'Europe/Nowhere' }),
    ).rejects.toMatchObject({
      name: 'InvalidScheduleError',
      schedule: 'bad-zone',
    });
    await expect(zart.schedule('bad-input', '* * * * *', RecordTick, { amount: -1 })).rejects.toThrow(ValidationError);
    await expect(zart.schedule('', '* * * * *', RecordTick, { amount: 1 })).rejects.toThrow(InvalidScheduleError);
    const names = (await zart.listSchedules()).map((s) => s.name);
    expect(names).not.toContain('bad-cron');
    expect(names).not.toContain('bad-zone');
    expect(names).not.toContain('bad-input');
  });

  it('save @Schedule declarations at start, and keep a paused one paused across restarts', async () => {
    expect(await zart.getSchedule('new-year')).toMatchObject({
      workflow: 'declared-by-decorator',
      cron: '0 0 1 1 *',
      timezone: 'Pacific/Auckland',
      overlap: 'allowAll',
      declaredBy: 'decorator',
    });
    // Midnight of January 1st in Auckland (UTC+13 in summer) is 11:00 UTC on December 31st.
    const next = (await zart.getSchedule('new-year')).nextTickAt!;
    expect([next.getUTCMonth(), next.getUTCDate(), next.getUTCHours()]).toEqual([11, 31, 11]);
    await zart.pauseSchedule('new-year');
    const again = await db.zart();
    expect((await again.getSchedule('new-year')).paused).toBe(true);
    expect(NewYear).toBeDefined();
  });
});
