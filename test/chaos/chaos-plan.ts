// Turns a seed into one iteration's plan: which runs start when (every chaos workflow), which
// events and cancels the driver sends, and the fault schedule. Pure: the same seed gives the same
// plan, which is what makes a failing iteration reproducible (`CHAOS_SEED=<seed> CHAOS_ITERATIONS=1`).
import { ChaosRandom } from './chaos-random';

export type FaultKind = 'kill' | 'stop' | 'stall' | 'terminate' | 'restart' | 'latency';
export const faultKinds: readonly FaultKind[] = ['kill', 'stop', 'stall', 'terminate', 'restart', 'latency'];

export interface PlannedFault {
  kind: FaultKind;
  /** When it starts, in ms from the iteration's start. */
  atMs: number;
  /** kill, stop, stall: which of the workers (0-based). */
  worker: number;
  /** stop, stall, latency: how long it lasts. */
  durationMs: number;
  /** latency: delay added to each chunk, each way. */
  delayMs: number;
}

export type ExpectedStatus = 'completed' | 'failed' | 'cancelled';

export interface PlannedRun {
  id: string;
  workflow: string;
  input: Record<string, unknown>;
  startAtMs: number;
  expected: ExpectedStatus;
  /** chaos-events: when each `go` event is sent. */
  eventsAtMs: number[];
  /** chaos-cancelled: when cancel() is called. */
  cancelAtMs?: number;
}

export interface ChaosPlan {
  seed: number;
  faultPhaseMs: number;
  runs: PlannedRun[];
  faults: PlannedFault[];
}

export interface PlanOptions {
  /** How long faults are injected; runs start in its first 60 %. */
  faultPhaseMs: number;
  /** Lease of the workers: stops and stalls last longer than it, so takeovers happen. */
  leaseMs: number;
  workers: number;
}

export function planIteration(seed: number, options: PlanOptions): ChaosPlan {
  const random = new ChaosRandom(seed);
  const { faultPhaseMs, leaseMs } = options;
  const startAt = (): number => random.int(0, Math.floor(faultPhaseMs * 0.6));
  const ms = (): number => random.int(50, 400);
  const runs: PlannedRun[] = [];
  const add = (workflow: string, input: Record<string, unknown>, expected: ExpectedStatus, extra = {}): void => {
    const id = `s${seed}-${workflow.replace('chaos-', '')}-${runs.length}`;
    runs.push({ id, workflow, input, startAtMs: startAt(), expected, eventsAtMs: [], ...extra });
  };

  for (let i = 0; i < 3; i++) add('chaos-steps', { ms: Array.from({ length: random.int(3, 6) }, ms) }, 'completed');
  for (let i = 0; i < 2; i++) {
    const maxAttempts = random.int(2, 4);
    const failUntil = random.chance(0.3) ? maxAttempts + 1 : random.int(1, maxAttempts);
    // Back-offs on both sides of maxInProcessWait (500 ms): waited in-process or parked.
    const backoffMs = random.pick([200, 300, 800, 1_200]);
    add(
      'chaos-retry',
      { failUntil, maxAttempts, backoffMs, ms: ms() },
      failUntil > maxAttempts ? 'failed' : 'completed',
    );
  }
  for (let i = 0; i < 2; i++) add('chaos-ledger', { ms: Array.from({ length: random.int(2, 4) }, ms) }, 'completed');
  for (let i = 0; i < 2; i++)
    add('chaos-sleeper', { sleepMs: random.pick([300, 700, 1_500, 2_500]), ms: ms() }, 'completed');
  for (let i = 0; i < 2; i++) {
    const events = random.int(1, 3);
    add('chaos-events', { events, ms: ms() }, 'completed');
    const run = runs[runs.length - 1]!;
    run.eventsAtMs = Array.from({ length: events }, () => random.int(run.startAtMs, faultPhaseMs)).sort(
      (a, b) => a - b,
    );
  }
  add('chaos-parent', { children: random.int(2, 3), ms: ms() }, 'completed');
  add('chaos-cancelled', { steps: random.int(1, 3), ms: ms() }, 'cancelled');
  const cancelled = runs[runs.length - 1]!;
  cancelled.cancelAtMs = Math.min(faultPhaseMs, cancelled.startAtMs + random.int(500, 5_000));
  add('chaos-deadline', { ms: ms() }, 'failed');

  // Every kind once, then a few more at random, at random times in the phase (not in its last
  // second: the phase ends with every fault over).
  const kinds = [...faultKinds, ...Array.from({ length: random.int(0, 3) }, () => random.pick(faultKinds))];
  const faults = kinds.map((kind): PlannedFault => {
    const atMs = random.int(500, faultPhaseMs - 4_000);
    const durationMs =
      kind === 'stop' || kind === 'stall' ? random.int(leaseMs + 300, leaseMs * 3) : random.int(1_000, 3_000);
    return { kind, atMs, worker: random.int(0, options.workers - 1), durationMs, delayMs: random.int(20, 300) };
  });
  faults.sort((a, b) => a.atMs - b.atMs);
  return { seed, faultPhaseMs, runs, faults };
}
