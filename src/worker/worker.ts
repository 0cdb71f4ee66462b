// The claim loop of one process: claims runnable runs up to its concurrency when woken (a
// LISTEN/NOTIFY wake-up, a run started here, a run finished here) or at the poll interval,
// executes them, and renews their leases in one statement every lease/3. On stop it claims no
// more, hands each run back at its next step boundary, and past the drain time hands back the rest.
// An execution is one claim of a run, known by (run id, lease epoch): after an event-loop stall,
// a park or a takeover, two executions of one run may overlap here for a moment, and each is
// renewed, signalled, counted and forgotten on its own.
import { hostname } from 'node:os';
import { setTimeout as delay } from 'node:timers/promises';
import { outsideAnyRun } from '../context/run-context';
import type { ExecutionServices } from '../engine/execution-core';
import { RunExecution } from '../engine/run-execution';
import type { ResolvedWorkerOptions } from '../options/resolve-options';
import { zartVersion } from '../options/zart-version';
import type { WorkflowRegistry } from '../registry/workflow-registry';
import type { ResolvedQueues } from '../queues/resolve-queue-options';
import { claimRuns, type ClaimedRun } from '../storage/sql/claim-runs';
import { claimQueueRuns } from '../storage/sql/claim-queue-runs';
import type { RunOutcome } from '../storage/sql/finish-runs';
import { registerWorker, unregisterWorker } from '../storage/sql/register-worker';
import { releaseRuns } from '../storage/sql/release-runs';
import type { StartClaim } from '../storage/sql/insert-runs';
import { leaseKeyOf, renewLeases } from '../storage/sql/renew-leases';
import { WakeUpListener } from '../wake-ups/wake-up-listener';
import { schedulesChanged } from '../storage/sql/change-schedule';

// The longest delay setTimeout takes (24.8 days).
const maxTimerMs = 2 ** 31 - 1;

/** @internal */
export class Worker {
  /** Executions in flight here, each with the promise that settles when it has ended. */
  private readonly executions = new Map<RunExecution, Promise<void>>();
  /** The same executions by run id (usually one each; two overlap for a moment after a stall). */
  private readonly executionsByRun = new Map<string, RunExecution[]>();
  /** Callers of runEnded(), by run id: told when the next execution of that run ends here. */
  private readonly endWaiters = new Map<string, Array<(outcome: RunOutcome | undefined) => void>>();
  /** Slots held for runs being started here claimed by this worker (reserveStart()). */
  private reservedStarts = 0;
  /** Runs the claim round in flight may yet bring (its limit): not free for a start to take. */
  private claimingUpTo = 0;
  private readonly listener: WakeUpListener;
  private running = false;
  private wake: (() => void) | undefined;
  /** A wake-up that arrived while the loop was busy claiming: the next sleep returns at once. */
  private woken = false;
  /**
   * The last claim round was bounded by this worker's room, not by the runs there were: runs may
   * be left that a freed slot should take at once. Else a run finished here needs no claim round
   * (every run that becomes due later comes with a wake-up, a timer or the poll).
   */
  private saturated = false;
  private loop: Promise<void> | undefined;
  private renewTimer: NodeJS.Timeout | undefined;
  private claimErrors = 0;
  private renewing = false;
  private dueTimer: NodeJS.Timeout | undefined;
  private dueAt = 0;
  /** What one claim round claims from, in turn: the unlimited queues together, then each limited queue. */
  private readonly claimOrder: Array<{ unlimited: readonly string[] } | { limited: string }>;
  private claimTurn = 0;
  /** Claim rounds begun and ended; waiters for a round that begins after they asked (see claimedSoon). */
  private roundsBegun = 0;
  private roundsEnded = 0;
  private roundWaiters: Array<{ after: number; resolve: () => void }> = [];
  /** Called when another process added, changed or resumed a schedule (Zart's ticker looks then). */
  onSchedulesChanged: (() => void) | undefined;

  constructor(
    private readonly services: ExecutionServices,
    private readonly registry: WorkflowRegistry,
    private readonly options: ResolvedWorkerOptions,
    private readonly queues: ResolvedQueues,
  ) {
    const unlimited = options.queues.filter((queue) => !queues.limited.has(queue));
    this.claimOrder = [
      ...(unlimited.length > 0 ? [{ unlimited }] : []),
      ...options.queues.filter((queue) => queues.limited.has(queue)).map((limited) => ({ limited })),
    ];
    this.listener = new WakeUpListener(
      services.db,
      (payload) => (payload === schedulesChanged ? this.onSchedulesChanged?.() : this.nudge()),
      (runIds) => {
        for (const id of runIds) for (const execution of this.executionsOf(id)) execution.cancel();
      },
      services.logger,
    );
  }

  get id(): string {
    return this.services.owner;
  }

  // The code versions whose runs this worker replays: its workflows' own and those declared
  // compatible. None at all (nothing versioned): every run, as before versions were served.
  private get servedVersions(): readonly string[] | null {
    const versions = [...new Set([...this.registry.versions, ...this.options.compatibleVersions])];
    return versions.length === 0 ? null : versions;
  }

  /** Whether a run started now would be claimed here at once. */
  get hasCapacity(): boolean {
    return this.running && this.free > 0;
  }

  /** Slots neither executing nor held for a start. */
  private get free(): number {
    return this.options.concurrency - this.executions.size - this.reservedStarts;
  }

  /**
   * Holds slots for up to `wanted` runs of `queue` this process is starting, to insert them claimed
   * by this worker (storage/sql/insert-runs.ts, insert-child-runs.ts): the claim with its lease and
   * the slots held, or null when this worker cannot take one now (no room, a queue it does not
   * serve, or one with limits, which only a claim enforces).
   */
  reserveStart(queue: string, wanted = 1): StartClaim | null {
    const room = this.free - this.claimingUpTo;
    if (!this.running || room <= 0 || wanted <= 0 || !this.serves(queue) || this.queues.limited.has(queue)) {
      return null;
    }
    const slots = Math.min(room, wanted);
    this.reservedStarts += slots;
    return { owner: this.id, leaseMs: this.options.leaseMs, slots };
  }

  /**
   * The start that reserveStart() gave `claim` for is committed (or failed): `runs` are those
   * inserted claimed, to execute now; the claim's other slots are free again. Past stop(), the
   * claimed runs are handed back at once instead, for another worker to take.
   */
  startReserved(claim: StartClaim, runs: readonly ClaimedRun[]): void {
    this.reservedStarts -= claim.slots;
    if (runs.length === 0) return;
    if (this.running) {
      // Not in the starting caller's async context: the executions are the worker's, like a claim's.
      outsideAnyRun(() => {
        for (const run of runs) this.launch(run);
      });
      return;
    }
    const { db, logger, wakeUps } = this.services;
    void releaseRuns(
      db,
      this.id,
      runs.map((run) => ({ id: run.id, epoch: run.leaseEpoch })),
    )
      .then(() => wakeUps.publish())
      .catch((error: unknown) => {
        logger.warn('could not hand back runs started during shutdown; they resume after their leases expire', {
          runIds: runs.map((run) => run.id),
          error: describe(error),
        });
      });
  }

  async start(): Promise<void> {
    await registerWorker(this.services.db, {
      id: this.id,
      host: hostname(),
      pid: process.pid,
      version: zartVersion,
      versions: this.servedVersions,
    });
    await this.listener.start();
    this.running = true;
    this.loop = this.claimLoop();
    // Heartbeats ride on lease renewal; at least every 10 s so listWorkers() sees live workers.
    const renewEvery = Math.max(50, Math.min(10_000, Math.floor(this.options.leaseMs / 3)));
    this.renewTimer = setInterval(() => void this.renew(), renewEvery);
    this.renewTimer.unref();
  }

  /** Whether this worker claims runs of `queue`. */
  serves(queue: string): boolean {
    return this.options.queues.includes(queue);
  }

  /** Whether this worker is executing the run now. */
  isExecuting(runId: string): boolean {
    return this.executionsByRun.has(runId);
  }

  private executionsOf(runId: string): readonly RunExecution[] {
    return this.executionsByRun.get(runId) ?? [];
  }

  /**
   * Claims at once, and resolves when a claim round that began after this call has ended (or the
   * worker stopped): a run started here and claimed by it is executing by then. Costs no statement,
   * unlike reading the run (see Zart's result()).
   */
  claimSoon(): Promise<void> {
    if (!this.running) return Promise.resolve();
    const after = this.roundsBegun;
    const ended = new Promise<void>((resolve) => this.roundWaiters.push({ after, resolve }));
    this.nudge();
    return ended;
  }

  /** Claims at once instead of at the next poll. */
  nudge(): void {
    this.woken = true;
    this.wake?.();
  }

  /**
   * Claims `ms` from now: a run this worker parked wakes then. One timer, for the nearest wake
   * time; the poll covers the rest and runs parked by other workers.
   */
  wakeAfter(ms: number): void {
    const at = Date.now() + Math.max(0, ms);
    // Past 2^31 - 1 ms setTimeout fires at once (with a warning): the poll wakes such a run.
    if (ms > maxTimerMs) return;
    if (!this.running || !Number.isFinite(at) || (this.dueTimer && this.dueAt <= at)) return;
    clearTimeout(this.dueTimer);
    this.dueAt = at;
    this.dueTimer = setTimeout(
      () => {
        this.dueTimer = undefined;
        this.nudge();
      },
      at - Date.now() + 5,
    );
    this.dueTimer.unref();
  }

  /**
   * Resolves when the next execution of the run ends on this worker, with the outcome it recorded
   * when it finished the run (undefined when it handed the run on). Only for a run executing here.
   */
  runEnded(runId: string): Promise<RunOutcome | undefined> {
    return new Promise((resolve) => {
      const waiters = this.endWaiters.get(runId);
      if (waiters) waiters.push(resolve);
      else this.endWaiters.set(runId, [resolve]);
    });
  }

  async stop(drainMs: number): Promise<void> {
    if (!this.running) return;
    this.running = false;
    this.wake?.();
    await this.loop;
    const { db, logger, wakeUps } = this.services;
    for (const execution of this.executions.keys()) execution.requestRelease();
    const drained = Promise.all(this.executions.values());
    const drainTimer = new AbortController();
    await Promise.race([drained, delay(drainMs, undefined, { signal: drainTimer.signal }).catch(() => undefined)]);
    drainTimer.abort();
    const left = [...this.executions.keys()];
    if (left.length > 0) {
      // Past the drain time: steps still in flight are abandoned and run again after a replay.
      for (const execution of left) execution.abandon();
      const released = await releaseRuns(
        db,
        this.id,
        left.map((e) => ({ id: e.id, epoch: e.epoch })),
      );
      logger.warn('drain time passed; handed back runs with steps still in flight', { count: released.length });
      await wakeUps.publish();
    }
    clearInterval(this.renewTimer);
    clearTimeout(this.dueTimer);
    await this.listener.stop();
    await unregisterWorker(db, this.id).catch(() => undefined);
  }

  private async claimLoop(): Promise<void> {
    while (this.running) {
      const free = this.free;
      let claimedAll = false;
      this.roundsBegun++;
      this.saturated = free <= 0;
      if (free > 0) {
        try {
          this.claimingUpTo = free;
          claimedAll = (await this.claim(free)) === free;
          this.saturated = claimedAll;
          this.claimErrors = 0;
        } catch (error) {
          // Logged on the first failure and then every tenth, not once per poll.
          if (this.claimErrors++ % 10 === 0) {
            this.services.logger.error('claiming runs failed; retrying at the next poll', { error: describe(error) });
          }
        } finally {
          this.claimingUpTo = 0;
        }
      }
      this.roundEnded();
      if (!this.running) break;
      // Runs come back for a claim as fast as they were claimed; otherwise wait to be woken.
      if (!claimedAll) await this.sleepUntilWoken();
    }
    for (const waiter of this.roundWaiters.splice(0)) waiter.resolve();
  }

  private roundEnded(): void {
    this.roundsEnded++;
    if (this.roundWaiters.length === 0) return;
    const waiting: typeof this.roundWaiters = [];
    for (const waiter of this.roundWaiters) {
      if (this.roundsEnded > waiter.after) waiter.resolve();
      else waiting.push(waiter);
    }
    this.roundWaiters = waiting;
  }

  // One round: up to `free` runs, from the unlimited queues in one statement and from each limited
  // queue in its own claim. The round starts one step further each time, so a busy queue does
  // not take every free slot of this process round after round.
  private async claim(free: number): Promise<number> {
    let claimed = 0;
    const turn = this.claimTurn++;
    for (let i = 0; i < this.claimOrder.length && claimed < free; i++) {
      const source = this.claimOrder[(turn + i) % this.claimOrder.length]!;
      const claim = {
        owner: this.id,
        // A run this worker still executes is never taken over by this worker: after an
        // event-loop stall past the lease, renewal takes its lease back if nobody else did.
        executing: [...this.executionsByRun.keys()],
        workflows: this.registry.claimableNames,
        versions: this.servedVersions,
        limit: free - claimed,
        leaseMs: this.options.leaseMs,
      };
      let runs: ClaimedRun[];
      if ('unlimited' in source) {
        runs = await claimRuns(this.services.db, { ...claim, queues: source.unlimited });
      } else {
        const queue = this.queues.limited.get(source.limited)!;
        const result = await claimQueueRuns(this.services.db, queue, claim);
        runs = result.runs;
        // Held back by the rate limit: claim again when the window has room, not at the next poll.
        if (result.nextStartInMs !== null) this.wakeAfter(result.nextStartInMs);
      }
      for (const run of runs) this.launch(run);
      claimed += runs.length;
    }
    return claimed;
  }

  private launch(claim: ClaimedRun): void {
    const definition = this.registry.find(claim.workflow);
    if (!definition) return; // cannot happen: the claim filters on registered names
    const execution = new RunExecution(this.services, claim, definition);
    const { metrics } = this.services;
    if (metrics) {
      metrics.executionStarted(claim.workflow);
      if (claim.recoveries > 0) metrics.leaseTakenOver(claim.workflow);
      if (claim.dueForSeconds !== null) metrics.wokenUp(claim.queue, claim.dueForSeconds);
    }
    if (claim.recoveries > 0)
      execution.log.info("took over a run whose worker's lease expired", { recoveries: claim.recoveries });
    const ended = execution
      .execute()
      .catch((error: unknown) => {
        execution.log.error('executing a run failed; it resumes after its lease expires', { error: describe(error) });
      })
      .then(() => {
        metrics?.executionEnded(claim.workflow);
        this.forget(execution);
        const waiters = this.endWaiters.get(claim.id);
        this.endWaiters.delete(claim.id);
        for (const waiter of waiters ?? []) waiter(execution.recordedOutcome);
        // Room was freed: look for more work now if the last round may have left some, or if the
        // run is still to be done (parked and already woken, or handed back): the rounds while it
        // executed here could not take it.
        if (this.saturated || !execution.recordedOutcome) this.nudge();
      });
    this.executions.set(execution, ended);
    const ofRun = this.executionsByRun.get(claim.id);
    if (ofRun) ofRun.push(execution);
    else this.executionsByRun.set(claim.id, [execution]);
  }

  private forget(execution: RunExecution): void {
    this.executions.delete(execution);
    const others = this.executionsOf(execution.id).filter((other) => other !== execution);
    if (others.length > 0) this.executionsByRun.set(execution.id, others);
    else this.executionsByRun.delete(execution.id);
  }

  private async sleepUntilWoken(): Promise<void> {
    if (!this.woken) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(done, this.options.pollIntervalMs);
        function done(): void {
          clearTimeout(timer);
          resolve();
        }
        this.wake = done;
      });
      this.wake = undefined;
    }
    this.woken = false;
  }

  // Only the executions asked about are stopped when their lease is gone: one claimed while the
  // statement ran (the same run, parked and claimed again) has a newer epoch and is not in it.
  private async renew(): Promise<void> {
    // A round still waiting for its reply (a slow server) is not doubled up by the next tick.
    if (this.renewing) return;
    const held = [...this.executions.keys()];
    try {
      this.renewing = true;
      const kept = await renewLeases(this.services.db, this.id, held, this.options.leaseMs);
      for (const execution of held) {
        if (!kept.has(leaseKeyOf(execution))) execution.leaseNotRenewed();
      }
    } catch (error) {
      this.services.logger.warn('renewing leases failed; retrying', { error: describe(error) });
    } finally {
      this.renewing = false;
    }
  }
}

function describe(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}
