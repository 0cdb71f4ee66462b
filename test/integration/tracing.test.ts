import { context, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
  type ReadableSpan,
} from '@opentelemetry/sdk-trace-base';
import { Workflow, ZartClient, sleep, startChild, step } from '../../src';
import { useTestDatabase } from '../support/test-zart';
import { waitFor } from '../support/wait-for';

const db = useTestDatabase();
const exporter = new InMemorySpanExporter();
const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
const contextManager = new AsyncLocalStorageContextManager().enable();
beforeAll(() => void context.setGlobalContextManager(contextManager));
afterAll(() => context.disable());
beforeEach(() => exporter.reset());

let tries = 0;

@Workflow({ name: 'traced-child' })
class TracedChild {
  async run(input: { n: number }): Promise<number> {
    return step('double', () => input.n * 2);
  }
}

@Workflow({ name: 'traced-parent' })
class TracedParent {
  async run(): Promise<number> {
    // The workflow's own instrumentation nests under zart's step span.
    const own = await step('fetch', () =>
      provider.getTracer('app').startActiveSpan('GET /prices', (span) => {
        span.end();
        return 1;
      }),
    );
    const flaky = await step(
      'flaky',
      () => {
        if (tries++ === 0) throw new Error('try again');
        return 2;
      },
      { retry: { maxAttempts: 2, initialDelay: '1ms' } },
    );
    const child = await startChild(TracedChild, { n: 10 });
    return own + flaky + (await child.result());
  }
}

// On a queue of its own: only the worker with the short in-process wait claims it.
@Workflow({ name: 'traced-napper', queue: 'napping' })
class TracedNapper {
  async run(): Promise<string> {
    await step('before', () => 'a');
    await sleep('300ms'); // past maxInProcessWait: the run parks and a second execution resumes it
    return step('after', () => 'b');
  }
}

@Workflow({ name: 'traced-failing' })
class TracedFailing {
  async run(): Promise<void> {
    await step('explode', () => {
      throw new TypeError('no such order');
    });
  }
}

// Claimed only by the worker of the test without an SDK.
@Workflow({ name: 'traced-elsewhere', queue: 'no-sdk' })
class TracedElsewhere {
  async run(input: { n: number }): Promise<number> {
    return step('double', () => input.n * 2);
  }
}

const named = (name: string): ReadableSpan[] => exporter.getFinishedSpans().filter((s) => s.name === name);
const one = (name: string): ReadableSpan => {
  const spans = named(name);
  expect(spans).toHaveLength(1);
  return spans[0]!;
};

describe('OpenTelemetry spans', () => {
  it('puts a run, its step attempts and its child run in the trace of the caller that started it', async () => {
    const zart = await db.zart({ tracing: { tracerProvider: provider } });
    const request = provider.getTracer('app').startSpan('POST /quotes');
    const handle = await context.with(trace.setSpan(context.active(), request), () =>
      zart.startWorkflow(TracedParent, undefined, { id: 'tr-parent' }),
    );
    request.end();
    expect(await handle.result({ timeout: '20s' })).toBe(23);
    // The parent may park while its child runs: it then has two executions, the last completes it.
    const ended = (name: string): boolean =>
      named(name).some((span) => span.attributes['zart.execution.end'] === 'completed');
    await waitFor(() => ended('run traced-child') && ended('run traced-parent'));

    const traceId = request.spanContext().traceId;
    expect(exporter.getFinishedSpans().every((s) => s.spanContext().traceId === traceId)).toBe(true);
    const start = one('start traced-parent');
    expect(start.parentSpanContext?.spanId).toBe(request.spanContext().spanId);
    const runs = named('run traced-parent');
    expect(runs.every((r) => r.parentSpanContext?.spanId === start.spanContext().spanId)).toBe(true);
    const run = runs[0]!;
    expect(run.attributes).toMatchObject({
      'zart.run.id': 'tr-parent',
      'zart.workflow': 'traced-parent',
      'zart.run.attempt': 1,
      'zart.lease.takeover': false,
    });

    const fetch = one('step fetch');
    expect(fetch.parentSpanContext?.spanId).toBe(run.spanContext().spanId);
    expect(one('GET /prices').parentSpanContext?.spanId).toBe(fetch.spanContext().spanId);
    // One span per attempt: the first failed (and says why), the second completed.
    const flaky = named('step flaky').sort(
      (a, b) => Number(a.attributes['zart.step.attempt']) - Number(b.attributes['zart.step.attempt']),
    );
    expect(flaky.map((s) => [s.attributes['zart.step.key'], s.attributes['zart.step.attempt'], s.status.code])).toEqual(
      [
        ['flaky#0', 1, 2],
        ['flaky#0', 2, 0],
      ],
    );
    expect(flaky[0]!.status.message).toBe('Error: try again');

    // The child: started under the parent's execution, executed under its own start span.
    const childStart = one('start traced-child');
    expect(childStart.parentSpanContext?.spanId).toBe(run.spanContext().spanId);
    expect(childStart.attributes['zart.run.id']).toBe('tr-parent/zart.child#0');
    expect(one('run traced-child').parentSpanContext?.spanId).toBe(childStart.spanContext().spanId);
    expect(one('step double').parentSpanContext?.spanId).toBe(one('run traced-child').spanContext().spanId);
  });

  it('keeps a run started outside any trace in one trace across its executions (a park and a resume)', async () => {
    const zart = await db.zart({
      tracing: { tracerProvider: provider },
      worker: { maxInProcessWait: '10ms', queues: ['napping'] },
    });
    expect(await (await zart.startWorkflow(TracedNapper, undefined, { id: 'tr-nap' })).result({ timeout: '20s' })).toBe(
      'b',
    );
    await waitFor(() => named('run traced-napper').length === 2);
    const start = one('start traced-napper');
    expect(start.parentSpanContext).toBeUndefined(); // a root: nothing was active at the start
    const runs = named('run traced-napper');
    expect(runs.every((r) => r.parentSpanContext?.spanId === start.spanContext().spanId)).toBe(true);
    expect(runs.map((r) => r.attributes['zart.execution.end']).sort()).toEqual(['completed', 'released']);
    const traceIds = new Set(exporter.getFinishedSpans().map((s) => s.spanContext().traceId));
    expect(traceIds).toEqual(new Set([start.spanContext().traceId]));
  });

  it('marks a failed run and its failed step attempt as errors with the exception', async () => {
    const zart = await db.zart({ tracing: { tracerProvider: provider } });
    await expect((await zart.startWorkflow(TracedFailing, undefined, { id: 'tr-fail' })).result()).rejects.toThrow();
    await waitFor(() => named('run traced-failing').length === 1);
    const stepSpan = one('step explode');
    expect(stepSpan.status).toEqual({ code: 2, message: 'TypeError: no such order' });
    expect(stepSpan.events.map((e) => e.name)).toEqual(['exception']);
    const run = one('run traced-failing');
    expect(run.status.code).toBe(2);
    expect(run.attributes['zart.execution.end']).toBe('failed');
  });

  it("without an SDK in the worker's process, records nothing there and keeps the caller's trace context", async () => {
    // The global provider is the API's no-op one here: this Zart has no SDK.
    const zart = await db.zart({ worker: { queues: ['no-sdk'] } });
    const request = provider.getTracer('app').startSpan('POST /doubles');
    const handle = await context.with(trace.setSpan(context.active(), request), () =>
      zart.startWorkflow(TracedElsewhere, { n: 4 }, { id: 'tr-no-sdk' }),
    );
    request.end();
    expect(await handle.result({ timeout: '20s' })).toBe(8);
    expect(exporter.getFinishedSpans().map((s) => s.name)).toEqual(['POST /doubles']);
    const { rows } = await db.sql.query("SELECT trace_context FROM zart.runs WHERE id = 'tr-no-sdk'");
    const { traceId, spanId } = request.spanContext();
    expect(rows[0].trace_context).toEqual({ traceparent: `00-${traceId}-${spanId}-01` });
  });

  it('records nothing with tracing: false, and stores no trace context', async () => {
    const client = await db.client({ tracing: false });
    const request = provider.getTracer('app').startSpan('POST /quotes');
    await context.with(trace.setSpan(context.active(), request), () =>
      client.startWorkflow(TracedChild, { n: 1 }, { id: 'tr-off' }),
    );
    request.end();
    expect(exporter.getFinishedSpans().map((s) => s.name)).toEqual(['POST /quotes']);
    const { rows } = await db.sql.query("SELECT trace_context FROM zart.runs WHERE id = 'tr-off'");
    expect(rows[0].trace_context).toBeNull();
  });

  it('refuses a tracing option that is not one', () => {
    expect(() => new ZartClient({ connectionString: db.url, tracing: 'on' as never })).toThrow(
      /tracing must be true, false or \{ tracerProvider \}/,
    );
    expect(() => new ZartClient({ connectionString: db.url, tracing: { tracerProvider: {} as never } })).toThrow(
      /tracing.tracerProvider must be an OpenTelemetry TracerProvider/,
    );
  });
});
