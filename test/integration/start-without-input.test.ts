// A workflow whose run() takes no input is started, and started as a child, without an input
// argument (the types allow it: see test/types/start-without-input.ts); options still apply.
import { Workflow, Zart, currentRun, startChild } from '../../src';
import { useTestDatabase } from '../support/test-zart';

const db = useTestDatabase();

@Workflow({ name: 'nightly-report' })
class NightlyReport {
  async run(): Promise<{ rows: number; runId: string }> {
    return Promise.resolve({ rows: 3, runId: currentRun().id });
  }
}

@Workflow({ name: 'report-batch' })
class ReportBatch {
  async run(): Promise<number> {
    const child = await startChild(NightlyReport);
    return (await child.result()).rows * 2;
  }
}

let zart: Zart;
beforeAll(async () => {
  zart = await db.zart();
});

test('startWorkflow(NoInputWorkflow) starts a run that completes with the workflow output', async () => {
  const handle = await zart.startWorkflow(NightlyReport);
  await expect(handle.result({ timeout: '30s' })).resolves.toEqual({ rows: 3, runId: handle.id });
  const run = await zart.getRun(handle.id);
  expect(run.input).toBeUndefined();
});

test('options still apply after an omitted input: the run gets the given id', async () => {
  const handle = await zart.startWorkflow(NightlyReport, undefined, { id: 'nightly-2026-11-30' });
  expect(handle.id).toBe('nightly-2026-11-30');
  await expect(handle.result({ timeout: '30s' })).resolves.toEqual({ rows: 3, runId: 'nightly-2026-11-30' });
});

test('startChild(NoInputWorkflow) inside a workflow starts the child without an input', async () => {
  const handle = await zart.startWorkflow(ReportBatch);
  await expect(handle.result({ timeout: '30s' })).resolves.toBe(6);
});
