import { Client } from 'pg';
import { Step, StepFailedError, Workflow, WorkflowFailedError, currentStep, step } from '../../src';
import { useTestDatabase } from '../support/test-zart';
import { waitFor } from '../support/wait-for';

const db = useTestDatabase();

class PaymentDeclinedError extends Error {
  override name = 'PaymentDeclinedError';
}

const attemptsSeen: number[] = [];
let failuresLeft = 2;

class Flaky {
  @Step({ retry: { maxAttempts: 3, backoff: 'fixed', initialDelay: '50ms' } })
  async charge(cents: number): Promise<string> {
    attemptsSeen.push(currentStep().attempt);
    if (failuresLeft-- > 0) throw new Error('gateway timeout');
    return `charged ${cents}`;
  }
}

@Workflow({ name: 'retry-until-ok' })
class RetryUntilOk {
  private readonly flaky = new Flaky();
  async run(): Promise<string> {
    return this.flaky.charge(500);
  }
}

const sagaLog: string[] = [];

@Workflow({ name: 'retry-saga' })
class Saga {
  async run(): Promise<string> {
    await step('reserve-stock', () => void sagaLog.push('reserved'));
    try {
      await step(
        'charge-card',
        () => {
          sagaLog.push('charge attempt');
          throw new PaymentDeclinedError('card declined');
        },
        { retry: { maxAttempts: 3, initialDelay: '10ms', retryIf: (e) => !(e instanceof PaymentDeclinedError) } },
      );
      return 'paid';
    } catch (error) {
      if (!(error instanceof StepFailedError)) throw error;
      await step('release-stock', () => void sagaLog.push('released'));
      return `compensated after ${error.attempts} attempt(s): ${(error.cause as Error).name}`;
    }
  }
}

let longAttempts: number[] = [];

// Its own queue: only the two workers of its test serve it (the file's other workers would hold
// the back-off in-process, with their default maxInProcessWait).
@Workflow({ name: 'retry-long-backoff', queue: 'long-backoff' })
class LongBackoff {
  async run(): Promise<number> {
    return step(
      'slow-to-recover',
      () => {
        const attempt = currentStep().attempt;
        longAttempts.push(attempt);
        if (attempt < 3) throw new Error(`not yet (${attempt})`);
        return attempt;
      },
      { retry: { maxAttempts: 5, backoff: 'exponential', initialDelay: '600ms', maxDelay: '800ms' } },
    );
  }
}

@Workflow({ name: 'retry-exhausted' })
class Exhausted {
  async run(): Promise<void> {
    await step('always-fails', () => Promise.reject(new RangeError('nope')), {
      retry: { maxAttempts: 2, initialDelay: '10ms' },
    });
  }
}

describe('retries', () => {
  it('retry a failing step until it succeeds, counting attempts', async () => {
    const zart = await db.zart();
    const result = await (await zart.startWorkflow(RetryUntilOk, undefined as never, { id: 'retry-1' })).result();
    expect(result).toBe('charged 500');
    expect(attemptsSeen).toEqual([1, 2, 3]);
    const [checkpoint] = await zart.getSteps('retry-1');
    expect(checkpoint).toMatchObject({ status: 'completed', attempts: 3, output: 'charged 500' });
  });

  it('let the workflow compensate when retries are exhausted or not wanted (a saga)', async () => {
    const zart = await db.zart();
    const result = await (await zart.startWorkflow(Saga, undefined as never, { id: 'saga-1' })).result();
    expect(result).toBe('compensated after 1 attempt(s): PaymentDeclinedError');
    expect(sagaLog).toEqual(['reserved', 'charge attempt', 'released']);
  });

  it('throw StepFailedError with the last error as cause once attempts run out', async () => {
    const zart = await db.zart();
    const error = (await (
      await zart.startWorkflow(Exhausted, undefined as never, { id: 'exhausted-1' })
    )
      .result()
      .catch((e: unknown) => e)) as WorkflowFailedError;
    const failure = error.cause as StepFailedError;
    expect(failure).toBeInstanceOf(StepFailedError);
    expect(failure.attempts).toBe(2);
    expect(failure.cause).toBeInstanceOf(RangeError);
    expect((await zart.getSteps('exhausted-1'))[0]).toMatchObject({ status: 'failed', attempts: 2 });
  });

  it('park the run during a long back-off and continue the attempts on another worker', async () => {
    const sql = new Client({ connectionString: db.url });
    await sql.connect();
    try {
      longAttempts = [];
      const first = await db.zart({ worker: { maxInProcessWait: '100ms', queues: ['long-backoff'] } });
      await first.startWorkflow(LongBackoff, undefined as never, { id: 'long-retry' });
      await waitFor(async () => (await first.getRun('long-retry')).status === 'waiting');
      const row = await sql.query(
        "SELECT status, attempts, wake_at > now() AS later FROM zart.steps WHERE run_id = 'long-retry'",
      );
      expect(row.rows[0]).toEqual({ status: 'retrying', attempts: 1, later: true });
      expect((await sql.query("SELECT waiting_for FROM zart.runs WHERE id = 'long-retry'")).rows[0].waiting_for).toBe(
        'retry',
      );
      await first.shutdown();

      const second = await db.zart({ worker: { maxInProcessWait: '100ms', queues: ['long-backoff'] } });
      expect(await second.getHandle('long-retry').result({ timeout: '20s' })).toBe(3);
      expect(longAttempts).toEqual([1, 2, 3]); // not reset by the change of worker
    } finally {
      await sql.end();
    }
  });

  it('reject a bad policy with the step it belongs to', () => {
    expect(() => {
      class BadPolicy {
        @Step({ retry: { maxAttempts: 0 } }) async x(): Promise<void> {}
      }
      void BadPolicy;
    }).toThrow('Invalid retry policy of @Step() BadPolicy.x: maxAttempts must be a positive integer, got 0.');
  });
});

let workflowFailuresLeft = 1;
const workflowSteps: string[] = [];

@Workflow({ name: 'retry-whole-run', retry: { maxAttempts: 2, initialDelay: '50ms' } })
class RetryWholeRun {
  async run(): Promise<number> {
    await step('prepare', () => void workflowSteps.push('prepare'));
    return step('fragile', () => {
      workflowSteps.push('fragile');
      if (workflowFailuresLeft-- > 0) throw new Error('downstream outage');
      return 42;
    });
  }
}

let resumable = false;

@Workflow({ name: 'retry-resume' })
class NeedsOperator {
  async run(): Promise<string> {
    await step('done-once', () => void workflowSteps.push('done-once'));
    return step('needs-fix', () => {
      if (!resumable) throw new Error('config missing');
      return 'fixed';
    });
  }
}

describe('workflow-level retries and resume()', () => {
  it('run a failed run again from its checkpoints: completed steps are not repeated', async () => {
    const zart = await db.zart();
    const handle = await zart.startWorkflow(RetryWholeRun, undefined as never, { id: 'whole-1' });
    expect(await handle.result({ timeout: '20s' })).toBe(42);
    expect(workflowSteps.filter((s) => s !== 'done-once')).toEqual(['prepare', 'fragile', 'fragile']);
    expect((await zart.getRun('whole-1')).attempt).toBe(2);
  });

  it('resume() a failed run after the cause is fixed, keeping its checkpoints', async () => {
    const zart = await db.zart();
    const handle = await zart.startWorkflow(NeedsOperator, undefined as never, { id: 'resume-1' });
    await expect(handle.result()).rejects.toBeInstanceOf(WorkflowFailedError);
    resumable = true;
    const resumed = await zart.resume<string>('resume-1');
    expect(await resumed.result({ timeout: '20s' })).toBe('fixed');
    expect(workflowSteps.filter((s) => s === 'done-once')).toHaveLength(1);
    const run = await zart.getRun('resume-1');
    expect(run).toMatchObject({ status: 'completed', attempt: 2 });
    await expect(zart.resume('resume-1')).rejects.toThrow('Cannot resume run "resume-1": it is completed');
    await expect(zart.resume('no-such-run')).rejects.toThrow('No run with id "no-such-run"');
  });
});
