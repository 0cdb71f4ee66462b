// A step that kills its process every time fails its run with CrashLoopError after
// @Workflow({ maxRecoveries }) takeovers in a row, instead of killing worker after worker forever.
import { CrashLoopError, WorkflowFailedError } from '../../src';
import { useCrashHarness } from '../support/crash-harness';
import { useTestDatabase } from '../support/test-zart';
import { EachStepDiesOnce, PoisonStep, PoisonWorkflowCode } from './fixtures/poison-step.workflow';

const db = useTestDatabase();
const { startWorker } = useCrashHarness(db);

// Starts one worker after another, each living until the poison kills it, until the run ends.
async function workUntilFinished(runId: string, maxWorkers: number): Promise<number> {
  const client = await db.client();
  for (let workers = 1; workers <= maxWorkers; workers++) {
    const worker = await startWorker();
    const ended = await Promise.race([
      worker.exited.then(() => false),
      client
        .getHandle(runId)
        .result({ timeout: '60s' })
        .then(
          () => true,
          () => true,
        ),
    ]);
    if (ended) return workers;
  }
  throw new Error(`run ${runId} did not finish with ${maxWorkers} workers`);
}

describe('a step that kills its worker process every time', () => {
  it('fails the run with CrashLoopError after maxRecoveries takeovers, and resume() runs it again', async () => {
    await db.sql.query('CREATE TABLE poison_cured (cured boolean)');
    const client = await db.client();
    await client.startWorkflow(PoisonStep, undefined as never, { id: 'poison-1' });

    // 1 first execution + 2 allowed takeovers die; the 4th worker fails the run without the step.
    expect(await workUntilFinished('poison-1', 6)).toBe(4);
    const error = await client
      .getHandle('poison-1')
      .result({ timeout: '5s' })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(WorkflowFailedError);
    const crashLoop = (error as WorkflowFailedError).cause as CrashLoopError;
    expect(crashLoop).toBeInstanceOf(CrashLoopError);
    expect(crashLoop).toMatchObject({ runId: 'poison-1', stepKey: 'poison#0', recoveries: 3 });
    expect(await client.getRun('poison-1')).toMatchObject({ status: 'failed', recoveries: 3 });
    const executions = (
      await db.sql.query<{ step: number; n: number }>(
        "SELECT step, count(*)::int AS n FROM effects WHERE run_id = 'poison-1' GROUP BY step ORDER BY step",
      )
    ).rows;
    expect(executions).toEqual([
      { step: 1, n: 1 },
      { step: 2, n: 3 },
    ]);

    // Fixed: resume() gives the run a clean count, and the step runs again.
    await db.sql.query('INSERT INTO poison_cured VALUES (true)');
    await client.resume('poison-1');
    expect(await workUntilFinished('poison-1', 1)).toBe(1);
    expect(await client.getHandle('poison-1').result({ timeout: '5s' })).toBe('survived');
  }, 120_000);

  it('fails a run whose workers die outside any step one takeover later, and resume() runs it again', async () => {
    await db.sql.query('CREATE TABLE IF NOT EXISTS poison_cured (cured boolean)');
    await db.sql.query('DELETE FROM poison_cured');
    const client = await db.client();
    await client.startWorkflow(PoisonWorkflowCode, undefined as never, { id: 'poison-code' });

    // maxRecoveries 0: the first execution and 1 takeover die (a step would have failed the run
    // at that takeover); the 3rd worker fails the run before replaying it.
    expect(await workUntilFinished('poison-code', 6)).toBe(3);
    const error = await client
      .getHandle('poison-code')
      .result({ timeout: '5s' })
      .catch((e: unknown) => e);
    const crashLoop = (error as WorkflowFailedError).cause as CrashLoopError;
    expect(crashLoop).toBeInstanceOf(CrashLoopError);
    expect(crashLoop).toMatchObject({ runId: 'poison-code', stepKey: null, recoveries: 2 });
    expect(crashLoop.message).toContain('outside any step');
    const { rows } = await db.sql.query<{ n: number }>(
      "SELECT count(*)::int AS n FROM effects WHERE run_id = 'poison-code' AND step = 1",
    );
    expect(rows).toEqual([{ n: 1 }]);

    await db.sql.query('INSERT INTO poison_cured VALUES (true)');
    await client.resume('poison-code');
    expect(await workUntilFinished('poison-code', 1)).toBe(1);
    expect(await client.getHandle('poison-code').result({ timeout: '5s' })).toBe('survived');
  }, 120_000);

  it('does not count crashes that the run made progress between', async () => {
    const client = await db.client();
    await client.startWorkflow(EachStepDiesOnce, undefined as never, { id: 'dies-once' });
    // Three crashes with maxRecoveries 1, but each after a new checkpoint: the run completes.
    expect(await workUntilFinished('dies-once', 6)).toBe(4);
    expect(await client.getHandle('dies-once').result({ timeout: '5s' })).toBe(3);
    expect(await client.getRun('dies-once')).toMatchObject({ status: 'completed', recoveries: 1 });
  }, 120_000);
});
