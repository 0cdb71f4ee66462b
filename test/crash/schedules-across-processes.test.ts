import { useTestDatabase } from '../support/test-zart';
import { useCrashHarness } from '../support/crash-harness';
import { waitFor } from '../support/wait-for';
import type { ChildHandle } from '../support/child-process';
import { ScheduledTick } from './fixtures/scheduled-tick.workflow';
import type { CatchUpPolicy } from '../../src';

const db = useTestDatabase();
const { startWorker, kill } = useCrashHarness(db, { ZART_LEASE: '3s', ZART_POLL_INTERVAL: '100ms' });
const policies: CatchUpPolicy[] = ['none', 'latest', 'all'];

interface TickRun {
  tick: number;
  /** When the run row was inserted, by the database clock: the ticker's transaction time. */
  created: number;
  status: string;
}

async function runsOf(name: string): Promise<TickRun[]> {
  const { rows } = await db.sql.query<{ id: string; tick: Date; created: Date; status: string }>(
    'SELECT id, scheduled_at AS tick, created_at AS created, status FROM zart.runs WHERE id LIKE $1 ORDER BY scheduled_at',
    [`schedule:${name}:%`],
  );
  for (const row of rows) expect(row.id).toBe(`schedule:${name}:${row.tick.toISOString()}`);
  return rows.map((row) => ({ tick: row.tick.getTime(), created: row.created.getTime(), status: row.status }));
}

async function databaseNow(): Promise<number> {
  return (await db.sql.query<{ now: Date }>('SELECT clock_timestamp() AS now')).rows[0]!.now.getTime();
}

/** Every second from `from` to `to`, inclusive. */
function seconds(from: number, to: number): number[] {
  return Array.from({ length: Math.round((to - from) / 1000) + 1 }, (_, i) => from + i * 1000);
}

describe('a schedule every second on three worker processes', () => {
  it('starts exactly one run per tick, none missed; after all processes were down for 10 s, each catch-up policy is honoured', async () => {
    const client = await db.client();
    let workers: ChildHandle[] = await Promise.all([0, 1, 2].map(() => startWorker()));
    for (const catchUp of policies) {
      await client.schedule(`every-second-${catchUp}`, '* * * * * *', ScheduledTick, undefined, {
        catchUp,
        overlap: 'allowAll',
      });
    }
    const startedAt = await databaseNow();
    await waitFor(async () => (await databaseNow()) - startedAt >= 20_000, 60_000);

    // All three stop at once, with no shutdown code: nothing ticks for 10 s.
    await Promise.all(workers.map((worker) => kill(worker)));
    const downAt = await databaseNow();
    const before = new Map<CatchUpPolicy, TickRun[]>();
    for (const catchUp of policies) before.set(catchUp, await runsOf(`every-second-${catchUp}`));

    // While all ran: one run per tick, every tick from the first to the last, for the schedule
    // that runs late ticks ('all'); each run executed once, with the tick as its now().
    const steady = before.get('all')!;
    expect(steady.length).toBeGreaterThanOrEqual(15);
    expect(steady.map((run) => run.tick)).toEqual(seconds(steady[0]!.tick, steady.at(-1)!.tick));
    // The other policies missed nothing either: schedule() woke the tickers at once, and three
    // of them kept up, so every tick was on time.
    for (const catchUp of ['none', 'latest'] as const) {
      const ticks = before.get(catchUp)!.map((run) => run.tick);
      expect(ticks.length).toBeGreaterThanOrEqual(15);
      // Scheduled before 'all', so its first tick is no later than that of 'all'.
      expect(ticks[0]!).toBeLessThanOrEqual(steady[0]!.tick);
      expect({ catchUp, ticks }).toEqual({ catchUp, ticks: seconds(ticks[0]!, ticks.at(-1)!) });
    }
    // Counted before the restart: a run killed mid-flight is executed again after it, as designed.
    const executions = await db.sql.query<{ run_id: string; n: number; at: Date; pids: number[] }>(
      "SELECT run_id, count(*)::int AS n, min(at) AS at, array_agg(DISTINCT pid) AS pids FROM effects WHERE run_id LIKE 'schedule:every-second-all:%' GROUP BY run_id",
    );
    const executedPids = new Set(executions.rows.flatMap((row) => row.pids));
    for (const row of executions.rows) {
      expect(row.n).toBe(1);
      expect(row.at.toISOString()).toBe(row.run_id.slice(-24));
    }
    expect(executedPids.size).toBeGreaterThanOrEqual(2);

    await new Promise((resolve) => setTimeout(resolve, 10_000));
    const restartAt = await databaseNow();
    workers = await Promise.all([0, 1, 2].map(() => startWorker()));
    await waitFor(async () => {
      for (const catchUp of policies) {
        const runs = await runsOf(`every-second-${catchUp}`);
        if (runs.filter((run) => run.created > restartAt).length < 4) return false;
      }
      return true;
    }, 60_000);
    await Promise.all(workers.map((worker) => kill(worker)));

    for (const catchUp of policies) {
      const runs = await runsOf(`every-second-${catchUp}`);
      const lastBefore = before.get(catchUp)!.at(-1)!.tick;
      const after = runs.filter((run) => run.created > restartAt);
      // Nothing ran while every process was down.
      expect(runs.filter((run) => run.created > downAt && run.created <= restartAt)).toEqual([]);
      // A run inserted less than a second after its tick fired on time; one inserted later is a
      // missed tick caught up (both times from the database clock, so this is exact).
      const onTime = after.filter((run) => run.created - run.tick < 1000);
      const caughtUp = after.filter((run) => run.created - run.tick >= 1000);
      const firstOnTime = onTime[0]!.tick;
      // The ticks missed: after the last one before the stop, before the first on time after it.
      // At least 9 of the 10 s down: the tick of the second the processes came back in counts as
      // on time when they were up within it (its run less than a second after it), as on a fast
      // machine when the stop fell right after a tick (9 seen once in a README test run).
      const missed = seconds(lastBefore + 1000, firstOnTime - 1000);
      expect(missed.length).toBeGreaterThanOrEqual(9);
      // From the first on-time tick on, every tick has its run.
      expect(onTime.map((run) => run.tick)).toEqual(seconds(firstOnTime, onTime.at(-1)!.tick));
      const expected = catchUp === 'none' ? [] : catchUp === 'latest' ? missed.slice(-1) : missed;
      expect({ catchUp, caughtUp: caughtUp.map((run) => run.tick) }).toEqual({ catchUp, caughtUp: expected });
      // Caught-up runs were started in the restarted processes' first pass, with the first on-time tick.
      for (const run of caughtUp) expect(run.created).toBe(onTime[0]!.created);
      process.stderr.write(
        `schedules: catchUp ${catchUp}: ${before.get(catchUp)!.length} runs before the stop, ${missed.length} ticks missed, ${caughtUp.length} caught up\n`,
      );
    }
  }, 400_000);
});
