// Bad input at every public entry point is answered with a typed ZartError naming the option or
// value, before anything is written, and the instance keeps working afterwards.
import { Type } from 'class-transformer';
import { IsString, ValidateNested } from 'class-validator';
import {
  ConfigurationError,
  RunIdConflictError,
  RunNotFoundError,
  ValidationError,
  WorkflowCancelledError,
  Workflow,
  Zart,
  ZartError,
  sleep,
  startChild,
  step,
  waitForEvent,
} from '../../src';
import { silentLogger } from '../support/silent-logger';
import { useTestDatabase } from '../support/test-zart';

const db = useTestDatabase();

class Node {
  @IsString() name!: string;
  @ValidateNested() @Type(() => Node) next?: Node;
}

class ChainInput {
  @ValidateNested() @Type(() => Node) head!: Node;
}

@Workflow({ name: 'bad-input-chain', input: ChainInput })
class Chain {
  async run(input: ChainInput): Promise<string> {
    return input.head.name;
  }
}

@Workflow({ name: 'bad-input-plain' })
class Plain {
  async run(input: { n: number }): Promise<number> {
    return step('double', () => input.n * 2);
  }
}

@Workflow({ name: 'bad-input-waits' })
class Waits {
  async run(): Promise<string> {
    await waitForEvent('go');
    return 'done';
  }
}

@Workflow({ name: 'bad-input-durable-arguments' })
class DurableArguments {
  async run(): Promise<Array<[string, string, string]>> {
    const calls: Array<[string, () => Promise<unknown>]> = [
      ['sleep(null)', () => sleep(null as never)],
      ['waitForEvent("")', () => waitForEvent('')],
      ['waitForEvent("x", { timeout: {} })', () => waitForEvent('x', { timeout: {} as never })],
      ['waitForEvent("x", null)', () => waitForEvent('x', null as never)],
      ['startChild(id with NUL)', () => startChild(Plain, { n: 1 }, { id: 'child\u0000' })],
    ];
    const seen: Array<[string, string, string]> = [];
    for (const [call, fn] of calls) {
      try {
        await fn();
        seen.push([call, 'no error', '']);
      } catch (error) {
        seen.push([call, (error as ZartError).code ?? (error as Error).name, (error as Error).message]);
      }
    }
    return seen;
  }
}

async function runCount(): Promise<number> {
  const { rows } = await db.sql.query<{ count: number }>('SELECT count(*)::int AS count FROM zart.runs');
  return rows[0]!.count;
}

async function expectStillWorks(zart: Zart): Promise<void> {
  const handle = await zart.startWorkflow(Plain, { n: 21 });
  expect(await handle.result({ timeout: '20s' })).toBe(42);
}

describe('bad input', () => {
  it('new Zart(null) throws a ConfigurationError', () => {
    expect(() => new Zart(null as never)).toThrow(ConfigurationError);
    expect(() => new Zart(null as never)).toThrow(/takes an object of options, got null/);
  });

  it('a circular input of a workflow with an input class is a ValidationError naming the path, and nothing is written', async () => {
    const zart = await db.zart();
    const before = await runCount();
    const head: { name: string; next?: unknown } = { name: 'a' };
    head.next = { name: 'b', next: head };
    const started = zart.startWorkflow(Chain, { head } as never);
    await expect(started).rejects.toThrow(ValidationError);
    await expect(started).rejects.toMatchObject({
      code: 'ZART_VALIDATION_FAILED',
      workflow: 'bad-input-chain',
      failures: [{ property: 'head.next.next' }],
    });
    await expect(started).rejects.toThrow(/bad-input-chain[\s\S]*head\.next\.next: refers back to head/);
    expect(await runCount()).toBe(before);
    await expectStillWorks(zart);
  });

  it('a run id with a NUL byte is a ConfigurationError and nothing is written', async () => {
    const zart = await db.zart();
    const before = await runCount();
    await expect(zart.startWorkflow(Plain, { n: 1 }, { id: 'a\u0000b' })).rejects.toThrow(ConfigurationError);
    await expect(zart.startWorkflow(Plain, { n: 1 }, { id: 'a\u0000b' })).rejects.toThrow(
      /startWorkflow\(\{ id \}\): a run id must be .*without line breaks or NUL bytes/,
    );
    expect(await runCount()).toBe(before);
    await expectStillWorks(zart);
  });

  it('every method taking the id of an existing run answers an id with a NUL byte with RunNotFoundError', async () => {
    const zart = await db.zart();
    const id = 'a\u0000b';
    await expect(zart.getRun(id)).rejects.toThrow(RunNotFoundError);
    await expect(zart.getSteps(id)).rejects.toThrow(RunNotFoundError);
    await expect(zart.cancel(id)).rejects.toThrow(RunNotFoundError);
    await expect(zart.resume(id)).rejects.toThrow(RunNotFoundError);
    await expect(zart.sendEvent(id, 'go')).rejects.toThrow(RunNotFoundError);
    await expect(zart.fork(id, { fromStep: 'double#0' })).rejects.toThrow(RunNotFoundError);
    await expect(zart.getHandle(id).result()).rejects.toThrow(RunNotFoundError);
    await expect(zart.getHandle(id).status()).rejects.toThrow(RunNotFoundError);
    await expect(zart.listRuns({ after: id })).rejects.toThrow(RunNotFoundError);
    await expectStillWorks(zart);
  });

  it('an event name with a NUL byte is a ConfigurationError and nothing is written', async () => {
    const zart = await db.zart();
    const run = await zart.startWorkflow(Waits, undefined as never);
    await expect(zart.sendEvent(run.id, 'g\u0000o')).rejects.toThrow(ConfigurationError);
    await expect(zart.sendEvent(run.id, 'g\u0000o')).rejects.toThrow(/sendEvent\(\) needs .*event name/);
    const { rows } = await db.sql.query('SELECT 1 FROM zart.events WHERE run_id = $1', [run.id]);
    expect(rows).toHaveLength(0);
    await zart.sendEvent(run.id, 'go');
    expect(await run.result({ timeout: '20s' })).toBe('done');
  });

  it('fork() rejects an empty id, an id with a line break and a 10,000-character id, writing nothing', async () => {
    const zart = await db.zart();
    const source = await zart.startWorkflow(Plain, { n: 2 }, { id: 'fork-source' });
    await source.result({ timeout: '20s' });
    const before = await runCount();
    for (const id of ['', 'a\nb', 'x'.repeat(10_000)]) {
      const forked = zart.fork(source.id, { fromStep: 'double#0', id });
      await expect(forked).rejects.toThrow(ConfigurationError);
      await expect(forked).rejects.toThrow(/fork\(\{ id \}\): a run id must be/);
    }
    await expect(zart.fork(source.id, { fromStep: 5 as never })).rejects.toThrow(/fork\(\{ fromStep \}\)/);
    expect(await runCount()).toBe(before);
    await expectStillWorks(zart);
  });

  it('fork() to an id that is taken is a RunIdConflictError', async () => {
    const zart = await db.zart();
    const source = await zart.startWorkflow(Plain, { n: 3 }, { id: 'fork-taken-source' });
    await source.result({ timeout: '20s' });
    await zart.startWorkflow(Plain, { n: 4 }, { id: 'fork-taken' });
    const forked = zart.fork(source.id, { fromStep: 'double#0', id: 'fork-taken' });
    await expect(forked).rejects.toThrow(RunIdConflictError);
    await expect(forked).rejects.toMatchObject({ code: 'ZART_RUN_ID_CONFLICT', runId: 'fork-taken' });
    await expect(forked).rejects.toThrow(/A run with id "fork-taken" exists already; pass fork\(\) another id/);
  });

  it('startWorkflow(), listRuns() and deleteFinishedRuns() reject bad options with a ConfigurationError naming them', async () => {
    const zart = await db.zart();
    const before = await runCount();
    await expect(zart.startWorkflow(Plain, { n: 1 }, null as never)).rejects.toThrow(
      /^startWorkflow\(workflow, input, options\) takes an object of options/,
    );
    await expect(zart.listRuns({ workflow: 'a\u0000b' })).rejects.toThrow(/^listRuns\(\{ workflow \}\) must be/);
    await expect(zart.listRuns({ status: 'done' as never })).rejects.toThrow(/^listRuns\(\{ status \}\) must be/);
    await expect(zart.listRuns({ limit: '5' as never })).rejects.toThrow(/^listRuns\(\{ limit \}\) must be/);
    await expect(zart.listRuns(null as never)).rejects.toThrow(ConfigurationError);
    await expect(zart.deleteFinishedRuns({ olderThan: null as never })).rejects.toThrow(
      /^deleteFinishedRuns\(\{ olderThan \}\) must be/,
    );
    await expect(zart.deleteFinishedRuns(null as never)).rejects.toThrow(ConfigurationError);
    expect(await runCount()).toBe(before);
    await expectStillWorks(zart);
  });

  it('result({ timeout: null }) is a ConfigurationError naming the option', async () => {
    const zart = await db.zart();
    const run = await zart.startWorkflow(Plain, { n: 5 });
    await expect(run.result({ timeout: null as never })).rejects.toThrow(ConfigurationError);
    await expect(run.result({ timeout: null as never })).rejects.toThrow(/^result\(\{ timeout \}\) must be/);
    expect(await run.result({ timeout: '20s' })).toBe(10);
  });

  it('the durable functions reject bad arguments with typed errors inside the workflow', async () => {
    const zart = await db.zart();
    const seen = await (await zart.startWorkflow(DurableArguments, undefined as never)).result({ timeout: '20s' });
    expect(seen.map(([call, code]) => [call, code])).toEqual([
      ['sleep(null)', 'ZART_CONFIGURATION'],
      ['waitForEvent("")', 'ZART_CONFIGURATION'],
      ['waitForEvent("x", { timeout: {} })', 'ZART_CONFIGURATION'],
      ['waitForEvent("x", null)', 'ZART_CONFIGURATION'],
      ['startChild(id with NUL)', 'ZART_CONFIGURATION'],
    ]);
    expect(seen[0]![2]).toMatch(/^sleep\(duration\) must be .*got null/);
    expect(seen[2]![2]).toMatch(/^waitForEvent\(\{ timeout \}\) must be/);
    expect(seen[3]![2]).toMatch(/^waitForEvent\(name, options\) takes an object of options/);
    expect(seen[4]![2]).toMatch(/^startChild\(\{ id \}\): a run id must be/);
  });

  it('cancel() works with a schema name of the longest allowed length', async () => {
    const schema = 's'.repeat(50);
    // node-postgres complains on the console about prepared statement names PostgreSQL would truncate.
    const consoleError = jest.spyOn(console, 'error');
    const zart = new Zart({ connectionString: db.url, schema, logger: silentLogger, worker: { pollInterval: '50ms' } });
    await zart.start();
    try {
      const run = await zart.startWorkflow(Waits, undefined as never);
      await zart.cancel(run.id);
      await expect(run.result({ timeout: '20s' })).rejects.toThrow(WorkflowCancelledError);
      expect((await zart.getRun(run.id)).status).toBe('cancelled');
      expect(consoleError.mock.calls.map((call) => String(call[0]))).not.toContainEqual(
        expect.stringMatching(/63 characters/),
      );
    } finally {
      consoleError.mockRestore();
      await zart.shutdown({ drain: 0 });
    }
  });
});
