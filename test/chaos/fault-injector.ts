// Applies the chaos plan's faults to the workers, the latency proxy and the private server, and
// records when each one was in force: the invariants excuse a repeated step only inside those
// windows. Never acts on anything but the suite's own processes and server.
import { setTimeout as delay } from 'node:timers/promises';
import type { ScratchPostgres } from '../support/scratch-postgres';
import type { LatencyProxy } from '../support/latency-proxy';
import { adminQuery, driverApplicationName } from './admin-query';
import type { PlannedFault } from './chaos-plan';
import type { ChaosWorkers } from './chaos-workers';
import type { FaultWindow } from './chaos-invariants';
import { executionLogApplicationName } from './fixtures/execution-log';

/** Applies planned faults and records when each was in force. */
export class FaultInjector {
  private restarting: Promise<void> = Promise.resolve();
  private readonly latencies = new Set<number>();

  constructor(
    private readonly workers: ChaosWorkers,
    private readonly proxy: LatencyProxy,
    private readonly server: ScratchPostgres,
    private readonly url: string,
    private readonly windows: FaultWindow[],
  ) {}

  /** Resolves when the fault is over; false if it could not be injected. */
  async inject(fault: PlannedFault): Promise<boolean> {
    const startMs = Date.now();
    const record = (pid: number | null, endMs = Date.now()): void => {
      this.windows.push({ kind: fault.kind, pid, startMs, endMs });
    };
    switch (fault.kind) {
      case 'kill': {
        record(await this.workers.kill(fault.worker));
        return true;
      }
      case 'stop': {
        const pid = this.workers.stop(fault.worker);
        if (pid === undefined) return false;
        await delay(fault.durationMs);
        this.workers.resume(fault.worker, pid);
        record(pid);
        return true;
      }
      case 'stall': {
        const pid = this.workers.stall(fault.worker, fault.durationMs);
        if (pid === undefined) return false;
        record(pid, startMs + fault.durationMs);
        return true;
      }
      case 'terminate': {
        await adminQuery(
          this.url,
          `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
WHERE datname = current_database() AND pid <> pg_backend_pid() AND application_name NOT IN ($1, $2)`,
          [executionLogApplicationName, driverApplicationName],
        );
        record(null);
        return true;
      }
      case 'restart': {
        const restart = this.restarting.then(() => this.server.restart());
        this.restarting = restart.catch(() => undefined);
        await restart;
        record(null);
        return true;
      }
      case 'latency': {
        this.latencies.add(fault.delayMs);
        this.proxy.setDelay(Math.max(...this.latencies));
        await delay(fault.durationMs);
        this.latencies.delete(fault.delayMs);
        this.proxy.setDelay(this.latencies.size === 0 ? 0 : Math.max(...this.latencies));
        record(null);
        return true;
      }
    }
  }
}
