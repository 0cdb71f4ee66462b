// now() and randomUUID() taken before a SIGKILL keep their values when the next worker replays.
import { useTestDatabase } from '../support/test-zart';
import { useCrashHarness } from '../support/crash-harness';
import { DeterministicHelpers, type HelperValues } from './fixtures/deterministic-helpers.workflow';

const db = useTestDatabase();
const { startWorker, kill } = useCrashHarness(db);

describe('now() and randomUUID() taken in a worker that is SIGKILLed later in the run', () => {
  it('return, after replay on the next worker, the values the killed process took, not new ones', async () => {
    await db.sql.query('CREATE TABLE helper_values (run_id text, pid int, taken_at text, uuid text)');
    const client = await db.client();
    const doomed = await startWorker({ ZART_HANG_AT_STEP: 'helpers' });
    await client.startWorkflow(DeterministicHelpers, undefined as never, { id: 'helpers' });
    await doomed.waitForLine('IN_HELPERS_HANG', 20_000);
    await kill(doomed);
    const killedAt = Date.now();

    await startWorker();
    const values = await client.getHandle<HelperValues>('helpers').result({ timeout: '30s' });
    // What the killed process took and wrote down, once: the "record" step is not run again either.
    const { rows } = await db.sql.query<{ pid: number; taken_at: string; uuid: string }>(
      "SELECT pid, taken_at, uuid FROM helper_values WHERE run_id = 'helpers'",
    );
    expect(rows).toEqual([{ pid: doomed.process.pid, taken_at: values.takenAt.toISOString(), uuid: values.uuid }]);
    expect(values.uuid).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    // The call after the crash point is a new value, taken by the next worker.
    expect(values.laterAt.getTime()).toBeGreaterThan(killedAt);

    const steps = await client.getSteps('helpers');
    expect(steps.map((s) => [s.key, s.output])).toEqual([
      ['zart.now#0', values.takenAt],
      ['zart.randomUUID#0', values.uuid],
      ['record#0', undefined],
      ['hang#0', undefined],
      ['zart.now#1', values.laterAt],
    ]);
  }, 60_000);
});
