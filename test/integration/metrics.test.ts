import { Registry } from 'prom-client';
import { ConfigurationError, Workflow, ZartClient, sleep, startChild, step } from '../../src';
import { sampleValue, parseSamples } from '../support/prometheus-text';
import { useTestDatabase } from '../support/test-zart';
import { waitFor } from '../support/wait-for';

const db = useTestDatabase();

let chargeCalls = 0;
let release: () => void = () => undefined;
const gate = new Promise<void>((resolve) => (release = resolve));

@Workflow({ name: 'metrics-order' })
class Order {
  async run(input: { gated: boolean }): Promise<string> {
    await step('reserve', () => 'reserved');
    if (input.gated) await step('held', () => gate);
    return step(
      'charge',
      () => {
        if (chargeCalls++ === 0) throw new Error('the payment provider is down');
        return 'charged';
      },
      { retry: { maxAttempts: 3, initialDelay: '10ms' } },
    );
  }
}

@Workflow({ name: 'metrics-failing' })
class Failing {
  async run(): Promise<void> {
    await step('explode', () => {
      throw new Error('boom');
    });
  }
}

@Workflow({ name: 'metrics-child' })
class Child {
  async run(): Promise<number> {
    return step('compute', () => 42);
  }
}

@Workflow({ name: 'metrics-parent' })
class Parent {
  async run(): Promise<number> {
    const child = await startChild(Child, undefined);
    return child.result();
  }
}

@Workflow({ name: 'metrics-sleeper' })
class Sleeper {
  async run(): Promise<void> {
    await sleep('1h');
  }
}

@Workflow({ name: 'metrics-report', queue: 'reports' })
class Report {
  async run(): Promise<void> {
    await step('render', () => undefined);
  }
}

describe('Prometheus metrics', () => {
  it('counts runs, step attempts, checkpoints, wake-ups and executions by workflow, and reads queues at scrape', async () => {
    const registry = new Registry();
    const zart = await db.zart({ metrics: { registry } });
    const read = async (): Promise<string> => {
      const { contentType, body } = await zart.metricsText();
      expect(contentType).toMatch(/^text\/plain; version=0\.0\.4/);
      return body;
    };

    // One order held in a step: one execution in flight.
    const held = await zart.startWorkflow(Order, { gated: true }, { id: 'rid-held' });
    await waitFor(async () => (await zart.getSteps('rid-held')).length === 1);
    expect(sampleValue(await read(), 'zart_executions_in_flight', { workflow: 'metrics-order' })).toBe(1);
    release();
    expect(await held.result({ timeout: '20s' })).toBe('charged');

    await expect((await zart.startWorkflow(Failing, undefined, { id: 'rid-failed' })).result()).rejects.toThrow();
    expect(await (await zart.startWorkflow(Parent, undefined, { id: 'rid-parent' })).result()).toBe(42);
    await zart.startWorkflow(Sleeper, undefined, { id: 'rid-sleeping' });
    await zart.startWorkflow(Sleeper, undefined, { id: 'rid-cancelled' });
    await waitFor(async () => (await zart.getRun('rid-cancelled')).status === 'waiting');
    await waitFor(async () => (await zart.getRun('rid-sleeping')).status === 'waiting');
    await zart.cancel('rid-cancelled');
    await zart.startWorkflow(Report, undefined, { id: 'rid-report' }); // no worker serves 'reports'

    const text = await read();
    const value = (name: string, labels: Record<string, string> = {}): number | undefined =>
      sampleValue(text, name, labels);
    expect(value('zart_runs_started_total', { workflow: 'metrics-order' })).toBe(1);
    expect(value('zart_runs_started_total', { workflow: 'metrics-child' })).toBe(1); // started by startChild
    expect(value('zart_runs_started_total', { workflow: 'metrics-sleeper' })).toBe(2);
    expect(value('zart_runs_finished_total', { workflow: 'metrics-order', status: 'completed' })).toBe(1);
    expect(value('zart_runs_finished_total', { workflow: 'metrics-child', status: 'completed' })).toBe(1);
    expect(value('zart_runs_finished_total', { workflow: 'metrics-failing', status: 'failed' })).toBe(1);
    expect(value('zart_runs_finished_total', { workflow: 'metrics-sleeper', status: 'cancelled' })).toBe(1);

    // The charge step failed once and was retried, then completed; replays are not attempts.
    const charge = { workflow: 'metrics-order', step: 'charge' };
    expect(value('zart_step_duration_seconds_count', { ...charge, outcome: 'retried' })).toBe(1);
    expect(value('zart_step_duration_seconds_count', { ...charge, outcome: 'completed' })).toBe(1);
    expect(
      value('zart_step_duration_seconds_count', { workflow: 'metrics-order', step: 'reserve', outcome: 'completed' }),
    ).toBe(1);
    expect(
      value('zart_step_duration_seconds_count', { workflow: 'metrics-failing', step: 'explode', outcome: 'failed' }),
    ).toBe(1);
    expect(value('zart_step_duration_seconds_bucket', { ...charge, outcome: 'completed', le: '+Inf' })).toBe(1);

    // Every checkpoint written here was timed, and went out in some batch.
    const written = value('zart_checkpoint_write_seconds_count')!;
    expect(written).toBeGreaterThanOrEqual(6);
    expect(value('zart_checkpoint_write_seconds_sum')).toBeGreaterThan(0);
    expect(value('zart_checkpoint_batch_size_sum')).toBeGreaterThanOrEqual(written);

    // Each claim of a due run measured its wake-up; nothing was taken over here.
    expect(value('zart_wake_up_latency_seconds_count', { queue: 'default' })).toBeGreaterThanOrEqual(6);
    expect(parseSamples(text).filter((s) => s.name === 'zart_lease_takeovers_total')).toEqual([]);
    expect(value('zart_executions_in_flight', { workflow: 'metrics-order' })).toBe(0);

    // Scrape-time gauges: one sleeping run waits in 'default', the report is due in 'reports'.
    expect(value('zart_runs', { queue: 'default', status: 'waiting' })).toBe(1);
    expect(value('zart_runs', { queue: 'default', status: 'pending' })).toBe(0);
    expect(value('zart_runs', { queue: 'reports', status: 'pending' })).toBe(1);
    expect(value('zart_runs_due', { queue: 'reports' })).toBe(1);
    expect(value('zart_runs_due', { queue: 'default' })).toBe(0);
    expect(value('zart_oldest_due_run_age_seconds', { queue: 'reports' })).toBeGreaterThanOrEqual(0);

    // Bounded labels: no run id appears anywhere in the exposition.
    for (const id of ['rid-held', 'rid-failed', 'rid-parent', 'rid-sleeping', 'rid-report'])
      expect(text).not.toContain(id);
  });

  it('reports the oldest due run of a backlog by its age on the database clock', async () => {
    const registry = new Registry();
    const client = await db.client({ metrics: { registry } });
    await db.sql.query("UPDATE zart.runs SET available_at = now() - interval '90 seconds' WHERE id = 'rid-report'");
    const { body } = await client.metricsText();
    expect(sampleValue(body, 'zart_oldest_due_run_age_seconds', { queue: 'reports' })).toBeGreaterThanOrEqual(90);
    expect(sampleValue(body, 'zart_oldest_due_run_age_seconds', { queue: 'reports' })).toBeLessThan(600);
  });

  it('lets several Zart instances share one registry, and serves the app metrics registered beside them', async () => {
    const registry = new Registry();
    const first = await db.client({ metrics: { registry } });
    const second = await db.client({ metrics: { registry } });
    await second.startWorkflow(Child, undefined, { id: 'metrics-shared-1' });
    await first.startWorkflow(Child, undefined, { id: 'metrics-shared-2' });
    const { Counter } = await import('prom-client');
    new Counter({ name: 'app_orders_total', help: 'orders', registers: [registry] }).inc(3);
    const { body } = await first.metricsText();
    expect(sampleValue(body, 'zart_runs_started_total', { workflow: 'metrics-child' })).toBe(2);
    expect(sampleValue(body, 'app_orders_total')).toBe(3);
    expect((await registry.metrics()).includes('zart_runs{')).toBe(true);
  });

  it('is off by default: metricsText() says how to turn it on', async () => {
    const client = await db.client();
    await expect(client.metricsText()).rejects.toThrow(ConfigurationError);
    await expect(client.metricsText()).rejects.toThrow(/metrics: true/);
  });

  it('refuses a metrics option that is not one, before connecting', () => {
    expect(() => new ZartClient({ connectionString: db.url, metrics: 'yes' as never })).toThrow(
      /metrics must be true, false or \{ registry \}/,
    );
    expect(() => new ZartClient({ connectionString: db.url, metrics: { registry: {} as never } })).toThrow(
      /metrics.registry must be a prom-client Registry/,
    );
    expect(() => new ZartClient({ connectionString: db.url, metrics: { regsitry: 1 } as never })).toThrow(
      /Unknown option "regsitry" in metrics/,
    );
  });
});
