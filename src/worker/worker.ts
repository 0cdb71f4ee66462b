// The claim loop of one process: claims runnable runs up to its concurrency, executes them,
// renews their leases in one statement every lease/3, and on shutdown stops claiming, waits for
// in-flight runs up to the drain time and hands the rest back to other workers.
import { hostname } from 'node:os';
import { setTimeout as delay } from 'node:timers/promises';
import { RunExecution, type ExecutionServices } from '../engine/run-execution';
import type { WorkflowRegistry } from '../registry/workflow-registry';
import { claimRuns, type ClaimedRun } from '../storage/sql/claim-runs';
import { registerWorker, unregisterWorker } from '../storage/sql/register-worker';
import { releaseRuns } from '../storage/sql/release-runs';
import { renewLeases } from '../storage/sql/renew-leases';
import type { ResolvedWorkerOptions } from '../options/resolve-options';
import { zartVersion } from '../options/zart-version';

/** @internal */
export class Worker {
  private readonly executions = new Map<string, RunExecution>();
  private readonly finished = new Set<(runId: string) => void>();
  private running = false;
  private wake: (() => void) | undefined;
  /** A nudge that arrived while the loop was busy claiming: the next sleep returns at once. */
  private woken = false;
  private loop: Promise<void> | undefined;
  private renewTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly services: ExecutionServices,
    private readonly registry: WorkflowRegistry,
    private readonly options: ResolvedWorkerOptions,
  ) {}

  get id(): string {
    return this.services.owner;
  }

  async start(): Promise<void> {
    await registerWorker(this.services.db, { id: this.id, host: hostname(), pid: process.pid, version: zartVersion });
    this.running = true;
    this.loop = this.claimLoop();
    this.renewTimer = setInterval(() => void this.renew(), Math.max(50, Math.floor(this.options.leaseMs / 3)));
    this.renewTimer.unref();
  }

  /** Claims at once instead of at the next poll (a run was just started in this process). */
  nudge(): void {
    this.woken = true;
    this.wake?.();
  }

  /** Calls `listener(runId)` whenever this worker finishes a run. */
  onRunFinished(listener: (runId: string) => void): () => void {
    this.finished.add(listener);
    return () => this.finished.delete(listener);
  }

  async stop(drainMs: number): Promise<void> {
    if (!this.running) return;
    this.running = false;
    this.wake?.();
    await this.loop;
    const inFlight = [...this.executions.values()];
    if (inFlight.length > 0) {
      const drained = Promise.all(inFlight.map((execution) => this.settled(execution.id)));
      await Promise.race([drained, delay(drainMs, undefined, { ref: false })]);
    }
    clearInterval(this.renewTimer);
    const left = [...this.executions.values()];
    if (left.length > 0) {
      // Past the drain time: give the runs back so another worker resumes them by replay now,
      // not after the lease; this process stops writing to them.
      for (const execution of left) execution.release();
      const released = await releaseRuns(
        this.services.db,
        this.id,
        left.map((e) => ({ id: e.id, epoch: e.epoch })),
      );
      this.services.logger.info('released runs still in flight at shutdown', { count: released.length });
    }
    await unregisterWorker(this.services.db, this.id);
  }

  private async claimLoop(): Promise<void> {
    while (this.running) {
      const free = this.options.concurrency - this.executions.size;
      let claimedAll = false;
      if (free > 0) {
        try {
          const claimed = await claimRuns(this.services.db, {
            owner: this.id,
            queues: this.options.queues,
            workflows: this.registry.names,
            limit: free,
            leaseMs: this.options.leaseMs,
          });
          for (const claim of claimed) this.launch(claim);
          claimedAll = claimed.length === free;
        } catch (error) {
          this.services.logger.error('claiming runs failed; retrying at the next poll', { error: describe(error) });
        }
      }
      if (!claimedAll && this.running) await this.sleepUntilWoken();
    }
  }

  private launch(claim: ClaimedRun): void {
    const definition = this.registry.find(claim.workflow);
    if (!definition) return; // cannot happen: the claim filters on registered names
    const execution = new RunExecution(this.services, claim, definition);
    this.executions.set(claim.id, execution);
    execution
      .execute()
      .catch((error: unknown) => {
        this.services.logger.error('executing a run failed; it resumes after its lease expires', {
          runId: claim.id,
          error: describe(error),
        });
      })
      .finally(() => {
        this.executions.delete(claim.id);
        for (const listener of this.finished) listener(claim.id);
        this.wake?.();
      });
  }

  private settled(runId: string): Promise<void> {
    return new Promise((resolve) => {
      if (!this.executions.has(runId)) return resolve();
      const off = this.onRunFinished((id) => {
        if (id === runId) {
          off();
          resolve();
        }
      });
    });
  }

  private async sleepUntilWoken(): Promise<void> {
    if (this.woken) {
      this.woken = false;
      return;
    }
    await new Promise<void>((resolve) => {
      const timer = setTimeout(done, this.options.pollIntervalMs);
      function done(): void {
        clearTimeout(timer);
        resolve();
      }
      this.wake = done;
    });
    this.wake = undefined;
    this.woken = false;
  }

  private async renew(): Promise<void> {
    const held = [...this.executions.values()].map((e) => ({ id: e.id, epoch: e.epoch }));
    if (held.length === 0 && !this.running) return;
    try {
      const kept = await renewLeases(this.services.db, this.id, held, this.options.leaseMs);
      for (const { id } of held) {
        if (kept.has(id)) continue;
        this.services.logger.warn('lease lost; stopping the run on this worker', { runId: id });
        this.executions.get(id)?.loseLease();
      }
    } catch (error) {
      this.services.logger.warn('renewing leases failed; retrying', { error: describe(error) });
    }
  }
}

function describe(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}
