// A worker SIGKILLed while an event wait with a timeout is pending: the next worker times the wait
// out at the deadline stored when the wait began, not a whole timeout after it took the run over.
import { useCrashHarness } from '../support/crash-harness';
import { useTestDatabase } from '../support/test-zart';
import { waitFor } from '../support/wait-for';
import { EventTimeoutAcrossCrash } from './fixtures/event-timeout.workflow';

const db = useTestDatabase();
const { startWorker, kill } = useCrashHarness(db);

describe('a worker SIGKILLed during waitForEvent({ timeout })', () => {
  it('leaves the stored deadline as it was: the next worker times the wait out on time', async () => {
    const client = await db.client();
    // The successor is started first and held with SIGSTOP, so the time a process takes to start
    // on a loaded machine does not count against the deadline.
    const next = await startWorker();
    next.process.kill('SIGSTOP');
    const doomed = await startWorker({ ZART_HANG_AT_STEP: 'event-timeout-busy' });
    await client.startWorkflow(EventTimeoutAcrossCrash, undefined as never, { id: 'event-timeout' });
    await doomed.waitForLine('IN_BUSY', 20_000);
    // The wait and the busy step start together: the wait's row may commit just after IN_BUSY.
    const recordedWait = async () =>
      db.sql.query<{ wake_at: number }>(
        "SELECT extract(epoch FROM wake_at)::float8 AS wake_at FROM zart.steps WHERE run_id = 'event-timeout' AND key = 'zart.event:never-sent#0' AND status = 'waiting'",
      );
    await waitFor(async () => (await recordedWait()).rowCount === 1, 10_000);
    const recorded = await recordedWait();
    expect(recorded.rows).toHaveLength(1);
    const deadline = recorded.rows[0]!.wake_at;
    await kill(doomed);
    // Half the timeout passes with no worker: a restarted timeout would end ~3 s late.
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    next.process.kill('SIGCONT');

    expect(await client.getHandle('event-timeout').result({ timeout: '60s' })).toBe('timed out');
    const { rows } = await db.sql.query<{ status: string; late_s: number }>(
      `SELECT status, extract(epoch FROM finished_at)::float8 - $1 AS late_s
       FROM zart.steps WHERE run_id = 'event-timeout' AND key = 'zart.event:never-sent#0'`,
      [deadline],
    );
    expect(rows).toHaveLength(1);
    expect(rows[0]!.status).toBe('failed');
    expect(rows[0]!.late_s).toBeGreaterThanOrEqual(0);
    expect(rows[0]!.late_s).toBeLessThan(2);
    // The busy step ran in the doomed process and once more in the next one, no more.
    expect((await db.sql.query("SELECT count(*)::int AS n FROM effects WHERE run_id = 'event-timeout'")).rows).toEqual([
      { n: 2 },
    ]);
  }, 120_000);
});
