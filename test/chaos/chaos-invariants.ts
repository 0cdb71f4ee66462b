// The chaos suite's invariants, checked from what the database holds after an iteration: the runs
// and their checkpoints, the execution log the step bodies wrote (chaos_executions), the app
// table of the transactional steps (chaos_ledger) and the events table. Never weakened to make an
// iteration pass: each check is sound given the fault windows the driver recorded, and each
// violation says enough (ids, pids, epochs, times) to debug it from the printed report.
import { isDeepStrictEqual } from 'node:util';
import type { StepCheckpoint, WorkflowRun } from '../../src';
import type { ChaosPlan, FaultKind } from './chaos-plan';
import type { ChaosOutput } from './fixtures/chaos.workflows';

/** One execution of a step body (table chaos_executions); times by this machine's clock. */
export interface ExecutionRow {
  exec_id: string;
  run_id: string;
  step_key: string;
  attempt: number;
  pid: number;
  /** The run's lease epoch when the body started (read beside the body, so a lower bound of nothing). */
  epoch: number | null;
  owner: string | null;
  started_ms: number;
  ended_ms: number | null;
  /** The database clock when `epoch` was read: the claim that set it had committed by then. */
  epoch_read_ms: number;
}

export interface LedgerRow {
  run_id: string;
  step_key: string;
  exec_id: string;
  pid: number;
}

export interface EventRow {
  id: string;
  run_id: string;
  payload: unknown;
  consumed_by_key: string | null;
}

/**
 * When a fault was in force; pid null: every worker (server-side faults). 'observed-stall' and
 * 'observed-slow-query': a gap in a worker's event loop or a statement's round trip past a renewal
 * interval that the worker measured itself, planned or caused by a loaded machine.
 */
export interface FaultWindow {
  kind: FaultKind | 'worker-exit' | 'observed-stall' | 'observed-slow-query';
  pid: number | null;
  startMs: number;
  endMs: number;
}

export interface ObservedRun {
  run: WorkflowRun;
  steps: StepCheckpoint[];
}

export interface Observations {
  plan: ChaosPlan;
  /** Every run of the iteration's database, children included. */
  runs: Map<string, ObservedRun>;
  executions: ExecutionRow[];
  ledger: LedgerRow[];
  events: EventRow[];
  faults: FaultWindow[];
  /** Runs not final when the settle bound passed. */
  stuck: string[];
  /** When the driver's cancel() returned, per run. */
  cancelledAtMs: Map<string, number>;
  leaseMs: number;
}

export interface Violation {
  invariant: string;
  runId: string;
  detail: string;
}

const finalStatuses = new Set(['completed', 'failed', 'cancelled']);
// Clock resolution between the workers' Date.now() and PostgreSQL's now() on the same machine.
const clockMarginMs = 5;

export function checkInvariants(o: Observations): Violation[] {
  const violations: Violation[] = [];
  const add = (invariant: string, runId: string, detail: string): void => {
    violations.push({ invariant, runId, detail });
  };
  const byRun = groupBy(o.executions, (e) => e.run_id);
  const execById = new Map(o.executions.map((e) => [e.exec_id, e]));
  // A fault explains an execution if it was in force on the execution's process (or on every
  // process) while the step was in flight: from its body's start until its checkpoint could be
  // written, which is after the body's end (a round trip, group commit, reconnects) and at most a
  // lease later, or the lease is gone anyway. A fault shortly before the start counts too: a lease
  // lost in a fault is noticed only at the next write, up to a renewal plus reconnect back-off later.
  const slackMs = 2 * o.leaseMs + 2_000;
  const faulted = (e: ExecutionRow): boolean =>
    o.faults.some(
      (w) =>
        (w.pid === null || w.pid === e.pid) &&
        e.started_ms <= w.endMs + slackMs &&
        (e.ended_ms ?? Infinity) + o.leaseMs >= w.startMs,
    );
  const describe = (e: ExecutionRow): string =>
    `${e.exec_id.slice(0, 8)} ${e.step_key} attempt ${e.attempt} pid ${e.pid} epoch ${String(e.epoch)} ` +
    `${e.started_ms}..${String(e.ended_ms)}${faulted(e) ? ' (fault)' : ''}`;

  // 1. No run lost or stuck: every run is final within the bound, with its designed outcome.
  for (const id of o.stuck) {
    const run = o.runs.get(id)?.run;
    add('run reaches a final status', id, `still ${String(run?.status)} after the settle bound`);
  }
  const planned = new Map(o.plan.runs.map((r) => [r.id, r]));
  for (const plannedRun of o.plan.runs) {
    const observed = o.runs.get(plannedRun.id);
    if (!observed) {
      add('run reaches a final status', plannedRun.id, 'run not found: its start was lost');
      continue;
    }
    const { run } = observed;
    if (finalStatuses.has(run.status) && run.status !== plannedRun.expected) {
      add(
        'run ends as designed',
        run.id,
        `expected ${plannedRun.expected}, got ${run.status}: ${errorText(run.error)}`,
      );
    }
    if (
      run.status === 'failed' &&
      plannedRun.workflow === 'chaos-deadline' &&
      errorName(run.error) !== 'DeadlineExceededError'
    ) {
      add('run ends as designed', run.id, `expected DeadlineExceededError, got ${errorText(run.error)}`);
    }
    if (
      run.status === 'failed' &&
      plannedRun.workflow === 'chaos-retry' &&
      !errorText(run.error).includes('as designed')
    ) {
      add('run ends as designed', run.id, `expected the flaky step's designed failure, got ${errorText(run.error)}`);
    }
  }

  for (const { run, steps } of o.runs.values()) {
    const executions = byRun.get(run.id) ?? [];
    const own = steps.filter((s) => !s.name.startsWith('zart.') && s.status === 'completed');
    const winners = new Map<string, ExecutionRow>();

    // 2. Each checkpoint holds one execution's output, and replays returned exactly those outputs.
    for (const checkpoint of own) {
      const winner = typeof checkpoint.output === 'string' ? execById.get(checkpoint.output) : undefined;
      if (!winner || winner.run_id !== run.id || winner.step_key !== checkpoint.key) {
        add(
          'checkpoint holds one execution of its step',
          run.id,
          `${checkpoint.key}: output ${JSON.stringify(checkpoint.output)} matches no execution of it`,
        );
      } else {
        winners.set(checkpoint.key, winner);
      }
    }
    if (run.status === 'completed') {
      const output = run.output as ChaosOutput;
      const stored = own.map((s) => s.output);
      if (!isDeepStrictEqual(output.executions, stored)) {
        add(
          'replays return the checkpointed outputs',
          run.id,
          `run output ${JSON.stringify(output.executions)} != checkpoints ${JSON.stringify(stored)}`,
        );
      }
    }

    // 3. A completed step runs again only if a fault hit the execution that did not checkpoint.
    // Transactional steps are exempt: their body may rerun after a deadlock or a lost connection
    // by design (their writes are checked exactly once below).
    for (const [key, group] of groupBy(executions, (e) => `${e.step_key}/${e.attempt}`)) {
      if (group.length < 2 || key.startsWith('ledger#')) continue;
      // The execution whose output was checkpointed, or else (a failed attempt) the last one.
      const winner = winners.get(group[0]!.step_key);
      const sorted = [...group].sort((a, b) => a.started_ms - b.started_ms);
      const losers = winner && group.includes(winner) ? sorted.filter((e) => e !== winner) : sorted.slice(0, -1);
      if (losers.some((e) => !faulted(e))) {
        add(
          'a step runs again only after a fault',
          run.id,
          `${key} executed ${group.length} times: ${sorted.map(describe).join('; ')}`,
        );
      }
    }

    // 4. No checkpoint from a superseded claim. If any execution of the run read a later epoch
    // than the one the checkpoint's execution read, before the checkpoint's transaction began
    // (finished_at is its now()), that claim had committed before the write, which fencing must
    // have refused. (An execution reads the run's current epoch, never lower than its worker's.)
    for (const checkpoint of own) {
      const winner = winners.get(checkpoint.key);
      if (!winner || winner.epoch === null) continue;
      const writtenAt = checkpoint.finishedAt.getTime() - clockMarginMs;
      const newer = executions.find((e) => e.epoch !== null && e.epoch > winner.epoch! && e.epoch_read_ms < writtenAt);
      if (newer) {
        add(
          'fencing: no checkpoint from a superseded lease',
          run.id,
          `${checkpoint.key} written at ${checkpoint.finishedAt.toISOString()} by ${describe(winner)}, after ${describe(newer)} had read epoch ${String(newer.epoch)} at ${newer.epoch_read_ms}`,
        );
      }
    }

    // 5. No run in two executions at once: the executions whose checkpoints count are strictly
    // sequential, and two executions of one run overlap only where a fault explains it.
    const chain = own.map((s) => winners.get(s.key)).filter((e): e is ExecutionRow => e !== undefined);
    for (let i = 1; i < chain.length; i++) {
      const before = chain[i - 1]!;
      const after = chain[i]!;
      if (before.ended_ms !== null && before.ended_ms > after.started_ms + clockMarginMs) {
        add(
          'no run in two executions at once',
          run.id,
          `checkpointed executions overlap: ${describe(before)} and ${describe(after)}`,
        );
      }
    }
    const ended = executions.filter((e) => e.ended_ms !== null);
    for (let i = 0; i < ended.length; i++) {
      for (let j = i + 1; j < ended.length; j++) {
        const a = ended[i]!;
        const b = ended[j]!;
        const overlap = a.started_ms < b.ended_ms! && b.started_ms < a.ended_ms!;
        if (overlap && !faulted(a) && !faulted(b)) {
          add(
            'no run in two executions at once',
            run.id,
            `overlapping executions with no fault: ${describe(a)} and ${describe(b)}`,
          );
        }
      }
    }

    const plannedRun = planned.get(run.id);
    // 6. Sleeps are not cut short: nothing after the sleep starts before the wake time.
    if (plannedRun?.workflow === 'chaos-sleeper') {
      const first = winners.get('work#0');
      const sleepMs = plannedRun.input.sleepMs as number;
      const early = first?.ended_ms
        ? executions.find((e) => e.step_key === 'work#1' && e.started_ms < first.ended_ms! + sleepMs - clockMarginMs)
        : undefined;
      if (first && early)
        add('sleep is not cut short', run.id, `${describe(early)} started before ${first.ended_ms! + sleepMs}`);
    }
    // 7. A workflow timeout stops the run: the step after the long sleep never runs.
    if (plannedRun?.workflow === 'chaos-deadline') {
      const late = executions.find((e) => e.step_key === 'work#1');
      if (late) add('the deadline stops the run', run.id, `step after the deadline executed: ${describe(late)}`);
    }
    // 8. cancel() stops the run at the next step boundary. A worker that claimed the run before the
    // cancel may still start a body until it hears of it (notification, or its next renewal within
    // lease / 3), so only a step starting a whole lease after cancel() returned is a violation.
    const cancelledAt = o.cancelledAtMs.get(run.id) ?? o.cancelledAtMs.get(run.parentId ?? '');
    if (cancelledAt !== undefined) {
      const late = executions.find((e) => e.started_ms > cancelledAt + o.leaseMs && !faulted(e));
      if (late)
        add('cancel() stops the run', run.id, `${describe(late)} started after cancel() returned at ${cancelledAt}`);
    }

    // 9. Transactional steps write exactly once: one app-table row per checkpoint, from the
    // execution whose output the checkpoint holds, and none without a checkpoint.
    const ledger = o.ledger.filter((row) => row.run_id === run.id);
    if (ledger.length > 0 || own.some((s) => s.name === 'ledger')) {
      const checkpoints = own.filter((s) => s.name === 'ledger');
      for (const checkpoint of checkpoints) {
        const rows = ledger.filter((row) => row.step_key === checkpoint.key);
        if (rows.length !== 1 || rows[0]!.exec_id !== checkpoint.output) {
          add(
            'transactional step writes exactly once',
            run.id,
            `${checkpoint.key}: ${rows.length} rows (${rows.map((r) => `${r.exec_id.slice(0, 8)} pid ${r.pid}`).join(', ')}) for checkpoint ${String(checkpoint.output).slice(0, 8)}`,
          );
        }
      }
      const orphans = ledger.filter((row) => !checkpoints.some((s) => s.key === row.step_key));
      if (orphans.length > 0) {
        add(
          'transactional step writes exactly once',
          run.id,
          `rows without a checkpoint: ${orphans.map((r) => `${r.step_key} pid ${r.pid}`).join(', ')}`,
        );
      }
    }

    // 10. Events: each consumed exactly once, by one wait, in order; none delivered twice.
    if (plannedRun?.workflow === 'chaos-events') {
      const events = o.events.filter((e) => e.run_id === run.id).sort((a, b) => Number(a.id) - Number(b.id));
      const waits = steps.filter((s) => s.name === 'zart.event:go' && s.status === 'completed');
      const consumers = events.map((e) => e.consumed_by_key).filter((k): k is string => k !== null);
      if (events.length !== plannedRun.eventsAtMs.length) {
        add(
          'events are consumed exactly once',
          run.id,
          `${events.length} events stored, ${plannedRun.eventsAtMs.length} sent`,
        );
      }
      if (
        new Set(consumers).size !== consumers.length ||
        consumers.length !== waits.length ||
        !waits.every((w) => consumers.includes(w.key))
      ) {
        add(
          'events are consumed exactly once',
          run.id,
          `consumed by ${JSON.stringify(consumers)}, waits ${JSON.stringify(waits.map((w) => w.key))}`,
        );
      }
      if (run.status === 'completed') {
        const received = (run.output as ChaosOutput).events;
        const sent = events.map((e) => e.payload);
        if (!isDeepStrictEqual(received, sent)) {
          add(
            'events are consumed exactly once',
            run.id,
            `the run received ${JSON.stringify(received)}, sent in order ${JSON.stringify(sent)}`,
          );
        }
      }
    }

    // 11. Children: one child run per startChild() call; each child's result reaches the parent.
    const children = [...o.runs.values()]
      .filter((c) => c.run.parentId === run.id)
      .sort((a, b) => a.run.id.localeCompare(b.run.id));
    const starts = steps.filter((s) => s.name === 'zart.child');
    if (children.length !== starts.length) {
      add(
        'children are started exactly once',
        run.id,
        `${children.length} child runs (${children.map((c) => c.run.id).join(', ')}) for ${starts.length} startChild checkpoints`,
      );
    }
    if (plannedRun?.workflow === 'chaos-parent' && run.status === 'completed') {
      const expected = plannedRun.input.children as number;
      const received = (run.output as ChaosOutput).children;
      const outputs = children.map((c) => c.run.output);
      if (children.length !== expected || !isDeepStrictEqual(received, outputs)) {
        add(
          'children are started exactly once',
          run.id,
          `expected ${expected} children; parent received ${JSON.stringify(received)}, children output ${JSON.stringify(outputs)}`,
        );
      }
    }
    if (run.parentId !== null) {
      const parent = planned.get(run.parentId);
      const expected = parent?.workflow === 'chaos-cancelled' ? 'cancelled' : 'completed';
      if (finalStatuses.has(run.status) && run.status !== expected) {
        add(
          'run ends as designed',
          run.id,
          `child of ${run.parentId}: expected ${expected}, got ${run.status}: ${errorText(run.error)}`,
        );
      }
    }
  }
  return violations;
}

/** Step executions beyond one per (run, step key, attempt): the repeats the faults caused. */
export function countRepeats(executions: ExecutionRow[]): number {
  return executions.length - new Set(executions.map((e) => `${e.run_id}/${e.step_key}/${e.attempt}`)).size;
}

function groupBy<T>(items: T[], key: (item: T) => string): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const item of items) {
    const k = key(item);
    const group = groups.get(k);
    if (group) group.push(item);
    else groups.set(k, [item]);
  }
  return groups;
}

function errorName(error: unknown): string {
  return error instanceof Error ? error.name : String((error as { name?: unknown } | undefined)?.name);
}

function errorText(error: unknown): string {
  if (error === undefined || error === null) return 'no error';
  if (error instanceof Error) return `${error.name}: ${error.message}`;
  return JSON.stringify(error);
}
