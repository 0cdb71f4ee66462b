// The chaos suite's worker processes: a fixed number of slots, each holding one live worker
// (test/chaos/fixtures/chaos-worker.ts). Faults act on a slot (SIGKILL and respawn, SIGSTOP and
// SIGCONT, an event-loop stall); a worker that exits on its own is logged and respawned too. Every
// worker's stderr is kept in a file per pid, for the report of a failing iteration.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { spawnTypeScript, type ChildHandle } from '../support/child-process';

const workerEntry = 'test/chaos/fixtures/chaos-worker.ts';

interface Slot {
  handle: ChildHandle;
  ready: boolean;
  stopped: boolean;
  /** Set before a kill the driver injects, so the exit is not reported as unexpected. */
  expectedExit: boolean;
}

/** A worker that exited without the driver killing it (a crash the suite did not inject). */
export interface UnexpectedExit {
  pid: number;
  status: number | NodeJS.Signals | null;
  atMs: number;
  /** Whether it had started (printed READY): a crash while running, not a failed start-up. */
  afterReady: boolean;
  stderrTail: string;
}

/**
 * A delay a worker measured itself, planned or not: a gap in its event loop (LAG lines) or a
 * statement's slow round trip (SLOW lines).
 */
export interface ObservedStall {
  kind: 'observed-stall' | 'observed-slow-query';
  pid: number;
  startMs: number;
  endMs: number;
}

export class ChaosWorkers {
  private readonly slots: Slot[] = [];
  private closing = false;
  readonly unexpectedExits: UnexpectedExit[] = [];
  readonly observedStalls: ObservedStall[] = [];

  constructor(
    private readonly env: Record<string, string>,
    private readonly count: number,
    private readonly logDir: string,
  ) {}

  /** Spawns every worker and resolves when all print READY. */
  async start(): Promise<void> {
    for (let i = 0; i < this.count; i++) this.slots.push(this.spawn(i));
    await this.allReady();
  }

  /** Resolves when every slot's worker is running (after respawns). */
  async allReady(timeoutMs = 120_000): Promise<void> {
    const until = Date.now() + timeoutMs;
    while (!this.slots.every((slot) => slot.ready)) {
      if (Date.now() > until) throw new Error(`chaos workers not ready within ${timeoutMs} ms`);
      await delay(100);
    }
  }

  pid(slot: number): number {
    return this.slot(slot).handle.process.pid!;
  }

  /** SIGKILL, then a new worker in the slot (not waited for); returns the killed pid. */
  async kill(slot: number): Promise<number> {
    const current = this.slot(slot);
    const pid = current.handle.process.pid!;
    current.expectedExit = true;
    current.handle.process.kill('SIGKILL');
    await current.handle.exited;
    if (!this.closing) this.slots[slot] = this.spawn(slot);
    return pid;
  }

  /** SIGSTOP; returns the stopped pid, or undefined if the slot's worker is already stopped. */
  stop(slot: number): number | undefined {
    const current = this.slot(slot);
    if (current.stopped || !this.alive(current)) return undefined;
    current.stopped = true;
    current.handle.process.kill('SIGSTOP');
    return current.handle.process.pid;
  }

  /** SIGCONT to `pid` if it still lives in the slot. */
  resume(slot: number, pid: number): void {
    const current = this.slot(slot);
    if (current.handle.process.pid !== pid || !this.alive(current)) return;
    current.stopped = false;
    current.handle.process.kill('SIGCONT');
  }

  /**
   * Blocks the worker's event loop for `ms` (SIGUSR2; the worker busy-waits for the time in its
   * stall file). Only a running, ready worker: before READY, SIGUSR2 would kill it. Returns the
   * pid, or undefined when skipped.
   */
  stall(preferred: number, ms: number): number | undefined {
    // The planned worker, or else the next one that can stall (the planned one may be respawning).
    const slot = [...this.slots.keys()]
      .map((i) => (preferred + i) % this.slots.length)
      .find((i) => this.slots[i]!.ready && !this.slots[i]!.stopped && this.alive(this.slots[i]!));
    if (slot === undefined) return undefined;
    const current = this.slot(slot);
    writeFileSync(this.stallFile(slot), String(ms));
    current.handle.process.kill('SIGUSR2');
    return current.handle.process.pid;
  }

  /** SIGCONT to every stopped worker. */
  resumeAll(): void {
    this.slots.forEach((slot, i) => {
      if (slot.stopped) this.resume(i, slot.handle.process.pid!);
    });
  }

  /** SIGKILLs every worker and writes their logs. */
  async close(): Promise<void> {
    this.closing = true;
    for (const slot of this.slots) {
      slot.expectedExit = true;
      slot.handle.process.kill('SIGKILL');
    }
    await Promise.all(this.slots.map((slot) => slot.handle.exited));
  }

  private spawn(index: number): Slot {
    const handle = spawnTypeScript(workerEntry, { ...this.env, CHAOS_STALL_FILE: this.stallFile(index) });
    const slot: Slot = { handle, ready: false, stopped: false, expectedExit: false };
    let partial = '';
    handle.process.stdout?.on('data', (chunk: Buffer) => {
      const lines = (partial + chunk.toString()).split('\n');
      partial = lines.pop() ?? '';
      for (const line of lines) {
        const seen = /^(LAG|SLOW) (\d+) (\d+)$/.exec(line);
        if (seen) {
          this.observedStalls.push({
            kind: seen[1] === 'LAG' ? 'observed-stall' : 'observed-slow-query',
            pid: handle.process.pid!,
            startMs: Number(seen[2]),
            endMs: Number(seen[3]),
          });
        }
      }
    });
    handle
      .waitForLine('READY', 120_000)
      .then(() => (slot.ready = true))
      .catch(() => undefined);
    void handle.exited.then((status) => {
      const afterReady = slot.ready;
      slot.ready = false;
      const pid = handle.process.pid!;
      writeFileSync(join(this.logDir, `worker-${pid}.log`), handle.stderr());
      if (slot.expectedExit || this.closing) return;
      this.unexpectedExits.push({
        pid,
        status,
        atMs: Date.now(),
        afterReady,
        stderrTail: handle.stderr().slice(-2_000),
      });
      // Respawned like a crashed pod would be.
      setTimeout(() => {
        if (!this.closing && this.slots[index] === slot) this.slots[index] = this.spawn(index);
      }, 300);
    });
    return slot;
  }

  private alive(slot: Slot): boolean {
    return slot.handle.process.exitCode === null && slot.handle.process.signalCode === null;
  }

  private slot(index: number): Slot {
    const slot = this.slots[index];
    if (!slot) throw new Error(`no worker slot ${index}`);
    return slot;
  }

  private stallFile(index: number): string {
    return join(this.logDir, `stall-${index}`);
  }
}
