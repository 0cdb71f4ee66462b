// Prometheus metrics of zart through the application's prom-client: counters and histograms the
// engine updates as runs, steps and checkpoints happen, and gauges of runs per queue read from the
// database when the registry is scraped (one query per scrape, never per run). Labels are workflow,
// step, queue and status names: bounded, never run ids. With metrics off nothing here is built.
import type * as PromClient from 'prom-client';
import { ConfigurationError } from '../errors';
import { loadOptionalPackage } from './optional-package';

/** A prom-client `Registry` (the app's, or prom-client's default `register`). */
export interface MetricsRegistry {
  readonly contentType: string;
  metrics(): Promise<string>;
  getSingleMetric(name: string): unknown;
  registerMetric(metric: never): void;
}

/** The `metrics` option: where zart's metrics are registered. */
export interface MetricsOptions {
  /** The prom-client registry to register into. Default: prom-client's default `register`. */
  registry?: MetricsRegistry | undefined;
}

/** What GET /metrics serves: the registry's text exposition and its content type. */
export interface MetricsText {
  contentType: string;
  body: string;
}

/** Runs of one queue, as the scrape-time gauges report them. */
export interface QueueRunCounts {
  queue: string;
  pending: number;
  waiting: number;
  running: number;
  /** Pending or waiting runs whose time has come: claimable now, not yet claimed. */
  due: number;
  /** Seconds since the oldest due run became due; 0 when none is due. */
  oldestDueSeconds: number;
}

/** @internal Counts runs per queue for a scrape; one query against one Zart's database. */
export type QueueRunCounter = () => Promise<QueueRunCounts[]>;

type Client = typeof PromClient;

// Seconds. Steps run from microseconds (cached calls) to minutes (payment providers, LLM calls).
const stepBuckets = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300];
// A checkpoint commit is one round trip; past a second something is wrong.
const checkpointBuckets = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5];
// Rows per group-commit statement, up to the writer's cap of 500.
const batchBuckets = [1, 2, 4, 8, 16, 32, 64, 128, 256, 500];
// From "due" to claimed: a NOTIFY wake-up is milliseconds, a poll up to its interval, a backlog more.
const wakeUpBuckets = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

/** @internal The metrics of every Zart instance registered in one registry. */
export class ZartMetrics {
  private readonly runsStarted: PromClient.Counter<'workflow'>;
  private readonly runsFinished: PromClient.Counter<'workflow' | 'status'>;
  private readonly stepDuration: PromClient.Histogram<'workflow' | 'step' | 'outcome'>;
  private readonly checkpointLatency: PromClient.Histogram;
  private readonly checkpointBatch: PromClient.Histogram;
  private readonly inFlight: PromClient.Gauge<'workflow'>;
  private readonly takeovers: PromClient.Counter<'workflow'>;
  private readonly leasesLost: PromClient.Counter<'workflow'>;
  private readonly wakeUpLatency: PromClient.Histogram<'queue'>;
  /** The databases the scrape-time gauges read: one per live Zart instance, oldest first. */
  private readonly counters: QueueRunCounter[] = [];
  private sample: Promise<QueueRunCounts[] | undefined> | undefined;

  private constructor(
    client: Client,
    readonly registry: MetricsRegistry,
  ) {
    const registers = [registry as unknown as PromClient.Registry];
    this.runsStarted = new client.Counter({
      name: 'zart_runs_started_total',
      help: 'Runs started by this process (startWorkflow, startChild, fork), by workflow.',
      labelNames: ['workflow'],
      registers,
    });
    this.runsFinished = new client.Counter({
      name: 'zart_runs_finished_total',
      help: 'Runs that reached an end here: completed or failed by this worker, cancelled by this process.',
      labelNames: ['workflow', 'status'],
      registers,
    });
    this.stepDuration = new client.Histogram({
      name: 'zart_step_duration_seconds',
      help: 'Duration of step attempts executed here (not replays), by workflow, step and outcome (completed, retried, failed).',
      labelNames: ['workflow', 'step', 'outcome'],
      buckets: stepBuckets,
      registers,
    });
    this.checkpointLatency = new client.Histogram({
      name: 'zart_checkpoint_write_seconds',
      help: 'Time from a checkpoint write being asked for to its commit (group commit included).',
      buckets: checkpointBuckets,
      registers,
    });
    this.checkpointBatch = new client.Histogram({
      name: 'zart_checkpoint_batch_size',
      help: 'Checkpoints written per statement by group commit.',
      buckets: batchBuckets,
      registers,
    });
    this.inFlight = new client.Gauge({
      name: 'zart_executions_in_flight',
      help: 'Runs executing in this process now, by workflow.',
      labelNames: ['workflow'],
      registers,
    });
    this.takeovers = new client.Counter({
      name: 'zart_lease_takeovers_total',
      help: "Runs this worker took over after their worker's lease expired (a crashed or stalled worker): crash recoveries.",
      labelNames: ['workflow'],
      registers,
    });
    this.leasesLost = new client.Counter({
      name: 'zart_leases_lost_total',
      help: 'Executions stopped here because the run was taken over or cancelled meanwhile (a stalled worker).',
      labelNames: ['workflow'],
      registers,
    });
    this.wakeUpLatency = new client.Histogram({
      name: 'zart_wake_up_latency_seconds',
      help: 'Seconds from a run becoming due (started, woken by an event or a child, its sleep over) to its claim, by queue.',
      labelNames: ['queue'],
      buckets: wakeUpBuckets,
      registers,
    });
    const queueGauge = (
      name: string,
      help: string,
      labelNames: string[],
      read: (gauge: PromClient.Gauge, counts: QueueRunCounts[]) => void,
    ): void => {
      const collect = async (gauge: PromClient.Gauge): Promise<void> => {
        const counts = await this.sampleQueues();
        gauge.reset();
        if (counts) read(gauge, counts);
      };
      new client.Gauge({
        name,
        help,
        labelNames,
        registers,
        collect(this: PromClient.Gauge) {
          return collect(this);
        },
      });
    };
    queueGauge(
      'zart_runs',
      'Runs pending, waiting and running now, by queue (read at scrape).',
      ['queue', 'status'],
      (g, counts) => {
        for (const c of counts) {
          g.set({ queue: c.queue, status: 'pending' }, c.pending);
          g.set({ queue: c.queue, status: 'waiting' }, c.waiting);
          g.set({ queue: c.queue, status: 'running' }, c.running);
        }
      },
    );
    queueGauge(
      'zart_runs_due',
      'Pending or waiting runs that are due and not yet claimed (the backlog), by queue.',
      ['queue'],
      (g, counts) => {
        for (const c of counts) g.set({ queue: c.queue }, c.due);
      },
    );
    queueGauge(
      'zart_oldest_due_run_age_seconds',
      'Seconds since the oldest due, unclaimed run became due, by queue; 0 without a backlog.',
      ['queue'],
      (g, counts) => {
        for (const c of counts) g.set({ queue: c.queue }, c.oldestDueSeconds);
      },
    );
  }

  /**
   * The metrics of `registry`, registered on first use. Later Zart instances (and a second
   * installed copy of zart) share them: prom-client refuses a name registered twice.
   */
  static of(registry: MetricsRegistry): ZartMetrics {
    const shared = sharedMetrics();
    let metrics = shared.get(registry);
    if (!metrics) {
      if (registry.getSingleMetric('zart_runs_started_total') !== undefined) {
        throw new ConfigurationError(
          'The metrics registry already holds zart_* metrics registered outside zart. Remove them, or pass zart another registry (metrics: { registry }).',
        );
      }
      metrics = new ZartMetrics(promClient(), registry);
      shared.set(registry, metrics);
    }
    return metrics;
  }

  /** prom-client's default registry (`metrics: true`). */
  static defaultRegistry(): MetricsRegistry {
    return promClient().register;
  }

  /** Adds a database to the scrape-time gauges; returns the function that removes it. */
  addQueueCounter(counter: QueueRunCounter): () => void {
    this.counters.push(counter);
    return () => {
      const index = this.counters.indexOf(counter);
      if (index >= 0) this.counters.splice(index, 1);
    };
  }

  async text(): Promise<MetricsText> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }

  runStarted(workflow: string): void {
    this.runsStarted.inc({ workflow });
  }

  runFinished(workflow: string, status: 'completed' | 'failed' | 'cancelled'): void {
    this.runsFinished.inc({ workflow, status });
  }

  stepAttempt(workflow: string, step: string, outcome: 'completed' | 'retried' | 'failed', seconds: number): void {
    this.stepDuration.observe({ workflow, step, outcome }, seconds);
  }

  checkpointWritten(seconds: number): void {
    this.checkpointLatency.observe(seconds);
  }

  checkpointBatchSent(size: number): void {
    this.checkpointBatch.observe(size);
  }

  executionStarted(workflow: string): void {
    this.inFlight.inc({ workflow });
  }

  executionEnded(workflow: string): void {
    this.inFlight.dec({ workflow });
  }

  leaseTakenOver(workflow: string): void {
    this.takeovers.inc({ workflow });
  }

  leaseLost(workflow: string): void {
    this.leasesLost.inc({ workflow });
  }

  wokenUp(queue: string, seconds: number): void {
    this.wakeUpLatency.observe({ queue }, Math.max(0, seconds));
  }

  // The three queue gauges are collected concurrently by one scrape: they share one query. The
  // oldest live Zart instance's database is read; a failed read leaves the gauges empty for this
  // scrape (no stale values) rather than failing the whole /metrics.
  private sampleQueues(): Promise<QueueRunCounts[] | undefined> {
    const counter = this.counters[0];
    if (!counter) return Promise.resolve(undefined);
    this.sample ??= counter()
      .catch(() => undefined)
      .finally(() => setImmediate(() => (this.sample = undefined)));
    return this.sample;
  }
}

function promClient(): Client {
  const client = loadOptionalPackage<Client>('prom-client');
  if (!client) {
    throw new ConfigurationError(
      'The metrics option needs prom-client, which is not installed. Run `npm install prom-client`, or remove the metrics option.',
    );
  }
  return client;
}

// Shared by every copy of zart in the process, as prom-client's registries are.
const sharedKey = Symbol.for('zart.metrics');

function sharedMetrics(): WeakMap<MetricsRegistry, ZartMetrics> {
  const holder = globalThis as { [sharedKey]?: WeakMap<MetricsRegistry, ZartMetrics> };
  return (holder[sharedKey] ??= new WeakMap());
}
