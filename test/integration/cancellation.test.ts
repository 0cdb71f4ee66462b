import {
  InvalidRunStateError,
  RunNotFoundError,
  Workflow,
  WorkflowCancelledError,
  currentRun,
  currentStep,
  step,
  waitForEvent,
} from '../../src';
import { useTestDatabase } from '../support/test-zart';
import { waitFor } from '../support/wait-for';

const db = useTestDatabase();
const log: string[] = [];
let stepStarted: () => void = () => undefined;

@Workflow({ name: 'cancel-long-step' })
class LongStep {
  async run(): Promise<string> {
    const runSignal = currentRun().signal;
    await step('long', async () => {
      const { signal } = currentStep();
      stepStarted();
      await new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
      log.push(`step saw abort: ${(signal.reason as Error).name}; run signal aborted: ${runSignal.aborted}`);
    });
    await step('after', () => void log.push('after ran'));
    return 'finished';
  }
}

@Workflow({ name: 'cancel-waiting' })
class Waiting {
  async run(): Promise<unknown> {
    return waitForEvent('never-sent');
  }
}

describe('cancellation', () => {
  it('fires the abort signals of the in-flight step and stops the run at the step boundary', async () => {
    const zart = await db.zart();
    const started = new Promise<void>((resolve) => (stepStarted = resolve));
    const handle = await zart.startWorkflow(LongStep, undefined as never, { id: 'cancel-1' });
    await started;
    await zart.cancel('cancel-1');
    await expect(handle.result({ timeout: '10s' })).rejects.toBeInstanceOf(WorkflowCancelledError);
    await waitFor(() => log.length > 0);
    expect(log).toEqual(['step saw abort: WorkflowCancelledError; run signal aborted: true']);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(log).not.toContain('after ran');
    expect((await zart.getSteps('cancel-1')).map((s) => s.key)).toEqual([]);
    expect((await zart.getRun('cancel-1')).status).toBe('cancelled');
  });

  it('cancels a parked run, which no worker ever resumes and which takes no events', async () => {
    const zart = await db.zart();
    await zart.startWorkflow(Waiting, undefined as never, { id: 'cancel-2' });
    await waitFor(async () => (await zart.getRun('cancel-2')).status === 'waiting');
    await zart.cancel('cancel-2');
    await expect(zart.getHandle('cancel-2').result()).rejects.toThrow('Run "cancel-2" was cancelled');
    await expect(zart.sendEvent('cancel-2', 'never-sent', 1)).rejects.toBeInstanceOf(InvalidRunStateError);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect((await zart.getRun('cancel-2')).status).toBe('cancelled');
  });

  it('refuses to cancel unknown or finished runs', async () => {
    const zart = await db.zart();
    await expect(zart.cancel('no-such-run')).rejects.toBeInstanceOf(RunNotFoundError);
    await expect(zart.cancel('cancel-1')).rejects.toThrow('Cannot cancel run "cancel-1": it is cancelled');
  });
});
