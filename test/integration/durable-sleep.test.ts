import { NotInWorkflowError, Workflow, now, randomUUID, sleep, step, type Zart } from '../../src';
import { useTestDatabase } from '../support/test-zart';
import { waitFor } from '../support/wait-for';

const db = useTestDatabase();
const seen: Array<{ at: Date; id: string }> = [];

@Workflow({ name: 'sleep-short' })
class ShortSleep {
  async run(): Promise<string> {
    const at = await now();
    const id = await randomUUID();
    seen.push({ at, id });
    await sleep('300ms');
    return step('after', () => `woke ${id}`);
  }
}

// Its own queue: only the workers of the tests that use it serve it (see retries.test.ts).
@Workflow({ name: 'sleep-long', queue: 'long-sleeps' })
class LongSleep {
  async run(input: { ms: number }): Promise<string> {
    const id = await randomUUID();
    await sleep(input.ms);
    return `woke ${id}`;
  }
}

@Workflow({ name: 'sleep-in-step' })
class SleepInStep {
  async run(): Promise<void> {
    await step('nested', () => sleep('1s'));
  }
}

describe('durable sleep', () => {
  it('waits a short sleep in-process and checkpoints now() and randomUUID()', async () => {
    const zart = await db.zart();
    const result = await (await zart.startWorkflow(ShortSleep, undefined as never, { id: 'short-1' })).result();
    expect(result).toBe(`woke ${seen[0]!.id}`);
    const steps = await zart.getSteps('short-1');
    expect(steps.map((s) => [s.name, s.status])).toEqual([
      ['zart.now', 'completed'],
      ['zart.randomUUID', 'completed'],
      ['zart.sleep', 'sleeping'],
      ['after', 'completed'],
    ]);
    expect(steps[0]!.output).toEqual(seen[0]!.at);
  });

  it('parks a long sleep (no worker holds it) and resumes it at the wake time on any worker', async () => {
    const first = await db.zart({ worker: { maxInProcessWait: '100ms', queues: ['long-sleeps'] } });
    const handle = await first.startWorkflow(LongSleep, { ms: 1_500 }, { id: 'long-1' });
    await waitFor(async () => (await first.getRun('long-1')).status === 'waiting');
    const parked = await db.sql.query(
      "SELECT lease_owner, waiting_for, (available_at - now()) > interval '500 ms' AS later FROM zart.runs WHERE id = 'long-1'",
    );
    expect(parked.rows[0]).toEqual({ lease_owner: null, waiting_for: 'sleep', later: true });
    await first.shutdown(); // the worker that parked it is gone; another resumes it
    const second: Zart = await db.zart({ worker: { maxInProcessWait: '100ms', queues: ['long-sleeps'] } });
    const result = await second.getHandle<string>('long-1').result({ timeout: '20s' });
    const [idStep] = await second.getSteps('long-1');
    expect(result).toBe(`woke ${idStep!.output as string}`);
    const timing = await db.sql.query(
      "SELECT finished_at - created_at >= interval '1500 ms' AS slept FROM zart.runs WHERE id = 'long-1'",
    );
    expect(timing.rows[0].slept).toBe(true);
    void handle;
  });

  it('holds no worker for 5,000 runs sleeping for an hour', async () => {
    const zart = await db.zart({ worker: { maxInProcessWait: '1s', concurrency: 200, queues: ['long-sleeps'] } });
    const ids = Array.from({ length: 5_000 }, (_, i) => `hour-${i}`);
    for (let i = 0; i < ids.length; i += 100) {
      await Promise.all(ids.slice(i, i + 100).map((id) => zart.startWorkflow(LongSleep, { ms: 3_600_000 }, { id })));
    }
    await waitFor(async () => {
      const { rows } = await db.sql.query(
        "SELECT count(*)::int AS n FROM zart.runs WHERE id LIKE 'hour-%' AND status = 'waiting'",
      );
      return rows[0].n === 5_000;
    }, 120_000);
    const { rows } = await db.sql.query(
      "SELECT count(*)::int AS n FROM zart.runs WHERE id LIKE 'hour-%' AND (lease_owner IS NOT NULL OR available_at < created_at + interval '59 minutes')",
    );
    expect(rows[0].n).toBe(0);
    expect((zart as unknown as { worker: { executions: Map<string, unknown> } }).worker.executions.size).toBe(0);
  }, 180_000);

  it('refuses sleep() outside a workflow and inside a step', async () => {
    await expect(sleep('1s')).rejects.toBeInstanceOf(NotInWorkflowError);
    await expect(now()).rejects.toThrow('now() can only be called while a workflow runs');
    const zart = await db.zart();
    const handle = await zart.startWorkflow(SleepInStep, undefined as never, { id: 'sleep-in-step' });
    await expect(handle.result()).rejects.toThrow(/sleep\(\) cannot be called inside step "nested#0"/);
  });
});
