// A graceful redeploy (SIGTERM) while runs are inside each durable primitive: every promise kept, no step run twice.
import { setTimeout as delay } from 'node:timers/promises';
import type { ZartClient } from '../../src';
import type { ChildHandle } from '../support/child-process';
import { useCrashHarness } from '../support/crash-harness';
import { useTestDatabase } from '../support/test-zart';
import { waitFor } from '../support/wait-for';
import {
  RedeployClock,
  RedeployEvent,
  RedeployParent,
  RedeployRetry,
  RedeploySleep,
  RedeployTransaction,
} from './fixtures/redeploy-primitives.workflow';

const db = useTestDatabase();
// A 30 s lease: a run can reach the new worker only by being handed back or parked, never because
// the old worker's lease ran out while it was draining.
const { spawnWorker } = useCrashHarness(db, { ZART_LEASE: '30s' });

// How late the new worker may wake a stored wake time: its 100 ms poll, a claim and a replay.
const lateToleranceS = 1.5;
// Long enough to be parked (over maxInProcessWait, 5 s) and to come due only after the SIGTERM.
const parkedWait = '10s';
// Short enough to be waited in-process (up to 5 s).
const heldWait = '4800ms';
const heldWaitS = 4.8;

/** A run and one of its checkpoints as stored, times as epoch seconds on the database clock. */
interface RunState {
  status: string;
  waitingFor: string | null;
  leased: boolean;
  availableAt: number | null;
  stepStatus: string | null;
  attempts: number | null;
  wakeAt: number | null;
}

async function runState(id: string, key: string): Promise<RunState> {
  const { rows } = await db.sql.query<RunState>(
    `SELECT r.status, r.waiting_for AS "waitingFor", r.lease_owner IS NOT NULL AS leased,
            extract(epoch FROM r.available_at)::float8 AS "availableAt",
            s.status AS "stepStatus", s.attempts, extract(epoch FROM s.wake_at)::float8 AS "wakeAt"
     FROM zart.runs r LEFT JOIN zart.steps s ON s.run_id = r.id AND s.key = $2
     WHERE r.id = $1`,
    [id, key],
  );
  return rows[0]!;
}

async function waitForState(id: string, key: string, holds: (state: RunState) => boolean): Promise<RunState> {
  let state: RunState | undefined;
  await waitFor(async () => {
    state = await runState(id, key);
    return state !== undefined && holds(state);
  }, 30_000).catch((error: Error) => {
    throw new Error(`${id} never reached the expected state; last seen ${JSON.stringify(state)}: ${error.message}`);
  });
  return state!;
}

/** The checkpoint each run's interesting state is read from. */
const watched = {
  'retry-held': 'flaky#0',
  'retry-parked': 'flaky#0',
  'sleep-held': 'zart.sleep#0',
  'sleep-parked': 'zart.sleep#0',
  event: 'zart.event:approve#0',
  parent: 'zart.child-result:parent/zart.child#0#0',
} as const;
type Watched = keyof typeof watched;

interface Scenario {
  client: ZartClient;
  old: ChildHandle;
  next: ChildHandle;
  oldExit: number | NodeJS.Signals | null;
  /** When the SIGTERM was sent (database clock, epoch seconds). */
  sigtermAt: number;
  /** Each watched run just before the SIGTERM. */
  before: Map<Watched, RunState>;
  /** The runs that were waiting in-process, once the shutdown had parked them. */
  parked: Map<Watched, RunState>;
  results: Map<string, PromiseSettledResult<unknown>>;
}

describe('a graceful redeploy while runs are inside each durable primitive', () => {
  let s: Scenario;
  let workers: ChildHandle[] = [];

  beforeAll(async () => {
    await db.sql.query('CREATE TABLE redeploy_gate (opened boolean)');
    await db.sql.query('CREATE TABLE redeploy_ledger (run_id text, pid int)');
    await db.sql.query('CREATE TABLE redeploy_values (run_id text, step int, pid int, at text, uuid text)');
    const client = await db.client();
    // The new deployment boots alongside the old one (ts-node takes seconds) and is frozen until
    // the switch-over, so the old one claims every run and the new one is live at once after.
    const old = spawnWorker();
    const next = spawnWorker();
    workers = [old, next];
    // ts-node compiles the fixtures on start: slow on a loaded two-core machine.
    await Promise.all(workers.map((worker) => worker.waitForLine('READY', 90_000)));
    next.process.kill('SIGSTOP');

    // First the runs whose state holds as long as needed: parked waits, and steps held at the gate.
    await client.startWorkflow(
      RedeployRetry,
      { runId: 'retry-parked', backoff: parkedWait, succeedAt: 2 },
      { id: 'retry-parked' },
    );
    await client.startWorkflow(RedeploySleep, { runId: 'sleep-parked', duration: parkedWait }, { id: 'sleep-parked' });
    await client.startWorkflow(RedeployEvent, { runId: 'event' }, { id: 'event' });
    await client.startWorkflow(RedeployParent, { count: 3 }, { id: 'parent' });
    await client.startWorkflow(RedeployTransaction, { runId: 'tx' }, { id: 'tx' });
    await client.startWorkflow(RedeployClock, { runId: 'clock' }, { id: 'clock' });
    await Promise.all(
      ['CHILD_WORKING 0', 'CHILD_WORKING 1', 'CHILD_WORKING 2', 'TX_WRITTEN', 'CLOCK_TAKEN'].map((line) =>
        old.waitForLine(line, 30_000),
      ),
    );
    for (const id of ['retry-parked', 'sleep-parked', 'event', 'parent'] as const) {
      await waitForState(id, watched[id], (state) => state.status === 'waiting');
    }

    // Then the in-process waits, whose window is only `heldWait` long.
    await client.startWorkflow(
      RedeployRetry,
      { runId: 'retry-held', backoff: heldWait, succeedAt: 3 },
      { id: 'retry-held' },
    );
    await client.startWorkflow(RedeploySleep, { runId: 'sleep-held', duration: heldWait }, { id: 'sleep-held' });
    await waitForState('retry-held', watched['retry-held'], (state) => state.stepStatus === 'retrying');
    await waitForState('sleep-held', watched['sleep-held'], (state) => state.stepStatus === 'sleeping');
    // Deep into those waits: a wait restarted at the hand-back would then end visibly late.
    await delay(2_400);

    const before = new Map<Watched, RunState>();
    for (const id of Object.keys(watched) as Watched[]) before.set(id, await runState(id, watched[id]));
    next.process.kill('SIGCONT');
    const { rows } = await db.sql.query<{ t: number }>('SELECT extract(epoch FROM clock_timestamp())::float8 AS t');
    const sigtermAt = rows[0]!.t;
    old.process.kill('SIGTERM');

    // shutdown() asks every run to hand itself back in one loop, so once the in-process waits are
    // parked, the steps held at the gate have been asked too: let them finish now.
    const parked = new Map<Watched, RunState>();
    for (const id of ['retry-held', 'sleep-held'] as const) {
      parked.set(id, await waitForState(id, watched[id], (state) => state.status !== 'running'));
    }
    await db.sql.query('INSERT INTO redeploy_gate VALUES (true)');
    await old.waitForLine('SHUT_DOWN', 60_000);
    const oldExit = await old.exited;

    // Sent only once the old worker is gone: the new one must take it.
    await client.sendEvent('event', 'approve', 'approved');
    const ids = ['retry-held', 'retry-parked', 'sleep-held', 'sleep-parked', 'event', 'parent', 'tx', 'clock'];
    const settled = await Promise.allSettled(ids.map((id) => client.getHandle(id).result({ timeout: '60s' })));
    const results = new Map(ids.map((id, i) => [id, settled[i]!]));
    s = { client, old, next, oldExit, sigtermAt, before, parked, results };
  }, 180_000);

  afterAll(() => {
    // beforeAll may have failed before the harness's afterEach had a test to run after.
    for (const child of workers) {
      if (child.process.exitCode === null && child.process.signalCode === null) child.process.kill('SIGKILL');
    }
  });

  function result(id: string): unknown {
    const settled = s.results.get(id)!;
    if (settled.status === 'rejected') throw settled.reason;
    return settled.value;
  }

  /** Which process ran each execution of a run's step bodies, and when (epoch seconds). */
  async function executions(runId: string): Promise<Array<{ step: number; pid: number; at: number }>> {
    const { rows } = await db.sql.query<{ step: number; pid: number; at: number }>(
      'SELECT step, pid, extract(epoch FROM at)::float8 AS at FROM effects WHERE run_id = $1 ORDER BY seq',
      [runId],
    );
    return rows;
  }

  function expectWokenOnTime(at: number, wakeAt: number): void {
    expect(at).toBeGreaterThanOrEqual(wakeAt); // not skipped
    expect(at - wakeAt).toBeLessThan(lateToleranceS); // not restarted
  }

  it('the old worker hands every run back within its drain; every run completes; no step body runs twice', async () => {
    expect(s.oldExit).toBe(0);
    // Past the drain, in-flight steps are abandoned and run again: nothing may have needed that.
    expect(s.old.stderr()).not.toContain('drain time passed');
    for (const [id, settled] of s.results) expect({ id, status: settled.status }).toEqual({ id, status: 'fulfilled' });
    const twice = await db.sql.query(
      'SELECT run_id, step, count(*)::int AS n FROM effects GROUP BY run_id, step HAVING count(*) > 1',
    );
    expect(twice.rows).toEqual([]);
    const { rows } = await db.sql.query("SELECT id, status FROM zart.runs WHERE status <> 'completed'");
    expect(rows).toEqual([]);
  });

  it('a retry back-off held in-process: parked at its stored time, attempts neither reset nor skipped', async () => {
    const before = s.before.get('retry-held')!;
    expect(before).toMatchObject({ status: 'running', leased: true, stepStatus: 'retrying', attempts: 1 });
    expect(before.wakeAt! - s.sigtermAt).toBeGreaterThan(0);
    // Far enough into the back-off that restarting it at the hand-back would overshoot the tolerance.
    expect(s.sigtermAt - (before.wakeAt! - heldWaitS)).toBeGreaterThan(lateToleranceS);
    expect(s.parked.get('retry-held')).toMatchObject({
      status: 'waiting',
      waitingFor: 'retry',
      leased: false,
      availableAt: before.wakeAt,
    });

    expect(result('retry-held')).toBe(3);
    const runs = await executions('retry-held');
    expect(runs.map(({ step, pid }) => ({ step, pid }))).toEqual([
      { step: 1, pid: s.old.process.pid },
      { step: 2, pid: s.next.process.pid },
      { step: 3, pid: s.next.process.pid },
    ]);
    expectWokenOnTime(runs[1]!.at, before.wakeAt!);
    expect(await s.client.getSteps('retry-held')).toEqual([
      expect.objectContaining({ key: 'flaky#0', status: 'completed', attempts: 3, output: 3 }),
    ]);
  });

  it('a parked retry back-off: the new worker makes attempt 2 at the stored time', async () => {
    const before = s.before.get('retry-parked')!;
    expect(before).toMatchObject({ status: 'waiting', waitingFor: 'retry', stepStatus: 'retrying', attempts: 1 });
    expect(before.wakeAt! - s.sigtermAt).toBeGreaterThan(0);

    expect(result('retry-parked')).toBe(2);
    const runs = await executions('retry-parked');
    expect(runs.map(({ step, pid }) => ({ step, pid }))).toEqual([
      { step: 1, pid: s.old.process.pid },
      { step: 2, pid: s.next.process.pid },
    ]);
    expectWokenOnTime(runs[1]!.at, before.wakeAt!);
    expect(await s.client.getSteps('retry-parked')).toEqual([
      expect.objectContaining({ key: 'flaky#0', status: 'completed', attempts: 2, output: 2 }),
    ]);
  });

  it('a sleep waited in-process: handed back parked at its wake time, which the new worker keeps', async () => {
    const before = s.before.get('sleep-held')!;
    expect(before).toMatchObject({ status: 'running', leased: true, stepStatus: 'sleeping' });
    expect(before.wakeAt! - s.sigtermAt).toBeGreaterThan(0);
    expect(s.sigtermAt - (before.wakeAt! - heldWaitS)).toBeGreaterThan(lateToleranceS);
    expect(s.parked.get('sleep-held')).toMatchObject({
      status: 'waiting',
      waitingFor: 'sleep',
      leased: false,
      availableAt: before.wakeAt,
    });

    expect(result('sleep-held')).toBeUndefined();
    const runs = await executions('sleep-held');
    expect(runs.map(({ step, pid }) => ({ step, pid }))).toEqual([
      { step: 1, pid: s.old.process.pid },
      { step: 2, pid: s.next.process.pid },
    ]);
    expectWokenOnTime(runs[1]!.at, before.wakeAt!);
    expect((await runState('sleep-held', 'zart.sleep#0')).wakeAt).toBe(before.wakeAt);
  });

  it('a parked sleep: the new worker wakes it at its stored wake time', async () => {
    const before = s.before.get('sleep-parked')!;
    expect(before).toMatchObject({ status: 'waiting', waitingFor: 'sleep', leased: false, stepStatus: 'sleeping' });
    expect(before.wakeAt! - s.sigtermAt).toBeGreaterThan(0);

    expect(result('sleep-parked')).toBeUndefined();
    const runs = await executions('sleep-parked');
    expect(runs.map(({ step, pid }) => ({ step, pid }))).toEqual([
      { step: 1, pid: s.old.process.pid },
      { step: 2, pid: s.next.process.pid },
    ]);
    expectWokenOnTime(runs[1]!.at, before.wakeAt!);
  });

  it('an event wait: the event sent after the old worker left is delivered by the new one, exactly once', async () => {
    expect(s.before.get('event')).toMatchObject({
      status: 'waiting',
      waitingFor: 'event:approve',
      stepStatus: 'waiting',
    });

    // The second wait, for the same name, timed out: it did not get the one event again.
    expect(result('event')).toEqual({ first: 'approved', second: null });
    const { rows } = await db.sql.query(
      "SELECT payload->>'json' AS payload, consumed_by_key FROM zart.events WHERE run_id = 'event' ORDER BY id",
    );
    expect(rows).toEqual([{ payload: 'approved', consumed_by_key: 'zart.event:approve#0' }]);
    const runs = await executions('event');
    expect(runs.map(({ step, pid }) => ({ step, pid }))).toEqual([
      { step: 1, pid: s.old.process.pid },
      { step: 2, pid: s.next.process.pid },
    ]);
    expect((await s.client.getSteps('event')).map(({ key, status, output }) => ({ key, status, output }))).toEqual([
      { key: 'before#0', status: 'completed', output: undefined },
      { key: 'zart.event:approve#0', status: 'completed', output: 'approved' },
      { key: 'record#0', status: 'completed', output: undefined },
      { key: 'zart.event:approve#1', status: 'failed', output: undefined },
    ]);
  });

  it('a parent waiting on children in flight: each child started once and finished once, the fan-in complete', async () => {
    const before = s.before.get('parent')!;
    expect(before.status).toBe('waiting');
    // One line per wait the run parked on: at least the first child's result.
    expect(before.waitingFor?.split('\n')).toContain('child:parent/zart.child#0');

    expect(result('parent')).toEqual([1, 11, 21]);
    const children = ['parent/zart.child#0', 'parent/zart.child#1', 'parent/zart.child#2'];
    const { rows } = await db.sql.query("SELECT id FROM zart.runs WHERE parent_id = 'parent' ORDER BY id");
    expect(rows.map((row: { id: string }) => row.id)).toEqual(children);
    const started = (await s.client.getSteps('parent')).filter((step) => step.name === 'zart.child');
    expect(started.map(({ key, output }) => ({ key, output }))).toEqual(
      children.map((id, n) => ({ key: `zart.child#${n}`, output: id })),
    );
    // The step in flight finished on the old worker; each child moved over at the next step.
    for (const id of children) {
      const runs = await executions(id);
      expect(runs.map(({ step, pid }) => ({ id, step, pid }))).toEqual([
        { id, step: 1, pid: s.old.process.pid },
        { id, step: 2, pid: s.next.process.pid },
      ]);
    }
  });

  it('a transactional step in flight: it commits on the old worker and its row is written exactly once', async () => {
    expect(result('tx')).toBe(s.old.process.pid);
    const { rows } = await db.sql.query('SELECT run_id, pid FROM redeploy_ledger');
    expect(rows).toEqual([{ run_id: 'tx', pid: s.old.process.pid }]);
    const runs = await executions('tx');
    expect(runs.map(({ step, pid }) => ({ step, pid }))).toEqual([
      { step: 1, pid: s.old.process.pid },
      { step: 2, pid: s.next.process.pid },
    ]);
    expect(await s.client.getSteps('tx')).toEqual([
      expect.objectContaining({
        key: 'RedeployLedger.reserve#0',
        status: 'completed',
        attempts: 1,
        output: s.old.process.pid,
      }),
      expect.objectContaining({ key: 'after#0', status: 'completed' }),
    ]);
  });

  it('now() and randomUUID() taken before the SIGTERM: the new worker replays the same values', async () => {
    const { rows } = await db.sql.query<{ step: number; pid: number; at: string; uuid: string }>(
      "SELECT step, pid, at, uuid FROM redeploy_values WHERE run_id = 'clock' ORDER BY step",
    );
    expect(rows.map(({ step, pid }) => ({ step, pid }))).toEqual([
      { step: 1, pid: s.old.process.pid },
      { step: 2, pid: s.next.process.pid },
    ]);
    const [first, after] = rows;
    expect({ at: after!.at, uuid: after!.uuid }).toEqual({ at: first!.at, uuid: first!.uuid });
    const output = result('clock') as { at: Date; id: string };
    expect({ at: output.at.toISOString(), uuid: output.id }).toEqual({ at: first!.at, uuid: first!.uuid });
    const steps = await s.client.getSteps('clock');
    expect(steps.slice(0, 2).map(({ key, output }) => ({ key, output }))).toEqual([
      { key: 'zart.now#0', output: new Date(first!.at) },
      { key: 'zart.randomUUID#0', output: first!.uuid },
    ]);
  });
});
