import { setTimeout as delay } from 'node:timers/promises';
import {
  ConfigurationError,
  InvalidRunStateError,
  RunNotFoundError,
  WaitTimeoutError,
  Workflow,
  WorkflowFailedError,
  sleep,
  step,
  waitForEvent,
} from '../../src';
import { useTestDatabase } from '../support/test-zart';
import { waitFor } from '../support/wait-for';

const db = useTestDatabase();

@Workflow({ name: 'events-approvals' })
class Approvals {
  async run(): Promise<string[]> {
    await step('submitted', () => 'ok');
    const first = await waitForEvent<{ by: string; at: Date }>('approved');
    const second = await waitForEvent<{ by: string; at: Date }>('approved');
    return [`${first.by}@${first.at.toISOString()}`, `${second.by}@${second.at.toISOString()}`];
  }
}

@Workflow({ name: 'events-timeout' })
class TimesOut {
  async run(): Promise<string> {
    try {
      await waitForEvent('never', { timeout: '300ms' });
      return 'got it';
    } catch (error) {
      if (error instanceof WaitTimeoutError) return 'timed out';
      throw error;
    }
  }
}

describe('events', () => {
  it('buffers events sent before the wait and gives the k-th wait the k-th event, exactly once', async () => {
    const client = await db.client();
    await client.startWorkflow(Approvals, undefined as never, { id: 'approvals-1' });
    // Sent before any worker has run the workflow: both are buffered.
    await client.sendEvent('approvals-1', 'approved', { by: 'ada', at: new Date(1) });
    await client.sendEvent('approvals-1', 'approved', { by: 'bob', at: new Date(2) });
    await client.sendEvent('approvals-1', 'approved', { by: 'extra', at: new Date(3) });
    await db.zart();
    const result = await client.getHandle<string[]>('approvals-1').result({ timeout: '20s' });
    expect(result).toEqual([`ada@${new Date(1).toISOString()}`, `bob@${new Date(2).toISOString()}`]);
    const { rows } = await db.sql.query(
      "SELECT payload->'json'->>'by' AS by, consumed_by_key FROM zart.events WHERE run_id = 'approvals-1' ORDER BY id",
    );
    expect(rows).toEqual([
      { by: 'ada', consumed_by_key: 'zart.event:approved#0' },
      { by: 'bob', consumed_by_key: 'zart.event:approved#1' },
      { by: 'extra', consumed_by_key: null },
    ]);
  });

  it('parks a waiting run without a worker and wakes it at once when the event is sent', async () => {
    const zart = await db.zart({ worker: { pollInterval: '30s' } });
    await zart.startWorkflow(Approvals, undefined as never, { id: 'approvals-2' });
    await waitFor(async () => (await zart.getRun('approvals-2')).status === 'waiting');
    const parked = await db.sql.query(
      "SELECT lease_owner, waiting_for, available_at = 'infinity' AS forever FROM zart.runs WHERE id = 'approvals-2'",
    );
    expect(parked.rows[0]).toEqual({ lease_owner: null, waiting_for: 'event:approved', forever: true });

    const client = await db.client();
    await client.sendEvent('approvals-2', 'approved', { by: 'cy', at: new Date(4) });
    await client.sendEvent('approvals-2', 'approved', { by: 'di', at: new Date(5) });
    // With a 30 s poll, only the wake-up explains a prompt finish.
    const result = await client.getHandle<string[]>('approvals-2').result({ timeout: '10s' });
    expect(result).toEqual([`cy@${new Date(4).toISOString()}`, `di@${new Date(5).toISOString()}`]);
  });

  it('throws WaitTimeoutError into the workflow when no event comes in time', async () => {
    const zart = await db.zart();
    const result = await (
      await zart.startWorkflow(TimesOut, undefined as never, { id: 'timeout-1' })
    ).result({ timeout: '20s' });
    expect(result).toBe('timed out');
    const steps = await zart.getSteps('timeout-1');
    expect(steps[0]).toMatchObject({ key: 'zart.event:never#0', status: 'failed' });
    expect(steps[0]!.error).toBeInstanceOf(WaitTimeoutError);
  });

  it('refuses events for unknown or finished runs, writing nothing', async () => {
    const zart = await db.zart();
    await expect(zart.sendEvent('no-such-run', 'approved', {})).rejects.toBeInstanceOf(RunNotFoundError);
    await (await zart.startWorkflow(TimesOut, undefined as never, { id: 'finished-1' })).result({ timeout: '20s' });
    const error = await zart.sendEvent('finished-1', 'late', { x: 1 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidRunStateError);
    expect((error as Error).message).toContain('it is completed');
    const { rows } = await db.sql.query(
      "SELECT count(*)::int AS n FROM zart.events WHERE run_id IN ('finished-1', 'no-such-run')",
    );
    expect(rows[0].n).toBe(0);
    void WorkflowFailedError;
  });
});

@Workflow({ name: 'events-race-deadline' })
class ApprovalOrExpiry {
  async run(input: { expiresIn: '1500ms' | '60s' }): Promise<string> {
    const outcome = await Promise.race([
      waitForEvent<{ by: string }>('approved').then((event) => `approved by ${event.by}`),
      sleep(input.expiresIn).then(() => 'expired'),
    ]);
    return step('record', () => `recorded: ${outcome}`);
  }
}

@Workflow({ name: 'events-race-two-events' })
class FirstOfTwoEvents {
  async run(): Promise<string> {
    return Promise.race([waitForEvent<string>('left'), waitForEvent<string>('right')]);
  }
}

let raceEffects = 0;

@Workflow({ name: 'events-race-then-step' })
class RaceThenStep {
  async run(): Promise<string> {
    await step('warm-up', () => delay(300));
    const won = await Promise.race([waitForEvent('x').then(() => 'event'), sleep('400ms').then(() => 'slept')]);
    return step('effect', async () => {
      raceEffects++;
      await delay(1_000);
      return won;
    });
  }
}

describe('event names and run ids', () => {
  it('refuse line breaks, which would hide a wait from its sender, before writing anything', async () => {
    const client = await db.client();
    await expect(client.sendEvent('any-run', 'order\nshipped', null)).rejects.toThrow(ConfigurationError);
    await expect(client.sendEvent('any-run', 'order\nshipped', null)).rejects.toThrow('without line breaks');
    await expect(client.startWorkflow(TimesOut, undefined as never, { id: 'two\nlines' })).rejects.toThrow(
      ConfigurationError,
    );
    const { rows } = await db.sql.query("SELECT count(*)::int AS n FROM zart.runs WHERE id LIKE 'two%'");
    expect(rows).toEqual([{ n: 0 }]);
  });
});

describe('racing durable waits', () => {
  it('does not go on from a short sleep once the run is being parked (no step runs twice)', async () => {
    const zart = await db.zart();
    const handle = await zart.startWorkflow(RaceThenStep, undefined as never, { id: 'race-then-step' });
    await waitFor(async () => (await zart.getRun('race-then-step')).status === 'running');
    // Another session holds the run row (as a concurrent claim or checkpoint may), so parking the
    // run takes longer than the short sleep that raced the event wait.
    await db.sql.query('BEGIN');
    try {
      await db.sql.query("SELECT 1 FROM zart.runs WHERE id = 'race-then-step' FOR SHARE");
      await delay(1_500);
    } finally {
      await db.sql.query('COMMIT');
    }
    expect(await handle.result({ timeout: '20s' })).toBe('slept');
    expect(raceEffects).toBe(1);
  });

  it('wakes a run parked on an event and a sleep at the sleep’s wake time when no event comes', async () => {
    // Every sleep longer than 100 ms parks the run: the wake time must come from the sleep.
    const zart = await db.zart({ worker: { maxInProcessWait: '100ms', pollInterval: '30s' } });
    const handle = await zart.startWorkflow(ApprovalOrExpiry, { expiresIn: '1500ms' }, { id: 'race-expiry' });
    expect(await handle.result({ timeout: '15s' })).toBe('recorded: expired');
  });

  it('wakes it at once for the event, and the sleep that lost the race does not park it again', async () => {
    const zart = await db.zart({ worker: { maxInProcessWait: '100ms', pollInterval: '30s' } });
    const handle = await zart.startWorkflow(ApprovalOrExpiry, { expiresIn: '60s' }, { id: 'race-approved' });
    await waitFor(async () => (await zart.getRun('race-approved')).status === 'waiting');
    await zart.sendEvent('race-approved', 'approved', { by: 'grace' });
    expect(await handle.result({ timeout: '15s' })).toBe('recorded: approved by grace');
  });

  it('wakes a run racing two events for either of them', async () => {
    const zart = await db.zart({ worker: { pollInterval: '30s' } });
    const handle = await zart.startWorkflow(FirstOfTwoEvents, undefined as never, { id: 'race-two' });
    await waitFor(async () => (await zart.getRun('race-two')).status === 'waiting');
    await zart.sendEvent('race-two', 'right', 'right came first');
    expect(await handle.result({ timeout: '15s' })).toBe('right came first');
    const { rows } = await db.sql.query("SELECT name, consumed_by_key FROM zart.events WHERE run_id = 'race-two'");
    expect(rows).toEqual([{ name: 'right', consumed_by_key: 'zart.event:right#0' }]);
  });
});
