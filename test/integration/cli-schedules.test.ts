// `zart schedules` and `zart schedules pause|resume <name>` against a database where a worker
// fires the schedules: JSON and table output, and the exit codes (3 for an unknown schedule).
import { Workflow, type Zart } from '../../src';
import { runCli, type CliResult } from '../support/cli-runner';
import { useTestDatabase } from '../support/test-zart';
import { waitFor } from '../support/wait-for';

const db = useTestDatabase();

@Workflow({ name: 'cli-nightly' })
class Nightly {
  async run(): Promise<void> {}
}

const zartCli = (...args: string[]): Promise<CliResult> => runCli(db.url, ...args);

interface ScheduleJson {
  name: string;
  workflow: string;
  cron: string;
  timezone: string;
  paused: boolean;
  nextTickAt: string | null;
  lastTickAt: string | null;
  overlap: string;
  catchUp: string;
}

describe('zart schedules', () => {
  let zart: Zart;
  beforeAll(async () => {
    zart = await db.zart();
  });

  it('says there are none on an empty table', async () => {
    expect(await zartCli('schedules')).toEqual({ code: 0, out: 'No schedules.\n', err: '' });
    expect(JSON.parse((await zartCli('schedules', '--json')).out)).toEqual({ schedules: [] });
  });

  it('lists schedules with their next and last tick, as JSON and as a table', async () => {
    await zart.schedule('nightly', '30 2 * * *', Nightly, undefined, { timezone: 'Europe/Berlin', catchUp: 'none' });
    await zart.schedule('every-second', '* * * * * *', Nightly, undefined, { overlap: 'allowAll' });
    await waitFor(async () => (await zart.getSchedule('every-second')).lastTickAt !== null);
    const listed = JSON.parse((await zartCli('schedules', '--json')).out) as { schedules: ScheduleJson[] };
    expect(listed.schedules.map((s) => s.name)).toEqual(['every-second', 'nightly']);
    const nightly = listed.schedules[1]!;
    expect(nightly).toMatchObject({
      workflow: 'cli-nightly',
      cron: '30 2 * * *',
      timezone: 'Europe/Berlin',
      paused: false,
      lastTickAt: null,
      overlap: 'skip',
      catchUp: 'none',
    });
    // 02:30 in Berlin is 00:30 or 01:30 UTC, depending on daylight saving time.
    expect(nightly.nextTickAt).toMatch(/T0[01]:30:00\.000Z$/);
    expect(listed.schedules[0]!.lastTickAt).not.toBeNull();

    const table = await zartCli('schedules');
    expect(table.code).toBe(0);
    const lines = table.out.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^NAME +WORKFLOW +CRON +TIMEZONE +NEXT TICK +LAST TICK +STATE +OVERLAP +CATCH-UP$/);
    expect(lines[2]).toMatch(/^nightly +cli-nightly +30 2 \* \* \* +Europe\/Berlin +\S+Z +- +active +skip +none$/);
    await zart.unschedule('every-second');
  });

  it('pauses and resumes a schedule by name', async () => {
    const paused = await zartCli('schedules', 'pause', 'nightly');
    expect(paused).toEqual({ code: 0, out: 'Schedule nightly paused.\n', err: '' });
    expect((await zart.getSchedule('nightly')).paused).toBe(true);
    const listed = JSON.parse((await zartCli('schedules', '--json')).out) as { schedules: ScheduleJson[] };
    expect(listed.schedules[0]).toMatchObject({ name: 'nightly', paused: true, nextTickAt: null });
    expect((await zartCli('schedules')).out).toMatch(/nightly .* paused /);

    const resumed = await zartCli('schedules', 'resume', 'nightly', '--json');
    expect(resumed.code).toBe(0);
    const { schedule } = JSON.parse(resumed.out) as { schedule: ScheduleJson };
    expect(schedule).toMatchObject({ name: 'nightly', paused: false });
    expect(schedule.nextTickAt).not.toBeNull();
    expect((await zart.getSchedule('nightly')).paused).toBe(false);
  });

  it('exits 3 for an unknown schedule and 2 for a missing name', async () => {
    const unknown = await zartCli('schedules', 'pause', 'no-such');
    expect(unknown.code).toBe(3);
    expect(unknown.err).toBe(
      'zart: No schedule is named "no-such". List the schedules with listSchedules() (or `zart schedules`) and pass one of their names.\n',
    );
    expect((await zartCli('schedules', 'resume', 'no-such')).code).toBe(3);
    const missing = await zartCli('schedules', 'pause');
    expect(missing.code).toBe(2);
    expect(missing.err).toContain("missing required argument 'name'");
  });
});
