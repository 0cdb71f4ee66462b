import { Client } from 'pg';
import {
  ConfigurationError,
  DeadlineExceededError,
  Step,
  WaitTimeoutError,
  Workflow,
  currentStep,
  now,
  sleep,
  startChild,
  step,
  waitForEvent,
} from '../../src';
import { createTestEnvironment, type TestEnvironment } from '../../src/testing';
import { silentLogger } from '../support/silent-logger';
import { useTestEnvironment } from '../support/use-test-environment';
import { waitFor } from '../support/wait-for';

const day = 24 * 60 * 60 * 1000;

@Workflow({ name: 'skip-month-sleep' })
class MonthSleep {
  async run(): Promise<{ before: Date; after: Date }> {
    const before = await now();
    await sleep('30d');
    const after = await now();
    return { before, after };
  }
}

@Workflow({ name: 'skip-event-timeout' })
class EventOrTimeout {
  async run(): Promise<string> {
    try {
      const payload = await waitForEvent<{ by: string }>('email-verified', { timeout: '3d' });
      return `verified by ${payload.by}`;
    } catch (error) {
      if (error instanceof WaitTimeoutError) return 'timed out';
      throw error;
    }
  }
}

class Compliance {
  @Step({ retry: { maxAttempts: 3, backoff: 'exponential', initialDelay: '1h', maxDelay: '1d' } })
  async check(): Promise<string> {
    const { attempt } = currentStep();
    if (attempt < 3) throw new Error(`compliance service unavailable (attempt ${attempt})`);
    return 'approved';
  }
}

@Workflow({ name: 'skip-retry-backoff' })
class RetriedCheck {
  private readonly compliance = new Compliance();

  async run(): Promise<{ verdict: string; before: Date; after: Date }> {
    const before = await now();
    const verdict = await this.compliance.check();
    const after = await now();
    return { verdict, before, after };
  }
}

@Workflow({ name: 'skip-deadline', timeout: '7d' })
class PastItsDeadline {
  async run(): Promise<string> {
    await sleep('10d');
    return 'unreachable';
  }
}

@Workflow({ name: 'skip-long-deadline', timeout: '60d' })
class LongDeadline {
  async run(): Promise<string> {
    await sleep('30d');
    return 'in time';
  }
}

@Workflow({ name: 'skip-child-sleeps' })
class SleepingChild {
  async run(): Promise<string> {
    await sleep('20d');
    return 'child done';
  }
}

@Workflow({ name: 'skip-parent' })
class ParentOfSleeper {
  async run(): Promise<string> {
    const child = await startChild(SleepingChild, undefined as never);
    return `parent saw: ${await child.result()}`;
  }
}

let releaseHeldStep: (() => void) | undefined;

@Workflow({ name: 'skip-held-step' })
class HeldStep {
  async run(): Promise<string> {
    await step('held', () => new Promise<void>((resolve) => (releaseHeldStep = resolve)));
    return 'done';
  }
}

describe('time skipping', () => {
  const testing = useTestEnvironment();
  const env = (): TestEnvironment => testing.env;
  const sql = (): Client => testing.sql;

  async function statusOf(id: string): Promise<string> {
    return (await env().zart.getRun(id)).status;
  }

  it("fast-forwards a workflow through sleep('30d'): result() returns, and now() in the workflow saw 30 days pass", async () => {
    const handle = await env().zart.startWorkflow(MonthSleep, undefined as never, { id: 'month-1' });
    const { before, after } = await env().result(handle, { timeout: '10s' });
    expect(after.getTime() - before.getTime()).toBeGreaterThanOrEqual(30 * day);
    expect(after.getTime() - before.getTime()).toBeLessThan(31 * day);
    const steps = await env().zart.getSteps('month-1');
    expect(steps.map((s) => s.key)).toEqual(['zart.now#0', 'zart.sleep#0', 'zart.now#1']);
  });

  it('skips by an explicit amount with skip(): a parked sleep wakes once its time has been skipped', async () => {
    const handle = await env().zart.startWorkflow(MonthSleep, undefined as never, { id: 'month-2' });
    await env().waitUntilIdle();
    expect(await statusOf('month-2')).toBe('waiting');
    const clockBefore = env().now().getTime();
    await env().skip('29d');
    expect(env().now().getTime() - clockBefore).toBeGreaterThanOrEqual(29 * day);
    // One day short: still asleep.
    await expect(handle.result({ timeout: '300ms' })).rejects.toBeInstanceOf(WaitTimeoutError);
    expect(await statusOf('month-2')).toBe('waiting');
    await env().skip('1d');
    const { before, after } = await handle.result({ timeout: '10s' });
    expect(after.getTime() - before.getTime()).toBeGreaterThanOrEqual(30 * day);
  });

  it('skips to a point in time with skipTo(), and refuses one in the past', async () => {
    const handle = await env().zart.startWorkflow(MonthSleep, undefined as never, { id: 'month-3' });
    await waitFor(async () => (await statusOf('month-3')) === 'waiting');
    await env().skipTo(new Date(env().now().getTime() + 31 * day));
    await expect(handle.result({ timeout: '10s' })).resolves.toBeDefined();
    await expect(env().skipTo(new Date(Date.now() - 1_000))).rejects.toThrow(ConfigurationError);
    await expect(env().skipTo(new Date(Date.now() - 1_000))).rejects.toThrow(/time only moves forward/);
  });

  it('ends an event wait at its timeout once the timeout is skipped', async () => {
    const handle = await env().zart.startWorkflow(EventOrTimeout, undefined as never, { id: 'verify-1' });
    await expect(env().result(handle, { timeout: '10s' })).resolves.toBe('timed out');
  });

  it('leaves an event wait to its event when the event comes first', async () => {
    const handle = await env().zart.startWorkflow(EventOrTimeout, undefined as never, { id: 'verify-2' });
    await env().zart.sendEvent('verify-2', 'email-verified', { by: 'ada' });
    await expect(env().result(handle, { timeout: '10s' })).resolves.toBe('verified by ada');
  });

  it('skips retry back-offs: three attempts an hour and two hours apart, in milliseconds', async () => {
    const handle = await env().zart.startWorkflow(RetriedCheck, undefined as never, { id: 'retry-1' });
    const { verdict, before, after } = await env().result(handle, { timeout: '10s' });
    expect(verdict).toBe('approved');
    // Back-offs of 1 h then 2 h (exponential from 1 h) passed on the workflow's clock.
    expect(after.getTime() - before.getTime()).toBeGreaterThanOrEqual(3 * 60 * 60 * 1000);
    const [check] = (await env().zart.getSteps('retry-1')).filter((s) => s.key === 'Compliance.check#0');
    expect(check).toMatchObject({ status: 'completed', attempts: 3 });
  });

  it('fails a run at its deadline once the deadline is skipped', async () => {
    const handle = await env().zart.startWorkflow(PastItsDeadline, undefined as never, { id: 'deadline-1' });
    await expect(env().result(handle, { timeout: '10s' })).rejects.toBeInstanceOf(DeadlineExceededError);
    expect(await statusOf('deadline-1')).toBe('failed');
  });

  it('keeps a deadline longer than a timer can hold (60 days) and finishes before it', async () => {
    const handle = await env().zart.startWorkflow(LongDeadline, undefined as never, { id: 'long-deadline-1' });
    await expect(env().result(handle, { timeout: '10s' })).resolves.toBe('in time');
  });

  it("skips a child's sleep while its parent waits for the child", async () => {
    const handle = await env().zart.startWorkflow(ParentOfSleeper, undefined as never, { id: 'parent-1' });
    await expect(env().result(handle, { timeout: '10s' })).resolves.toBe('parent saw: child done');
  });

  it('waitUntilIdle() rejects with WaitTimeoutError while a run executes a step', async () => {
    releaseHeldStep = undefined;
    const handle = await env().zart.startWorkflow(HeldStep, undefined as never, { id: 'held-idle' });
    await waitFor(() => releaseHeldStep !== undefined);
    await expect(env().waitUntilIdle({ timeout: '200ms' })).rejects.toBeInstanceOf(WaitTimeoutError);
    releaseHeldStep!();
    await handle.result({ timeout: '10s' });
    await env().waitUntilIdle();
  });

  it('does not move leases: a run executing a step during a skip keeps its lease and is not taken over', async () => {
    releaseHeldStep = undefined;
    const handle = await env().zart.startWorkflow(HeldStep, undefined as never, { id: 'held-1' });
    await waitFor(() => releaseHeldStep !== undefined);
    const lease = async (): Promise<{ lease_expires_at: Date; lease_epoch: number }> =>
      (
        await sql().query<{ lease_expires_at: Date; lease_epoch: number }>(
          "SELECT lease_expires_at, lease_epoch FROM zart.runs WHERE id = 'held-1'",
        )
      ).rows[0]!;
    const before = await lease();
    await env().skip('2d');
    const after = await lease();
    expect(after.lease_epoch).toBe(before.lease_epoch);
    expect(after.lease_expires_at.getTime()).toBeGreaterThanOrEqual(before.lease_expires_at.getTime());
    releaseHeldStep!();
    await expect(handle.result({ timeout: '10s' })).resolves.toBe('done');
    const { rows } = await sql().query("SELECT lease_epoch, recoveries FROM zart.runs WHERE id = 'held-1'");
    expect(rows[0]).toEqual({ lease_epoch: before.lease_epoch, recoveries: 0 });
  });

  it('skips on its own with autoSkip: true, also for a result() awaited on the Zart itself', async () => {
    const auto = await createTestEnvironment({
      connectionString: env().databaseUrl,
      schema: 'auto_skip',
      autoSkip: true,
      logger: silentLogger,
    });
    try {
      const handle = await auto.zart.startWorkflow(MonthSleep, undefined as never, { id: 'month-auto' });
      const { before, after } = await handle.result({ timeout: '10s' });
      expect(after.getTime() - before.getTime()).toBeGreaterThanOrEqual(30 * day);
    } finally {
      await auto.close();
    }
  });

  it('refuses to start with NODE_ENV=production', async () => {
    const previous = process.env.NODE_ENV;
    process.env.NODE_ENV = 'production';
    try {
      await expect(createTestEnvironment({ connectionString: env().databaseUrl, schema: 'never' })).rejects.toThrow(
        /refuses to run with NODE_ENV=production/,
      );
    } finally {
      process.env.NODE_ENV = previous;
    }
    const { rows } = await sql().query("SELECT 1 FROM pg_namespace WHERE nspname = 'never'");
    expect(rows).toEqual([]);
  });

  it('leaves another schema of the same database alone', async () => {
    const other = await createTestEnvironment({
      connectionString: env().databaseUrl,
      schema: 'other_app',
      logger: silentLogger,
    });
    try {
      const elsewhere = await other.zart.startWorkflow(MonthSleep, undefined as never, { id: 'month-elsewhere' });
      await waitFor(async () => (await other.zart.getRun('month-elsewhere')).status === 'waiting');
      const wakeAt = async (): Promise<Date> =>
        (
          await sql().query(
            "SELECT wake_at FROM other_app.steps WHERE run_id = 'month-elsewhere' AND key = 'zart.sleep#0'",
          )
        ).rows[0].wake_at as Date;
      const wakeBefore = await wakeAt();

      const here = await env().zart.startWorkflow(MonthSleep, undefined as never, { id: 'month-here' });
      await env().result(here, { timeout: '10s' });
      await env().skip('60d');

      expect((await wakeAt()).getTime()).toBe(wakeBefore.getTime());
      expect(wakeBefore.getTime() - Date.now()).toBeGreaterThan(29 * day);
      expect((await other.zart.getRun('month-elsewhere')).status).toBe('waiting');
      await expect(elsewhere.result({ timeout: '300ms' })).rejects.toBeInstanceOf(WaitTimeoutError);
      expect(other.now().getTime() - Date.now()).toBeLessThan(1_000);
    } finally {
      await other.close();
    }
  });
});
