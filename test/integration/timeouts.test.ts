import { setTimeout as delay } from 'node:timers/promises';
import {
  DeadlineExceededError,
  StepFailedError,
  StepTimeoutError,
  Workflow,
  WorkflowFailedError,
  currentRun,
  currentStep,
  step,
  waitForEvent,
} from '../../src';
import { useTestDatabase } from '../support/test-zart';

const db = useTestDatabase();
const observed: string[] = [];

@Workflow({ name: 'deadline-busy', timeout: '400ms' })
class BusyPastDeadline {
  async run(): Promise<string> {
    const { signal } = currentRun();
    signal.addEventListener('abort', () => observed.push(`run signal: ${(signal.reason as Error).name}`));
    await step('slow', () => delay(1_500, undefined, { ref: false }));
    return 'unreachable';
  }
}

@Workflow({ name: 'deadline-waiting', timeout: '600ms' })
class WaitingPastDeadline {
  async run(): Promise<unknown> {
    return waitForEvent('never');
  }
}

let firstAttempt = true;

@Workflow({ name: 'step-timeout-retried' })
class StepTimeoutRetried {
  async run(): Promise<number> {
    return step(
      'sometimes-hangs',
      async () => {
        const { attempt, signal } = currentStep();
        if (firstAttempt) {
          firstAttempt = false;
          await new Promise((resolve) => signal.addEventListener('abort', resolve, { once: true }));
          observed.push(`attempt ${attempt} aborted: ${(signal.reason as Error).name}`);
          return -1;
        }
        return attempt;
      },
      { timeout: '150ms', retry: { maxAttempts: 2, initialDelay: '10ms' } },
    );
  }
}

@Workflow({ name: 'step-timeout-final' })
class StepTimeoutFinal {
  async run(): Promise<void> {
    await step('hangs', () => delay(2_000, undefined, { ref: false }), { timeout: '100ms' });
  }
}

describe('timeouts', () => {
  it('fail a run past its deadline with DeadlineExceededError and fire its signal', async () => {
    const zart = await db.zart();
    const handle = await zart.startWorkflow(BusyPastDeadline, undefined as never, { id: 'deadline-1' });
    const error = await handle.result({ timeout: '10s' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DeadlineExceededError);
    expect((await zart.getRun('deadline-1')).status).toBe('failed');
    expect(observed).toContain('run signal: DeadlineExceededError');
  });

  it('end a parked wait at the run’s deadline', async () => {
    const zart = await db.zart();
    const handle = await zart.startWorkflow(WaitingPastDeadline, undefined as never, { id: 'deadline-2' });
    await expect(handle.result({ timeout: '10s' })).rejects.toBeInstanceOf(DeadlineExceededError);
  });

  it('bound one step attempt: the timed-out attempt is aborted and retried', async () => {
    const zart = await db.zart();
    const result = await (
      await zart.startWorkflow(StepTimeoutRetried, undefined as never, { id: 'step-timeout-1' })
    ).result({
      timeout: '10s',
    });
    expect(result).toBe(2);
    expect(observed).toContain('attempt 1 aborted: StepTimeoutError');
    expect((await zart.getSteps('step-timeout-1'))[0]).toMatchObject({ status: 'completed', attempts: 2, output: 2 });
  });

  it('fail the step with StepTimeoutError as the cause when no retry is left', async () => {
    const zart = await db.zart();
    const error = (await (
      await zart.startWorkflow(StepTimeoutFinal, undefined as never, { id: 'step-timeout-2' })
    )
      .result({ timeout: '10s' })
      .catch((e: unknown) => e)) as WorkflowFailedError;
    expect(error.cause).toBeInstanceOf(StepFailedError);
    expect((error.cause as StepFailedError).cause).toBeInstanceOf(StepTimeoutError);
  });
});
