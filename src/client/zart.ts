// Zart: a ZartClient with a worker that claims and executes runs in this process.
import { randomUUID } from 'node:crypto';
import { parseDuration, type Duration } from '../duration/parse-duration';
import type { TestHooks } from '../engine/test-hooks';
import { checkBuildableWithNew } from '../engine/workflow-instance';
import { checkCallOptions, type ZartOptions } from '../options/resolve-options';
import { CheckpointWriter } from '../storage/checkpoint-writer';
import { FinishWriter } from '../storage/finish-writer';
import type { RunOutcomeRow } from '../storage/sql/read-run-outcome';
import type { RunPlacement } from '../storage/sql/insert-run';
import { claimedAtStart, type StartClaim, type StartedRun } from '../storage/sql/insert-runs';
import { Worker } from '../worker/worker';
import { ScheduleTicker } from '../schedules/schedule-ticker';
import { saveDeclaredSchedules } from '../schedules/schedule-store';
import { ZartClient } from './zart-client';

/** Options of `shutdown()`. */
export interface ShutdownOptions {
  /** How long in-flight runs may take to finish before they are handed back. Default: `worker.drain`. */
  drain?: Duration | undefined;
}

/** Starts, inspects and executes durable workflows. */
export class Zart extends ZartClient {
  private worker: Worker | undefined;
  private finishes: FinishWriter | undefined;
  /** Fires schedule ticks; runs beside the worker. */
  private ticker: ScheduleTicker | undefined;
  /** Runs started here with the worker claiming for them: each until that claim round ends. */
  private readonly claimsOfStarts = new Map<string, Promise<void>>();

  constructor(options: ZartOptions = {}) {
    super(options);
  }

  /** @internal Connects, migrates, discovers the declared workflows (see start()), then starts the worker. */
  protected override async startOnce(): Promise<void> {
    await super.startOnce();
    // The code's @Schedule declarations are saved by every process that runs the code, worker or not.
    await saveDeclaredSchedules(
      { db: this.connected(), registry: this.registry!, serializer: this.options.serializer },
      this.options.logger,
    );
    const workerOptions = this.options.worker;
    if (workerOptions === false) return;
    // Before the first claim: a run must never be what finds out its workflow cannot be built.
    if (this.options.resolvesWithNew) checkBuildableWithNew(this.registry!.workflows.map((w) => w.target));
    const worker: Worker = new Worker(
      {
        db: this.connected(),
        serializer: this.options.serializer,
        logger: this.options.logger,
        owner: `${process.pid}-${randomUUID()}`,
        resolve: this.options.resolve,
        checkpoints: new CheckpointWriter(this.connected(), this.options.logger, this.options.metrics),
        finishes: (this.finishes = new FinishWriter(this.connected())),
        wakeUps: this.wakeUps!,
        maxInProcessWaitMs: workerOptions.maxInProcessWaitMs,
        onSuspended: (wakeInMs) => this.worker?.wakeAfter(wakeInMs),
        // This worker itself, not this.worker (unset while shutdown drains): a batch of children
        // started by one of its runs may start claimed by it (engine/child-batches.ts).
        reserveStart: (queue, wanted) => worker.reserveStart(queue, wanted),
        startReserved: (claim, runs) => worker.startReserved(claim, runs),
        registry: this.registry!,
        knownQueues: this.knownQueues,
        testHooks: this.testHooks(),
        metrics: this.options.metrics,
        tracing: this.options.tracing,
      },
      this.registry!,
      workerOptions,
      this.options.queues,
    );
    this.worker = worker;
    try {
      await worker.start();
    } catch (error) {
      // start() closes the connection after this; a half-started worker must not outlive it.
      this.worker = undefined;
      await worker.stop(0).catch(() => undefined);
      throw error;
    }
    const ticker = new ScheduleTicker(
      this.connected(),
      this.registry!,
      this.options.logger,
      workerOptions.pollIntervalMs,
    );
    this.ticker = ticker;
    // Another process added or resumed a schedule: look now, not at the next tick known here.
    worker.onSchedulesChanged = () => ticker.nudge();
    ticker.start();
  }

  /** @internal */
  protected override schedulesChanged(): void {
    this.ticker?.nudge();
  }

  /**
   * Stops claiming, lets in-flight runs finish (up to `drain`), hands the rest back, disconnects.
   * The options are checked before anything stops; concurrent calls share one shutdown.
   */
  override async shutdown(options: ShutdownOptions = {}): Promise<void> {
    checkCallOptions(options, 'shutdown(options)', "{ drain: '10s' }");
    const drainMs =
      options.drain === undefined
        ? this.options.worker === false
          ? 0
          : this.options.worker.drainMs
        : parseDuration(options.drain, 'shutdown({ drain })');
    return this.stopOnce(async () => {
      const ticker = this.ticker;
      this.ticker = undefined;
      await ticker?.stop();
      const worker = this.worker;
      this.worker = undefined;
      await worker?.stop(drainMs);
      // The looks at batches' parents that the last finishes asked for, before the pool closes.
      await this.finishes?.settled();
    });
  }

  /**
   * @internal None: only zart/testing's environment, a subclass, skips time and injects crashes,
   * so no option of a production Zart can turn either on.
   */
  protected testHooks(): TestHooks | undefined {
    return undefined;
  }

  /** @internal Unlimited queues only, due now: a delayed or scheduled run waits for its time. */
  protected override claimAtStart(queue: string, placement: RunPlacement): StartClaim | null {
    if (placement.startAt !== null || (placement.delayMs ?? 0) > 0 || placement.partitionKey !== null) return null;
    return this.worker?.reserveStart(queue) ?? null;
  }

  /** @internal A run inserted claimed by this worker is a fresh first claim: it executes now. */
  protected override startedHere(claim: StartClaim, run: StartedRun | undefined): void {
    this.worker?.startReserved(claim, run ? [claimedAtStart(run, null)] : []);
  }

  /**
   * @internal A run started here starts here at once when the worker has room; else wake others.
   * A delayed run wakes this worker when it is due (other workers find it at their poll).
   */
  protected override runStarted(id: string, queue: string, startsInMs: number): void {
    if (startsInMs > 0) {
      this.worker?.wakeAfter(startsInMs);
      return;
    }
    // A run of a queue this worker does not serve (say, started with { queue }) is for the others.
    if (this.worker?.hasCapacity && this.worker.serves(queue)) {
      const claimed = this.worker.claimSoon();
      this.claimsOfStarts.set(id, claimed);
      void claimed.then(() => this.claimsOfStarts.delete(id));
    } else super.runStarted(id, queue, startsInMs);
  }

  /**
   * @internal A run started here and being claimed here is not read while it executes here: its
   * result comes with the end of its execution. Past the claim round that followed its start, a
   * run that is not executing here (claimed elsewhere, or not yet) is read as usual.
   */
  protected override async outcomeFromHere(id: string, maxMs: number): Promise<RunOutcomeRow | undefined> {
    const claimed = this.claimsOfStarts.get(id);
    if (claimed) await settledWithin(claimed, Math.min(maxMs, 60_000));
    if (!this.worker?.isExecuting(id)) return undefined;
    return this.waitForChange(id, maxMs, maxMs);
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
    // A run executing here ends with an event: no need to poll for it meanwhile.
    if (!worker?.isExecuting(id)) return super.waitForChange(id, pauseMs, maxMs);
    const outcome = await settledWithin(worker.runEnded(id), Math.min(maxMs, 60_000));
    if (outcome?.status === 'completed') return { status: 'completed', output: outcome.output, error: null };
    if (outcome?.status === 'failed') return { status: 'failed', output: null, error: outcome.error };
    return undefined;
  }
}

// The value of `promise` (one that never rejects: a claim round's end, an execution's end), or
// undefined once `ms` have passed; the timer does not outlive it. Plain timers: an AbortSignal per
// wait cost a DOMException per result() (bench W2's profile).
function settledWithin<T>(promise: Promise<T>, ms: number): Promise<T | undefined> {
  return new Promise<T | undefined>((resolve) => {
    const timer = setTimeout(resolve, ms, undefined);
    void promise.then((value) => {
      clearTimeout(timer);
      resolve(value);
    });
  });
}
