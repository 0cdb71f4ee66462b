import { Writable } from 'node:stream';
import { setTimeout as delay } from 'node:timers/promises';
import pino from 'pino';
import { Workflow, pinoZartLogger, step, waitForEvent } from '../../src';
import { useTestDatabase } from '../support/test-zart';
import { waitFor } from '../support/wait-for';

const db = useTestDatabase();

// Appears in the input, a step's output and error, an event's payload and the run's output:
// a log line that carried a payload would carry it.
const secret = 'card-4111-1111-1111-1111';

let charges = 0;
let runAttempts = 0;
let slowCalls = 0;

@Workflow({ name: 'logged-order', retry: { maxAttempts: 2, initialDelay: '10ms' } })
class LoggedOrder {
  async run(input: { card: string }): Promise<string> {
    const token = await step('tokenize', () => `token for ${input.card}`);
    await step(
      'charge',
      () => {
        if (charges++ === 0) throw new Error(`declined: ${input.card}`);
        return `charged ${token}`;
      },
      { retry: { maxAttempts: 2, initialDelay: '1ms' } },
    );
    await step('slow', () => delay(slowCalls++ === 0 ? 2_000 : 0, undefined, { ref: false }), {
      timeout: '100ms',
      retry: { maxAttempts: 3, initialDelay: '1ms' },
    });
    const shipped = await waitForEvent<{ address: string }>('shipped');
    // Fails the first run attempt as a whole: the run is retried from its checkpoints.
    if (runAttempts++ === 0) throw new Error(`lost the parcel for ${shipped.address}`);
    return `${shipped.address} ${secret}`;
  }
}

describe('structured logs', () => {
  it('gives every line about a run its id, workflow and attempt, and step lines the step and its attempt, as pino properties', async () => {
    const lines: Array<Record<string, unknown>> = [];
    const destination = new Writable({
      write(chunk: Buffer, _encoding, done) {
        lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
        done();
      },
    });
    const logger = pinoZartLogger(pino({ level: 'debug' }, destination));
    const zart = await db.zart({ logger });
    const handle = await zart.startWorkflow(LoggedOrder, { card: secret }, { id: 'logged-1' });
    await waitFor(async () => (await zart.getRun('logged-1')).status === 'waiting');
    await zart.sendEvent('logged-1', 'shipped', { address: `1 Main St ${secret}` });
    expect(await handle.result({ timeout: '30s' })).toContain(secret);

    const about = lines.filter((line) => line.runId === 'logged-1');
    const message = (text: string): Record<string, unknown> | undefined => about.find((line) => line.msg === text);
    // pino's own shape: numeric level, msg, and zart's fields beside them.
    expect(message('step attempt failed; retrying')).toMatchObject({
      level: 20,
      component: 'zart',
      runId: 'logged-1',
      workflow: 'logged-order',
      attempt: 1,
      step: 'charge#0',
      stepAttempt: 1,
    });
    expect(message('a step attempt timed out')).toMatchObject({
      level: 40,
      workflow: 'logged-order',
      attempt: 1,
      step: 'slow#0',
      stepAttempt: 1,
    });
    expect(message('run failed; retrying it from its checkpoints')).toMatchObject({
      level: 30,
      workflow: 'logged-order',
      attempt: 1,
      delayMs: 10,
    });
    expect(message('run completed')).toMatchObject({ level: 20, workflow: 'logged-order', attempt: 2 });
    for (const line of about) expect(line).toMatchObject({ workflow: 'logged-order', attempt: expect.any(Number) });

    // No payload at any level: not the input, outputs, errors, event payload or the result.
    expect(lines.length).toBeGreaterThan(4);
    for (const line of lines) expect(JSON.stringify(line)).not.toContain(secret);
  });
});
