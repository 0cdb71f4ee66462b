import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Registry } from 'prom-client';
import { useCrashHarness } from '../support/crash-harness';
import { parseSamples, sampleValue } from '../support/prometheus-text';
import { useTestDatabase } from '../support/test-zart';
import { TelemetrySteps } from './fixtures/telemetry.workflow';

const db = useTestDatabase();
const { spawnWorker, kill } = useCrashHarness(db);

let server: Server | undefined;
afterEach(async () => {
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  server = undefined;
});

describe('metrics after a crash', () => {
  it('a scrape of /metrics after a worker was SIGKILLed mid-run shows the takeover and the recovered run', async () => {
    const client = await db.client();
    await client.startWorkflow(TelemetrySteps, { steps: 5 }, { id: 'scraped-1' });
    const doomed = spawnWorker({ ZART_HANG_AT_STEP: '3' });
    await doomed.waitForLine('IN_STEP_3', 90_000);
    await kill(doomed);

    // The survivor is this process, its metrics served over HTTP as an application would.
    const registry = new Registry();
    const survivor = await db.zart({ metrics: { registry }, worker: { lease: '1s' } });
    server = createServer((_request, response) => {
      survivor.metricsText().then(
        ({ contentType, body }) => response.writeHead(200, { 'Content-Type': contentType }).end(body),
        (error: Error) => response.writeHead(500).end(error.message),
      );
    });
    await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;

    expect(await survivor.getHandle('scraped-1').result({ timeout: '60s' })).toEqual([1, 2, 3, 4, 5]);
    const response = await fetch(`http://127.0.0.1:${port}/metrics`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/plain/);
    const text = await response.text();

    const workflow = 'telemetry-steps';
    expect(sampleValue(text, 'zart_lease_takeovers_total', { workflow })).toBe(1);
    expect(sampleValue(text, 'zart_runs_finished_total', { workflow, status: 'completed' })).toBe(1);
    // Steps 1-2 were checkpointed by the dead worker and only replayed here; 3-5 ran here.
    expect(
      sampleValue(text, 'zart_step_duration_seconds_count', { workflow, step: 'numbered', outcome: 'completed' }),
    ).toBe(3);
    expect(sampleValue(text, 'zart_executions_in_flight', { workflow })).toBe(0);
    // A takeover is not a wake-up: the run was not due, its worker had died.
    expect(parseSamples(text).filter((s) => s.name === 'zart_wake_up_latency_seconds_count')).toEqual([]);
    expect(sampleValue(text, 'zart_runs', { queue: 'default', status: 'running' })).toBe(0);
    expect(text).not.toContain('scraped-1');
  }, 180_000);
});
