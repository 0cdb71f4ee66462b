// A worker whose event loop stalls past its lease (a long synchronous computation, a GC pause)
// keeps executing each run once: it never takes its own run over, and a run it parked and
// claimed again is not stopped by a renewal that was asked about the earlier execution.
import { Step, Workflow, sleep, type ZartOptions } from '../../src';
import { logged } from '../support/silent-logger';
import { useTestDatabase } from '../support/test-zart';

const db = useTestDatabase();

/** Executions of each step, by run id and step name. */
const executions = new Map<string, number>();
const stalled = new Set<string>();

function busyWait(ms: number): void {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    // the event loop is blocked: no timer, no renewal, no reply is handled meanwhile
  }
}

class SlowSteps {
  @Step()
  async work(runId: string, n: number): Promise<number> {
    const key = `${runId}:${n}`;
    executions.set(key, (executions.get(key) ?? 0) + 1);
    // The first execution of step 1 of each run blocks the event loop for 5 leases.
    if (n === 1 && !stalled.has(runId)) {
      stalled.add(runId);
      busyWait(1_500);
    }
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    return n;
  }
}

@Workflow({ name: 'stall-four-steps', queue: 'stalls' })
class FourSlowSteps {
  private readonly steps = new SlowSteps();

  async run(input: { id: string }): Promise<number> {
    let sum = 0;
    for (let n = 0; n < 4; n++) sum += await this.steps.work(input.id, n);
    return sum;
  }
}

@Workflow({ name: 'stall-many-parks', queue: 'parks' })
class ManyParks {
  async run(): Promise<string> {
    // Every sleep parks the run (maxInProcessWait: 0) and the same worker claims it again, while
    // lease renewals run every 50 ms.
    for (let i = 0; i < 40; i++) await sleep(1);
    return 'done';
  }
}

describe('a worker whose event loop stalls past its lease', () => {
  // ZART_STALL_TRIES=20 repeats the scenario (each try takes about 9 s), as a soak.
  const tries = Number(process.env.ZART_STALL_TRIES ?? 1);

  it(
    `completes every run and executes no step more than twice (${tries} tries)`,
    async () => {
      const options = {
        worker: { lease: '300ms', queues: ['stalls'] as string[], pollInterval: '50ms' },
      } satisfies ZartOptions;
      const zart = await db.zart(options);
      for (let t = 0; t < tries; t++) {
        const ids = ['a', 'b', 'c'].map((name) => `stall-${t}-${name}`);
        const handles = await Promise.all(ids.map((id) => zart.startWorkflow(FourSlowSteps, { id }, { id })));
        const results = await Promise.all(handles.map((handle) => handle.result({ timeout: '60s' })));

        const counts = ids.flatMap((id) => [0, 1, 2, 3].map((n) => executions.get(`${id}:${n}`) ?? 0));
        expect(counts.every((count) => count >= 1 && count <= 2)).toBe(true);
        expect(results).toEqual([6, 6, 6]);
        const { rows } = await db.sql.query<{ id: string; status: string }>(
          'SELECT id, status FROM zart.runs WHERE id = ANY($1) ORDER BY id',
          [ids],
        );
        expect(rows).toEqual(ids.map((id) => ({ id, status: 'completed' })));
      }
      if (tries > 1) {
        const twice = [...executions.values()].filter((count) => count === 2).length;
        process.stderr.write(`event-loop stalls: ${tries} tries, ${executions.size} steps, ${twice} executed twice\n`);
      }
    },
    90_000 * tries,
  );

  it('never loses the lease of a run it parked and claimed again while a renewal was in flight', async () => {
    logged.length = 0;
    const zart = await db.zart({ worker: { lease: '150ms', queues: ['parks'], maxInProcessWait: 0 } });
    const runs = await Promise.all(
      [1, 2, 3, 4].map((n) => zart.startWorkflow(ManyParks, undefined as never, { id: `parks-${n}` })),
    );
    expect(await Promise.all(runs.map((run) => run.result({ timeout: '60s' })))).toEqual([
      'done',
      'done',
      'done',
      'done',
    ]);
    // Nothing else claims these runs: every lease this worker lost would be a renewal stopping
    // the wrong execution.
    expect(logged.filter((line) => line.message.startsWith('lost the lease'))).toEqual([]);
    const { rows } = await db.sql.query<{ takeovers: number }>(
      "SELECT count(*)::int AS takeovers FROM zart.runs WHERE id LIKE 'parks-%' AND recoveries > 0",
    );
    expect(rows[0]!.takeovers).toBe(0);
  }, 90_000);
});
