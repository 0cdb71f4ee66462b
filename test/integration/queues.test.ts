import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as delay } from 'node:timers/promises';
import {
  ConfigurationError,
  RunDeduplicatedError,
  UnknownQueueError,
  Workflow,
  Zart,
  createZartHttpHandler,
  currentRun,
  startChild,
  step,
  type ZartOptions,
} from '../../src';
import { main } from '../../src/cli/main';
import { silentLogger } from '../support/silent-logger';
import { useTestDatabase } from '../support/test-zart';
import { waitFor } from '../support/wait-for';

const db = useTestDatabase();
// This file's instances live until its end: small pools keep them within the server's connections.
const startZart = (options: ZartOptions = {}): Promise<Zart> => db.zart({ poolSize: 3, ...options });
const startClient = (): ReturnType<typeof db.client> => db.client({ poolSize: 3 });

const executed: string[] = [];

@Workflow({ name: 'queues-record' })
class Record {
  async run(input: { label: string }): Promise<string> {
    executed.push(input.label);
    return input.label;
  }
}

@Workflow({ name: 'queues-record-limited', queue: 'one-at-a-time' })
class RecordLimited {
  async run(input: { label: string }): Promise<string> {
    executed.push(input.label);
    return input.label;
  }
}

// Holds its run until the test lets it go, so a test decides how long runs stay live.
const released = new Set<string>();
@Workflow({ name: 'queues-hold' })
class Hold {
  async run(input: { label: string }): Promise<string> {
    while (!released.has(input.label) && !currentRun().signal.aborted) await delay(20);
    return step('done', () => input.label);
  }
}

@Workflow({ name: 'queues-hold-too' })
class HoldToo {
  async run(input: { label: string }): Promise<string> {
    while (!released.has(input.label) && !currentRun().signal.aborted) await delay(20);
    return input.label;
  }
}

// Its own queue, served only by the process a test starts for it: the queue a child may be
// started in is the executing process's business (its known queues).
@Workflow({ name: 'queues-parent', queue: 'per-run-parents' })
class Parent {
  async run(input: { childQueue: string }): Promise<string> {
    try {
      const child = await startChild(Record, { label: `child in ${input.childQueue}` }, { queue: input.childQueue });
      return await child.result();
    } catch (error) {
      if (error instanceof UnknownQueueError) return `refused ${error.queue}; known: ${error.knownQueues.join(' ')}`;
      throw error;
    }
  }
}

const startedAt = async (id: string): Promise<{ created: number; started: number }> => {
  const { rows } = await db.sql.query<{ created: Date; started: Date }>(
    'SELECT created_at AS created, started_at AS started FROM zart.runs WHERE id = $1',
    [id],
  );
  return { created: rows[0]!.created.getTime(), started: rows[0]!.started.getTime() };
};

describe('queues', () => {
  it.each([
    ['an unlimited queue', Record, {}],
    ['a queue with a concurrency limit', RecordLimited, { queues: { 'one-at-a-time': { concurrency: 1 } } }],
  ] as const)('start higher priorities first and equal ones in order, on %s', async (_name, workflow, options) => {
    executed.length = 0;
    const client = await startClient();
    const runs = [
      ['low-1', 0],
      ['high-1', 5],
      ['low-2', 0],
      ['top', 10],
      ['high-2', 5],
      ['below', -3],
    ] as const;
    const ids: string[] = [];
    for (const [label, priority] of runs) ids.push((await client.startWorkflow(workflow, { label }, { priority })).id);
    const zart = await startZart({ ...options, worker: { concurrency: 1 } });
    await Promise.all(ids.map((id) => zart.getHandle(id).result({ timeout: '30s' })));
    expect(executed).toEqual(['top', 'high-1', 'high-2', 'low-1', 'low-2', 'below']);
    expect((await zart.getRun(ids[3]!)).priority).toBe(10);
  });

  it('start a delayed run no earlier than its delay, by the database clock, without holding a worker', async () => {
    executed.length = 0;
    const zart = await startZart({ worker: { concurrency: 1, pollInterval: '5s' } });
    const delayed = await zart.startWorkflow(Record, { label: 'delayed' }, { delay: '1500ms' });
    // With one slot, a run started after the delayed one executes first: the delayed one holds none.
    await (await zart.startWorkflow(Record, { label: 'at once' })).result({ timeout: '30s' });
    expect(await delayed.status()).toBe('pending');
    // Woken by its own timer, long before the 5 s poll would find it.
    expect(await delayed.result({ timeout: '30s' })).toBe('delayed');
    expect(executed).toEqual(['at once', 'delayed']);
    const { created, started } = await startedAt(delayed.id);
    expect(started - created).toBeGreaterThanOrEqual(1500);
  });

  it('start a run at startAt, found by another process', async () => {
    const client = await startClient();
    await startZart();
    const startAt = new Date(Date.now() + 1000);
    const handle = await client.startWorkflow(Record, { label: 'at a time' }, { startAt });
    const { rows } = await db.sql.query<{ at: Date }>('SELECT available_at AS at FROM zart.runs WHERE id = $1', [
      handle.id,
    ]);
    expect(rows[0]!.at.getTime()).toBe(startAt.getTime());
    expect(await handle.result({ timeout: '30s' })).toBe('at a time');
    expect((await startedAt(handle.id)).started).toBeGreaterThanOrEqual(startAt.getTime());
  });

  it('count a delayed run’s timeout from its start', async () => {
    const client = await startClient();
    const handle = await client.startWorkflow(Hold, { label: 'late' }, { delay: '1h' });
    const { rows } = await db.sql.query<{ gap: number }>(
      'SELECT extract(epoch FROM deadline_at - available_at)::float8 AS gap FROM zart.runs WHERE id = $1',
      [handle.id],
    );
    expect(rows[0]!.gap).toBeNull();
    @Workflow({ name: 'queues-timed', timeout: '10m' })
    class Timed {
      async run(): Promise<void> {}
    }
    const zart = await startZart();
    const timed = await zart.startWorkflow(Timed, undefined, { delay: '1h' });
    const gap = await db.sql.query<{ gap: number }>(
      'SELECT extract(epoch FROM deadline_at - available_at)::float8 AS gap FROM zart.runs WHERE id = $1',
      [timed.id],
    );
    expect(gap.rows[0]!.gap).toBe(600);
    await zart.cancel(timed.id);
    await client.cancel(handle.id);
  });

  it('refuse a second start with a live de-duplication key, and allow it once the run has finished', async () => {
    const zart = await startZart();
    const first = await zart.startWorkflow(Hold, { label: 'dedup-1' }, { deduplicationKey: 'customer-7' });
    const error = await zart
      .startWorkflow(Hold, { label: 'dedup-2' }, { deduplicationKey: 'customer-7' })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RunDeduplicatedError);
    expect(error).toMatchObject({
      code: 'ZART_RUN_DEDUPLICATED',
      existingRunId: first.id,
      deduplicationKey: 'customer-7',
      workflow: 'queues-hold',
    });
    expect((error as Error).message).toContain('getHandle(error.existingRunId)');
    // The key is per workflow; the id still wins: the same start again returns the same run.
    const other = await zart.startWorkflow(HoldToo, { label: 'dedup-other' }, { deduplicationKey: 'customer-7' });
    const again = await zart.startWorkflow(
      Hold,
      { label: 'dedup-1' },
      { id: first.id, deduplicationKey: 'customer-7' },
    );
    expect(again.id).toBe(first.id);
    released.add('dedup-1');
    released.add('dedup-other');
    await Promise.all([first.result({ timeout: '30s' }), other.result({ timeout: '30s' })]);
    const next = await zart.startWorkflow(Hold, { label: 'dedup-3' }, { deduplicationKey: 'customer-7' });
    expect(next.id).not.toBe(first.id);
    released.add('dedup-3');
    expect(await next.result({ timeout: '30s' })).toBe('dedup-3');
  });

  it('give one run to racing starts with one de-duplication key from several processes', async () => {
    const clients = await Promise.all([startClient(), startClient(), startClient()]);
    const outcomes = await Promise.allSettled(
      Array.from({ length: 30 }, (_, i) =>
        clients[i % 3]!.startWorkflow(Hold, { label: `race-${i}` }, { deduplicationKey: 'race' }),
      ),
    );
    const started = outcomes.filter((o) => o.status === 'fulfilled');
    const refused = outcomes.flatMap((o) => (o.status === 'rejected' ? [o.reason as unknown] : []));
    expect(started).toHaveLength(1);
    expect(refused).toHaveLength(29);
    const winner = started[0]!.value.id;
    for (const error of refused) expect(error).toMatchObject({ name: 'RunDeduplicatedError', existingRunId: winner });
    const { rows } = await db.sql.query("SELECT count(*)::int AS n FROM zart.runs WHERE deduplication_key = 'race'");
    expect(rows[0].n).toBe(1);
    await clients[0].cancel(winner);
  });

  it('refuse resuming a run whose de-duplication key another live run holds', async () => {
    const zart = await startZart();
    const first = await zart.startWorkflow(Hold, { label: 'resume-1' }, { deduplicationKey: 'resume' });
    await zart.cancel(first.id);
    const second = await zart.startWorkflow(Hold, { label: 'resume-2' }, { deduplicationKey: 'resume' });
    await expect(zart.resume(first.id)).rejects.toMatchObject({
      name: 'RunDeduplicatedError',
      existingRunId: second.id,
    });
    await zart.cancel(second.id);
  });

  it('reject bad queue options with every problem at once', () => {
    const error = (() => {
      try {
        return new Zart({
          connectionString: db.url,
          queues: {
            emails: { concurrency: 0, rateLimit: { limit: 1.5 } as never, partitionConcurrency: 'one' as never },
            reports: { rateLimit: { limit: 10, period: 'soon' as never }, burst: 3 } as never,
            broken: 5 as never,
          },
        });
      } catch (e) {
        return e;
      }
    })() as ConfigurationError;
    expect(error).toBeInstanceOf(ConfigurationError);
    expect(error.message).toContain('queues["emails"].concurrency must be a positive integer, got 0.');
    expect(error.message).toContain('queues["emails"].rateLimit.period is missing');
    expect(error.message).toContain('queues["emails"].rateLimit.limit must be a positive integer, got 1.5.');
    expect(error.message).toContain('queues["emails"].partitionConcurrency must be a positive integer, got "one".');
    expect(error.message).toContain('Unknown option "burst" in queues["reports"]');
    expect(error.message).toContain('queues["reports"].rateLimit.period must be');
    expect(error.message).toContain('queues["broken"] must be an object');
    expect(() => new Zart({ connectionString: db.url, queues: [] as never })).toThrow(
      'queues must be an object of queue options by name',
    );
  });

  it('reject bad start options naming the option, and write nothing', async () => {
    const zart = await startZart();
    const count = async (): Promise<number> =>
      (await db.sql.query<{ n: number }>('SELECT count(*)::int AS n FROM zart.runs')).rows[0]!.n;
    const before = await count();
    const cases: Array<[object, string]> = [
      [{ priority: 1.5 }, 'priority must be an integer'],
      [{ priority: 2 ** 31 }, 'priority must be an integer'],
      [{ delay: '10m', startAt: new Date() }, 'either delay or startAt, not both'],
      [{ delay: 'later' }, 'delay must be a non-negative number'],
      [{ startAt: new Date('nope') }, 'startAt must be a valid Date'],
      [{ startAt: '2030-01-01' }, 'startAt must be a valid Date'],
      [{ partitionKey: '' }, 'partitionKey must be a non-empty string'],
      [{ deduplicationKey: 42 }, 'deduplicationKey must be a non-empty string'],
    ];
    for (const [options, message] of cases) {
      const error = await zart.startWorkflow(Record, { label: 'bad' }, options as never).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ConfigurationError);
      expect((error as Error).message).toContain(message);
    }
    expect(await count()).toBe(before);
  });

  it('serve declared queues by default, and let worker.queues choose', async () => {
    @Workflow({ name: 'queues-served', queue: 'served-later' })
    class Served {
      async run(input: { label: string }): Promise<string> {
        return input.label;
      }
    }
    const client = await startClient();
    const handle = await client.startWorkflow(Served, { label: 'served' });
    await startZart({ worker: { queues: ['default'] }, queues: { 'served-later': { concurrency: 1 } } });
    await delay(300);
    expect(await handle.status()).toBe('pending');
    await startZart({ queues: { 'served-later': { concurrency: 1 } } });
    expect(await handle.result({ timeout: '30s' })).toBe('served');
  });

  it('start a run in the queue given at its start instead of its workflow’s, claimed and listed under that queue', async () => {
    // Serves 'default', Record's own queue: it must not take the run.
    await startZart();
    // Polls once an hour: only the wake-up of the start below makes it claim the run.
    await startZart({ worker: { queues: ['per-run-bulk'], pollInterval: '1h' } });
    // A process with free capacity that does not serve the run's queue wakes those that do.
    const starter = await startZart({ queues: { 'per-run-bulk': {} }, worker: { queues: ['default'] } });
    const handle = await starter.startWorkflow(Record, { label: 'moved' }, { queue: 'per-run-bulk' });
    expect(await handle.result({ timeout: '30s' })).toBe('moved');
    expect((await starter.getRun(handle.id)).queue).toBe('per-run-bulk');

    const listed = await starter.listRuns({ queue: 'per-run-bulk' });
    expect(listed.map((run) => run.id)).toEqual([handle.id]);
    expect(
      (await starter.listRuns({ queue: 'default', workflow: 'queues-record' })).map((run) => run.id),
    ).not.toContain(handle.id);
    let out = '';
    const code = await main(['--database-url', db.url, 'runs', 'list', '--queue', 'per-run-bulk', '--json'], {
      out: (text) => void (out += text),
      err: () => undefined,
      colour: false,
    });
    expect(code).toBe(0);
    expect((JSON.parse(out) as { runs: Array<{ id: string }> }).runs.map((run) => run.id)).toEqual([handle.id]);
    const handler = createZartHttpHandler(starter, { auth: 'none', logger: silentLogger });
    const server = createServer((req, res) => handler(req, res));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = server.address() as AddressInfo;
      const response = await fetch(`http://127.0.0.1:${port}/api/runs?queue=per-run-bulk`);
      const body = (await response.json()) as { runs: Array<{ id: string; queue: string }> };
      expect(body.runs.map((run) => [run.id, run.queue])).toEqual([[handle.id, 'per-run-bulk']]);
    } finally {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it('hold a run started in a limited queue to that queue’s limits, whatever its workflow’s queue', async () => {
    const zart = await startZart({ queues: { 'per-run-single': { concurrency: 1 } }, worker: { concurrency: 5 } });
    const first = await zart.startWorkflow(Hold, { label: 'single-1' }, { queue: 'per-run-single' });
    const second = await zart.startWorkflow(Hold, { label: 'single-2' }, { queue: 'per-run-single' });
    await waitFor(async () => (await first.status()) === 'running');
    // Every worker of this file has free capacity and serves Hold's own queue, 'default'.
    await delay(300);
    expect(await second.status()).toBe('pending');
    released.add('single-1');
    expect(await first.result({ timeout: '30s' })).toBe('single-1');
    released.add('single-2');
    expect(await second.result({ timeout: '30s' })).toBe('single-2');
  });

  it('refuse a start in a queue this process does not know, saying which it knows, and write nothing', async () => {
    const zart = await startZart({ queues: { 'per-run-single': { concurrency: 1 } } });
    const error = await zart
      .startWorkflow(Record, { label: 'typo' }, { id: 'per-run-typo', queue: 'per-run-singel' })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UnknownQueueError);
    expect(error).toMatchObject({ code: 'ZART_UNKNOWN_QUEUE', queue: 'per-run-singel' });
    // 'default', the declared queues, and the queues of the registered workflows.
    expect((error as UnknownQueueError).knownQueues).toEqual(
      expect.arrayContaining(['default', 'per-run-single', 'one-at-a-time', 'per-run-parents']),
    );
    expect((error as Error).message).toContain('known: ');
    expect((error as Error).message).toContain('per-run-single');
    for (const queue of ['', 42]) {
      const bad = await zart.startWorkflow(Record, { label: 'bad' }, { queue } as never).catch((e: unknown) => e);
      expect(bad).toBeInstanceOf(ConfigurationError);
      expect((bad as Error).message).toContain('queue must be the non-empty name of a queue');
    }
    const { rows } = await db.sql.query("SELECT count(*)::int AS n FROM zart.runs WHERE id = 'per-run-typo'");
    expect(rows[0].n).toBe(0);
  });

  it('start a child in the queue given to startChild(), and refuse one its process does not know', async () => {
    const zart = await startZart({
      queues: { 'per-run-children': {} },
      worker: { queues: ['per-run-parents', 'per-run-children'] },
    });
    const parent = await zart.startWorkflow(Parent, { childQueue: 'per-run-children' });
    expect(await parent.result({ timeout: '30s' })).toBe('child in per-run-children');
    const [child] = await zart.listRuns({ parentId: parent.id });
    expect(child).toMatchObject({ workflow: 'queues-record', queue: 'per-run-children', status: 'completed' });

    const refused = await zart.startWorkflow(Parent, { childQueue: 'per-run-nowhere' });
    expect(await refused.result({ timeout: '30s' })).toMatch(/^refused per-run-nowhere; known: .*per-run-children/);
    expect(await zart.listRuns({ parentId: refused.id })).toEqual([]);
  });

  it('never run more than the concurrency of a queue at once in one process', async () => {
    @Workflow({ name: 'queues-count', queue: 'pair' })
    class Count {
      static live = 0;
      static most = 0;
      async run(): Promise<void> {
        Count.live++;
        Count.most = Math.max(Count.most, Count.live);
        await delay(50);
        Count.live--;
      }
    }
    const zart = await startZart({ queues: { pair: { concurrency: 2 } }, worker: { concurrency: 20 } });
    const handles = await Promise.all(Array.from({ length: 12 }, () => zart.startWorkflow(Count)));
    await Promise.all(handles.map((h) => h.result({ timeout: '30s' })));
    expect(Count.most).toBe(2);
    await waitFor(async () => (await zart.listRuns({ status: 'running' })).length === 0);
  });
});
