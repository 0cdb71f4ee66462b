// largeValues (the claim check): values over the threshold are kept by the application's store,
// the row holds only a reference, and every reader (a replay in another process, getRun,
// getSteps, result, waitForEvent) gets the real value back.
import {
  LargeValueStoreError,
  Step,
  Workflow,
  startChild,
  WorkflowFailedError,
  step,
  waitForEvent,
  type LargeValueInfo,
  type LargeValueStore,
  type Zart,
} from '../../src';
import { useTestDatabase } from '../support/test-zart';
import { waitFor } from '../support/wait-for';

const db = useTestDatabase();

/** A Map-backed store that records what it was asked. */
class MapStore implements LargeValueStore {
  readonly values = new Map<string, string>();
  readonly puts: LargeValueInfo[] = [];
  gets = 0;
  failPuts = false;

  async put(data: string, info: LargeValueInfo): Promise<string> {
    if (this.failPuts) throw new Error('bucket unavailable');
    this.puts.push(info);
    const ref = `mem://${this.values.size + 1}`;
    this.values.set(ref, data);
    return ref;
  }

  async get(ref: string): Promise<Uint8Array> {
    this.gets++;
    const data = this.values.get(ref);
    if (data === undefined) throw new Error(`no value ${ref}`);
    // Bytes, as a blob store returns them.
    return new TextEncoder().encode(data);
  }
}

const store = new MapStore();
const largeValues = { threshold: '4kB', store } as const;

const report = (n: number) => ({ title: 'report', at: new Date(n), lines: 'é'.repeat(5000), total: 10n ** 20n });

const seen: unknown[] = [];
let exportCalls = 0;
let holdOnce = true;

@Workflow({ name: 'large-report' })
class Report {
  async run(input: { blob: string }): Promise<unknown> {
    const big = await step('export', () => {
      exportCalls++;
      return report(1);
    });
    const small = await step('count', () => input.blob.length);
    const event = await waitForEvent<{ body: string }>('upload');
    seen.push({ big, small, event: event.body.length });
    await step('hold', async () => {
      if (holdOnce) {
        holdOnce = false;
        await new Promise(() => undefined); // this worker is shut down here
      }
    });
    return { small, event: event.body.length };
  }
}

@Workflow({ name: 'large-put-fails' })
class PutFails {
  async run(): Promise<string> {
    try {
      await step('export', () => report(2));
    } catch {
      return 'caught';
    }
    return 'stored';
  }
}

@Workflow({ name: 'large-child' })
class Child {
  async run(input: { lines: string }): Promise<{ lines: string; length: number }> {
    return { lines: input.lines.toUpperCase(), length: input.lines.length };
  }
}

@Workflow({ name: 'large-parent' })
class Parent {
  async run(): Promise<{ lines: string; length: number }> {
    const child = await startChild(Child, { lines: 'c'.repeat(7000) }, { id: 'large-child-1' });
    return child.result();
  }
}

class Exports {
  @Step({ transaction: true, retry: { maxAttempts: 3, initialDelay: '10ms' } })
  async build(n: number): Promise<ReturnType<typeof report>> {
    return report(n);
  }
}

@Workflow({ name: 'large-transactional' })
class Transactional {
  private readonly exports = new Exports();
  async run(input: { n: number }): Promise<number> {
    try {
      return (await this.exports.build(input.n)).at.getTime();
    } catch {
      return -1;
    }
  }
}

interface Row {
  output: unknown;
}

describe('largeValues', () => {
  it('keeps step outputs, inputs and event payloads over the threshold in the store, and reads them back everywhere', async () => {
    const first = await db.zart({ largeValues });
    const input = { blob: 'b'.repeat(6000) };
    await first.startWorkflow(Report, input, { id: 'large-1' });
    await waitFor(async () => (await first.getRun('large-1')).status === 'waiting');
    await first.sendEvent('large-1', 'upload', { body: 'u'.repeat(8000) });
    await waitFor(() => seen.length === 1);
    await first.shutdown({ drain: 0 });

    // The rows hold references; the store holds the values as JSON text.
    const { rows: steps } = await db.sql.query<Row & { key: string }>(
      `SELECT key, output FROM zart.steps WHERE run_id = 'large-1' ORDER BY seq`,
    );
    const byKey = new Map(steps.map((row) => [row.key, row.output]));
    expect(byKey.get('export#0')).toEqual({
      'zart.largeValue': { ref: expect.stringMatching(/^mem:\/\//) as string, bytes: expect.any(Number) as number },
    });
    expect(JSON.stringify(byKey.get('count#0'))).not.toContain('zart.largeValue');
    expect(byKey.get('zart.event:upload#0')).toHaveProperty(['zart.largeValue', 'ref']);
    const { rows: runs } = await db.sql.query<{ input: unknown }>(`SELECT input FROM zart.runs WHERE id = 'large-1'`);
    expect(runs[0]!.input).toHaveProperty(['zart.largeValue', 'ref']);
    const exportRef = (byKey.get('export#0') as { 'zart.largeValue': { ref: string; bytes: number } })[
      'zart.largeValue'
    ];
    expect(JSON.parse(store.values.get(exportRef.ref)!)).toHaveProperty('json.title', 'report');
    expect(Buffer.byteLength(store.values.get(exportRef.ref)!)).toBe(exportRef.bytes);
    expect(store.puts.map((put) => [put.what, put.runId, put.stepKey])).toEqual([
      ['the input of workflow "large-report"', 'large-1', null],
      ['the output of step "export#0" of run "large-1"', 'large-1', 'export#0'],
      ['the payload of event "upload"', 'large-1', null],
    ]);

    // A replay in a new execution gets the same values without running the step again.
    const gets = store.gets;
    const second: Zart = await db.zart({ largeValues });
    await expect(second.getHandle('large-1').result({ timeout: '20s' })).resolves.toEqual({ small: 6000, event: 8000 });
    expect(store.gets).toBeGreaterThan(gets);
    expect(exportCalls).toBe(1);
    expect(seen).toHaveLength(2);
    expect(seen[1]).toEqual(seen[0]);
    expect(seen[0]).toEqual({ big: report(1), small: 6000, event: 8000 });

    const run = await second.getRun('large-1');
    expect(run.input).toEqual(input);
    const [listed] = await second.listRuns({ workflow: 'large-report' });
    expect(listed!.input).toEqual(input);
    const checkpoints = await second.getSteps('large-1');
    expect(checkpoints.find((s) => s.key === 'export#0')!.output).toEqual(report(1));
    expect(checkpoints.find((s) => s.key === 'zart.event:upload#0')!.output).toEqual({ body: 'u'.repeat(8000) });
  });

  it('without the store, reading such a value fails with LargeValueStoreError saying what to configure', async () => {
    const client = await db.client();
    const error = await client.getSteps('large-1').catch((e: unknown) => e as LargeValueStoreError);
    expect(error).toBeInstanceOf(LargeValueStoreError);
    expect(error).toMatchObject({ code: 'ZART_LARGE_VALUE_STORE', ref: expect.stringMatching(/^mem:\/\//) as string });
    expect((error as Error).message).toContain('the output of step "export#0" of run "large-1"');
    expect((error as Error).message).toContain('no largeValues.store option');
  });

  it('fails the run, without storing the step, when the store cannot take a value', async () => {
    const zart = await db.zart({ largeValues });
    store.failPuts = true;
    try {
      const handle = await zart.startWorkflow(PutFails, undefined as never, { id: 'large-put' });
      const error = (await handle.result({ timeout: '20s' }).catch((e: unknown) => e)) as WorkflowFailedError;
      expect(error).toBeInstanceOf(WorkflowFailedError);
      expect(error.cause).toBeInstanceOf(LargeValueStoreError);
      expect((error.cause as Error).message).toContain(
        'failed to store the output of step "export#0" of run "large-put"',
      );
      expect((error.cause as Error).message).toContain('bucket unavailable');
      await expect(zart.getSteps('large-put')).resolves.toEqual([]);
    } finally {
      store.failPuts = false;
    }
  });

  it("keeps a child's input and a run's output in the store too; result() and getRun() read them", async () => {
    const zart = await db.zart({ largeValues });
    const handle = await zart.startWorkflow(Parent, undefined as never, { id: 'large-parent-1' });
    const expected = { lines: 'C'.repeat(7000), length: 7000 };
    await expect(handle.result({ timeout: '20s' })).resolves.toEqual(expected);
    const { rows } = await db.sql.query<{ id: string; input: unknown; output: unknown }>(
      `SELECT id, input, output FROM zart.runs WHERE id IN ('large-parent-1', 'large-child-1') ORDER BY id`,
    );
    expect(rows.map((row) => row.id)).toEqual(['large-child-1', 'large-parent-1']);
    expect(rows[0]!.input).toHaveProperty(['zart.largeValue', 'ref']);
    expect(rows[0]!.output).toHaveProperty(['zart.largeValue', 'ref']);
    expect(rows[1]!.output).toHaveProperty(['zart.largeValue', 'ref']);
    expect((await zart.getRun('large-child-1')).input).toEqual({ lines: 'c'.repeat(7000) });
    expect((await zart.getRun('large-parent-1')).output).toEqual(expected);
    // Another process reads the same outcome through the store.
    const client = await db.client({ largeValues });
    await expect(client.getHandle('large-parent-1').result({ timeout: '5s' })).resolves.toEqual(expected);
  });

  it('does the same for a transactional step: the output is in the store, or the run fails', async () => {
    const zart = await db.zart({ largeValues });
    await expect(
      (await zart.startWorkflow(Transactional, { n: 5 }, { id: 'large-tx-1' })).result({ timeout: '20s' }),
    ).resolves.toBe(5);
    const [checkpoint] = await zart.getSteps('large-tx-1');
    expect(checkpoint!.output).toEqual(report(5));
    const { rows } = await db.sql.query<Row>(`SELECT output FROM zart.steps WHERE run_id = 'large-tx-1'`);
    expect(rows[0]!.output).toHaveProperty(['zart.largeValue', 'ref']);

    store.failPuts = true;
    try {
      const handle = await zart.startWorkflow(Transactional, { n: 6 }, { id: 'large-tx-2' });
      const error = (await handle.result({ timeout: '20s' }).catch((e: unknown) => e)) as WorkflowFailedError;
      expect(error).toBeInstanceOf(WorkflowFailedError);
      expect(error.cause).toBeInstanceOf(LargeValueStoreError);
      // Not retried as the step's failure, and nothing stored for the step.
      await expect(zart.getSteps('large-tx-2')).resolves.toEqual([]);
    } finally {
      store.failPuts = false;
    }
  });
});
