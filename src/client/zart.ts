// Zart: a ZartClient with a worker that claims and executes runs in this process.
import { randomUUID } from 'node:crypto';
import { setTimeout as delay } from 'node:timers/promises';
import { parseDuration, type Duration } from '../duration/parse-duration';
import type { ZartOptions } from '../options/resolve-options';
import { CheckpointWriter } from '../storage/checkpoint-writer';
import type { RunOutcomeRow } from '../storage/sql/read-run-outcome';
import { Worker } from '../worker/worker';
import { ZartClient } from './zart-client';

/** Options of `shutdown()`. */
export interface ShutdownOptions {
  /** How long in-flight runs may take to finish before they are handed back. Default: `worker.drain`. */
  drain?: Duration;
}

/** Starts, inspects and executes durable workflows. */
export class Zart extends ZartClient {
  private worker: Worker | undefined;

  constructor(options: ZartOptions = {}) {
    super(options);
  }

  /** Connects, migrates, discovers the declared workflows and starts the worker. */
  override async start(): Promise<void> {
    if (this.db) return;
    await super.start();
    const workerOptions = this.options.worker;
    if (workerOptions === false) return;
    this.worker = new Worker(
      {
        db: this.connected(),
        serializer: this.options.serializer,
        logger: this.options.logger,
        owner: `${process.pid}-${randomUUID()}`,
        resolve: this.options.resolve,
        checkpoints: new CheckpointWriter(this.connected(), this.options.logger),
        wakeUps: this.wakeUps!,
        maxInProcessWaitMs: workerOptions.maxInProcessWaitMs,
        onSuspended: (wakeInMs) => this.worker?.wakeAfter(wakeInMs),
        registry: this.registry!,
      },
      this.registry!,
      workerOptions,
    );
    await this.worker.start();
  }

  /** Stops claiming, lets in-flight runs finish (up to `drain`), hands the rest back, disconnects. */
  override async shutdown(options: ShutdownOptions = {}): Promise<void> {
    const worker = this.worker;
    this.worker = undefined;
    if (worker) {
      const configured = this.options.worker === false ? 0 : this.options.worker.drainMs;
      await worker.stop(options.drain === undefined ? configured : parseDuration(options.drain, 'shutdown({ drain })'));
    }
    await super.shutdown();
  }

  /** @internal A run started here starts here at once when the worker has room; else wake others. */
  protected override runStarted(id: string): void {
    if (this.worker?.hasCapacity) this.worker.nudge();
    else super.runStarted(id);
  }

  /** @internal */
  protected override hasWorker(): boolean {
    return true;
  }

  /** @internal */
  protected override async waitForChange(
    id: string,
    pauseMs: number,
    maxMs: number,
  ): Promise<RunOutcomeRow | undefined> {
    const worker = this.worker;
    if (!worker) return super.waitForChange(id, pauseMs, maxMs);
    // A run executing here ends with an event: no need to poll for it meanwhile.
    const ms = worker.isExecuting(id) ? Math.min(maxMs, 60_000) : pauseMs;
    const finished = new AbortController();
    let recorded: RunOutcomeRow | undefined;
    const off = worker.onRunFinished((runId, outcome) => {
      if (runId !== id) return;
      if (outcome?.status === 'completed') recorded = { status: 'completed', output: outcome.output, error: null };
      if (outcome?.status === 'failed') recorded = { status: 'failed', output: null, error: outcome.error };
      finished.abort();
    });
    try {
      await delay(ms, undefined, { signal: finished.signal }).catch(() => undefined);
    } finally {
      off();
    }
    return recorded;
  }
}
