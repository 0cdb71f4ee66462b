// Workflow deadlines and step timeouts when the worker running them is SIGKILLed.
import { DeadlineExceededError, StepTimeoutError } from '../../src';
import { useTestDatabase } from '../support/test-zart';
import { useCrashHarness } from '../support/crash-harness';
import { waitFor } from '../support/wait-for';
import { DeadlineSteps, HangingAttempts, deadlineTimeoutMs } from './fixtures/timeouts.workflow';

const db = useTestDatabase();
const { startWorker, kill, effects } = useCrashHarness(db);

describe('a run with a workflow timeout whose deadline passes while its worker is dead', () => {
  it('is failed by the next worker with DeadlineExceededError, without running another step', async () => {
    const client = await db.client();
    const doomed = await startWorker({ ZART_HANG_AT_STEP: 'deadline-2' });
    await client.startWorkflow(DeadlineSteps, undefined as never, { id: 'deadline-dead' });
    await doomed.waitForLine('IN_DEADLINE_STEP_2', 20_000);
    await kill(doomed);
    expect((await client.getRun('deadline-dead')).status).toBe('running'); // the doomed worker did not fail it
    const { rows: before } = await db.sql.query<{ deadline_at: Date; timeout_ms: number }>(
      "SELECT deadline_at, (extract(epoch FROM deadline_at - created_at) * 1000)::float8 AS timeout_ms FROM zart.runs WHERE id = 'deadline-dead'",
    );
    expect(before[0]!.timeout_ms).toBe(deadlineTimeoutMs);
    await waitFor(
      async () => (await db.sql.query('SELECT now() > $1 AS past', [before[0]!.deadline_at])).rows[0].past === true,
    );

    // A deadline restarted by the new claim would let this worker run steps 2 and 3 and complete.
    const next = await startWorker();
    const outcome = await client
      .getHandle('deadline-dead')
      .result({ timeout: '30s' })
      .catch((error: unknown) => error);
    expect(outcome).toBeInstanceOf(DeadlineExceededError);
    expect(outcome).toMatchObject({ runId: 'deadline-dead' });
    const run = await client.getRun('deadline-dead');
    expect(run.status).toBe('failed');
    expect(run.error).toBeInstanceOf(DeadlineExceededError);
    const { rows: after } = await db.sql.query<{ deadline_at: Date; failed_after_deadline: boolean }>(
      "SELECT deadline_at, finished_at >= deadline_at AS failed_after_deadline FROM zart.runs WHERE id = 'deadline-dead'",
    );
    expect(after[0]).toEqual({ deadline_at: before[0]!.deadline_at, failed_after_deadline: true });
    expect((await client.getSteps('deadline-dead')).map((s) => [s.key, s.status])).toEqual([
      ['DeadlineEffects.perform#0', 'completed'],
    ]);
    expect(await effects('deadline-dead')).toEqual([
      { run_id: 'deadline-dead', step: 1, pid: doomed.process.pid },
      { run_id: 'deadline-dead', step: 2, pid: doomed.process.pid },
    ]);
    expect(next.process.exitCode).toBeNull();
  }, 60_000);
});

describe('a step with a timeout and retries, its worker SIGKILLed during a hanging attempt', () => {
  it('runs the killed attempt again on the next worker, which times it out and goes on counting', async () => {
    const client = await db.client();
    const doomed = await startWorker();
    await client.startWorkflow(HangingAttempts, undefined as never, { id: 'hanging' });
    // Attempt 1 timed out and was recorded; attempt 2 is hanging when the worker dies.
    await doomed.waitForLine('ATTEMPT_2_STARTED', 20_000);
    await kill(doomed);
    const [between] = await client.getSteps('hanging');
    expect(between).toMatchObject({ key: 'hangs#0', status: 'retrying', attempts: 1 });
    expect(between!.error).toBeInstanceOf(StepTimeoutError);

    const next = await startWorker();
    expect(await client.getHandle('hanging').result({ timeout: '30s' })).toBe(3);
    expect(await client.getSteps('hanging')).toEqual([
      expect.objectContaining({ key: 'hangs#0', status: 'completed', output: 3, attempts: 3 }),
    ]);
    // The killed attempt 2 left no record, so it runs again under its number; attempt 1 does not.
    expect((await effects('hanging')).map(({ step, pid }) => [step, pid])).toEqual([
      [1, doomed.process.pid],
      [2, doomed.process.pid],
      [2, next.process.pid],
      [3, next.process.pid],
    ]);
  }, 60_000);
});
