import { mkdtempSync, readFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { context } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { spawnTypeScript, type ChildHandle } from '../support/child-process';
import { useCrashHarness } from '../support/crash-harness';
import { useTestDatabase } from '../support/test-zart';
import { waitFor } from '../support/wait-for';
import type { SpanLine } from './fixtures/trace-to-file';
import { TelemetrySteps } from './fixtures/telemetry.workflow';

const db = useTestDatabase();
useCrashHarness(db); // the effects table and its clean-up; these workers are spawned below

// This process is the application that starts the run: its SDK keeps spans in memory.
const exporter = new InMemorySpanExporter();
const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
const contextManager = new AsyncLocalStorageContextManager().enable();
beforeAll(() => void context.setGlobalContextManager(contextManager));
afterAll(() => context.disable());

const spawned: ChildHandle[] = [];
afterEach(async () => {
  for (const child of spawned.splice(0)) {
    child.process.kill('SIGKILL');
    await child.exited;
  }
});

// A worker process whose SDK appends every span it ends to `file`.
function tracedWorker(file: string, env: Record<string, string> = {}): ChildHandle {
  const child = spawnTypeScript(
    'test/crash/fixtures/worker-process.ts',
    { DATABASE_URL: db.url, ZART_LEASE: '1s', ZART_POLL_INTERVAL: '100ms', ZART_TRACE_FILE: file, ...env },
    ['test/crash/fixtures/trace-to-file.ts'],
  );
  spawned.push(child);
  return child;
}

function spansIn(file: string): SpanLine[] {
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as SpanLine);
}

describe('a trace across a crash', () => {
  it('a run SIGKILLed in one process and resumed in another is one trace under the request that started it', async () => {
    const client = await db.client({ tracing: { tracerProvider: provider } });
    const tracer = provider.getTracer('orders-api');
    const request = await tracer.startActiveSpan('POST /orders', async (span) => {
      await client.startWorkflow(TelemetrySteps, { steps: 4 }, { id: 'traced-1' });
      span.end();
      return span.spanContext();
    });
    const start = exporter.getFinishedSpans().find((s) => s.name === 'start telemetry-steps')!;
    expect(start.spanContext().traceId).toBe(request.traceId);
    expect(start.parentSpanContext?.spanId).toBe(request.spanId);
    expect(start.attributes['zart.run.id']).toBe('traced-1');
    // Stored with the run as a W3C traceparent.
    const { rows } = await db.sql.query<{ trace_context: { traceparent: string } }>(
      "SELECT trace_context FROM zart.runs WHERE id = 'traced-1'",
    );
    expect(rows[0]!.trace_context.traceparent).toBe(`00-${request.traceId}-${start.spanContext().spanId}-01`);

    const folder = mkdtempSync(join(tmpdir(), 'zart-trace-'));
    const doomedFile = join(folder, 'doomed.jsonl');
    const survivorFile = join(folder, 'survivor.jsonl');
    const doomed = tracedWorker(doomedFile, { ZART_HANG_AT_STEP: '3' });
    await doomed.waitForLine('IN_STEP_3', 90_000);
    doomed.process.kill('SIGKILL');
    expect(await doomed.exited).toBe('SIGKILL');

    const survivor = tracedWorker(survivorFile);
    expect(await client.getHandle('traced-1').result({ timeout: '90s' })).toEqual([1, 2, 3, 4]);
    // The survivor ends its run span just after the run's outcome is committed.
    await waitFor(() => spansIn(survivorFile).some((s) => s.name === 'run telemetry-steps'));

    const before = spansIn(doomedFile);
    const after = spansIn(survivorFile);
    expect(before.every((s) => s.pid === doomed.process.pid)).toBe(true);
    expect(after.every((s) => s.pid === survivor.process.pid)).toBe(true);
    // Every span of both processes is in the request's trace.
    expect([...before, ...after].every((s) => s.traceId === request.traceId)).toBe(true);

    // The killed process ended its first two step spans; its run span and step 3 died with it.
    expect(before.map((s) => [s.name, s.attributes['zart.step.key']])).toEqual([
      ['step numbered', 'numbered#0'],
      ['step numbered', 'numbered#1'],
    ]);
    const killedExecution = before[0]!.parentSpanId;
    expect(before[1]!.parentSpanId).toBe(killedExecution);

    // The survivor's execution continues under the start span, as a takeover, and runs steps 3-4.
    const resumed = after.find((s) => s.name === 'run telemetry-steps')!;
    expect(resumed.parentSpanId).toBe(start.spanContext().spanId);
    expect(resumed.spanId).not.toBe(killedExecution);
    expect(resumed.attributes).toMatchObject({
      'zart.run.id': 'traced-1',
      'zart.workflow': 'telemetry-steps',
      'zart.lease.takeover': true,
      'zart.execution.end': 'completed',
    });
    const resumedSteps = after.filter((s) => s.name === 'step numbered');
    expect(resumedSteps.map((s) => s.attributes['zart.step.key'])).toEqual(['numbered#2', 'numbered#3']);
    expect(resumedSteps.every((s) => s.parentSpanId === resumed.spanId)).toBe(true);
    expect(resumedSteps[0]!.attributes).toMatchObject({ 'zart.step.attempt': 1, 'zart.run.id': 'traced-1' });
  }, 240_000);
});
