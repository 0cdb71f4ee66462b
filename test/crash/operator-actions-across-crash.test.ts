// resume() and fork() executions whose worker is SIGKILLed half-way: the next worker finishes
// them from their checkpoints, never re-running the steps the operator's action kept.
import { WorkflowFailedError } from '../../src';
import { useTestDatabase } from '../support/test-zart';
import { useCrashHarness } from '../support/crash-harness';
import { OperatorSteps } from './fixtures/operator-actions.workflow';

const db = useTestDatabase();
const { startWorker, kill, effects } = useCrashHarness(db);

beforeAll(async () => {
  await db.sql.query('CREATE TABLE failing_steps (run_id text, step int)');
});

// How often each of the five steps ran, and in which processes.
async function executionsPerStep(runId: string): Promise<Array<Array<number | undefined>>> {
  const rows = await effects(runId);
  return [1, 2, 3, 4, 5].map((step) => rows.filter((r) => r.step === step).map((r) => r.pid));
}

describe('resume() of a failed run, its worker SIGKILLed in the middle of the resumed execution', () => {
  it('is completed by the next worker without running steps 1 and 2 again', async () => {
    const client = await db.client();
    await db.sql.query("INSERT INTO failing_steps VALUES ('resumed', 3)");
    const doomed = await startWorker({ ZART_HANG_AT_STEP: 'resumed:4' });
    await client.startWorkflow(OperatorSteps, undefined as never, { id: 'resumed' });
    await expect(client.getHandle('resumed').result({ timeout: '30s' })).rejects.toThrow(WorkflowFailedError);

    await db.sql.query("DELETE FROM failing_steps WHERE run_id = 'resumed'"); // the operator's fix
    await client.resume('resumed');
    await doomed.waitForLine('IN_OPERATOR_STEP_4', 20_000);
    await kill(doomed);

    const next = await startWorker();
    const [d, n] = [doomed.process.pid, next.process.pid];
    const outputs = await client.getHandle<string[]>('resumed').result({ timeout: '30s' });
    // Steps 1-2 come from the first attempt's checkpoints; the crash did not start a third attempt.
    expect(outputs).toEqual([
      `${d}:1:attempt 1`,
      `${d}:2:attempt 1`,
      `${d}:3:attempt 2`,
      `${n}:4:attempt 2`,
      `${n}:5:attempt 2`,
    ]);
    expect(await executionsPerStep('resumed')).toEqual([[d], [d], [d, d], [d, n], [n]]);
    expect(await client.getRun('resumed')).toMatchObject({ status: 'completed', attempt: 2, output: outputs });
  }, 60_000);
});

describe('fork() from step 3, its worker SIGKILLed in step 4 of the fork', () => {
  it('completes the fork on the next worker, reusing steps 1-2 and running each later step once, the killed one twice', async () => {
    const client = await db.client();
    const first = await startWorker();
    await client.startWorkflow(OperatorSteps, undefined as never, { id: 'source' });
    const sourceOutputs = await client.getHandle<string[]>('source').result({ timeout: '30s' });
    await kill(first);
    const sourceSteps = await client.getSteps('source');

    const doomed = await startWorker({ ZART_HANG_AT_STEP: 'forked:4' });
    await client.fork('source', { fromStep: 'OperatorEffects.perform#2', id: 'forked' });
    await doomed.waitForLine('IN_OPERATOR_STEP_4', 20_000);
    await kill(doomed);

    const next = await startWorker();
    const [s, d, n] = [first.process.pid, doomed.process.pid, next.process.pid];
    const outputs = await client.getHandle<string[]>('forked').result({ timeout: '30s' });
    expect(outputs).toEqual([
      `${s}:1:attempt 1`,
      `${s}:2:attempt 1`,
      `${d}:3:attempt 1`,
      `${n}:4:attempt 1`,
      `${n}:5:attempt 1`,
    ]);
    expect(outputs.slice(0, 2)).toEqual(sourceOutputs.slice(0, 2));
    // Steps 1-2 are the source's checkpoints; the step the kill hit ran twice, the others once.
    expect(await executionsPerStep('forked')).toEqual([[], [], [d], [d, n], [n]]);
    expect((await client.getSteps('forked')).map((step) => step.key)).toEqual(
      [0, 1, 2, 3, 4].map((k) => `OperatorEffects.perform#${k}`),
    );
    expect(await client.getRun('forked')).toMatchObject({ status: 'completed', parentId: null, attempt: 1 });

    // The source is untouched.
    expect(await client.getSteps('source')).toEqual(sourceSteps);
    expect(await executionsPerStep('source')).toEqual([[s], [s], [s], [s], [s]]);
  }, 60_000);
});
