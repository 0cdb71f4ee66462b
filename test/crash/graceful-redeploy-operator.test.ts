// A graceful redeploy (SIGTERM) while a deadline runs, a cancel() comes mid-drain, and resumed and forked runs execute.
import { DeadlineExceededError, WorkflowCancelledError, WorkflowFailedError, type ZartClient } from '../../src';
import type { ChildHandle } from '../support/child-process';
import { useCrashHarness } from '../support/crash-harness';
import { useTestDatabase } from '../support/test-zart';
import { waitFor } from '../support/wait-for';
import {
  CancelDuringDrain,
  DrainProbe,
  OperatorRedeploySteps,
  RedeployDeadline,
  redeployDeadlineMs,
} from './fixtures/redeploy-operator.workflow';

const db = useTestDatabase();
// A 30 s lease: a run reaches the new worker only by being handed back, never because the old
// worker's lease ran out while it was draining.
const { spawnWorker } = useCrashHarness(db, { ZART_LEASE: '30s' });

// The hand-back comes at least this long after the deadline runs started, so a deadline counted
// again from the hand-back would fail them visibly late.
const handBackAfterS = 3;
// How late the new worker may fail a run after its deadline: its timer fires on the stored
// deadline; this covers the step it waits for and the final write on a loaded machine.
const deadlineToleranceS = 1.5;

/** Database clock, epoch seconds. */
async function dbNow(): Promise<number> {
  const { rows } = await db.sql.query<{ t: number }>('SELECT extract(epoch FROM clock_timestamp())::float8 AS t');
  return rows[0]!.t;
}

interface RunTimes {
  status: string;
  leaseOwner: string | null;
  leaseEpoch: number;
  createdAt: number;
  deadlineAt: number | null;
  finishedAt: number | null;
}

async function runTimes(id: string): Promise<RunTimes> {
  const { rows } = await db.sql.query<RunTimes>(
    `SELECT status, lease_owner AS "leaseOwner", lease_epoch AS "leaseEpoch",
            extract(epoch FROM created_at)::float8 AS "createdAt",
            extract(epoch FROM deadline_at)::float8 AS "deadlineAt",
            extract(epoch FROM finished_at)::float8 AS "finishedAt"
     FROM zart.runs WHERE id = $1`,
    [id],
  );
  return rows[0]!;
}

async function waitForRun(id: string, holds: (run: RunTimes) => boolean): Promise<RunTimes> {
  let run: RunTimes | undefined;
  await waitFor(async () => {
    run = await runTimes(id);
    return run !== undefined && holds(run);
  }, 30_000).catch((error: Error) => {
    throw new Error(`${id} never reached the expected state; last seen ${JSON.stringify(run)}: ${error.message}`);
  });
  return run!;
}

interface Scenario {
  client: ZartClient;
  /** The old worker (SIGTERMed) and the new one, by pid. */
  a: number;
  b: number;
  aExit: number | NodeJS.Signals | null;
  aStderr: string;
  sigtermAt: number;
  cancelledAt: number;
  /** Each run as it was just before the SIGTERM. */
  before: Map<string, RunTimes>;
  /** The cancelled run as cancel() left it. */
  afterCancel: RunTimes;
  sourceSteps: Awaited<ReturnType<ZartClient['getSteps']>>;
  results: Map<string, PromiseSettledResult<unknown>>;
}

describe('a graceful redeploy while deadlines run, a cancel arrives and operator actions execute', () => {
  let s: Scenario;
  let workers: ChildHandle[] = [];

  beforeAll(async () => {
    for (const table of [
      'operator_gate (opened boolean)',
      'failing_steps (run_id text, step int)',
      'holding_steps (run_id text, step int)',
      'signal_seen (run_id text, step int, pid int, reason text, at timestamptz)',
      'probe_stop (stopped boolean)',
    ]) {
      await db.sql.query(`CREATE TABLE ${table}`);
    }
    const client = await db.client();
    // The new deployment boots alongside the old one and is frozen until the switch-over, so the
    // old one claims every run.
    const old = spawnWorker();
    const next = spawnWorker();
    workers = [old, next];
    // ts-node compiles the fixtures on start: slow on a loaded two-core machine.
    await Promise.all(workers.map((worker) => worker.waitForLine('READY', 90_000)));
    next.process.kill('SIGSTOP');
    const [a, b] = [old.process.pid!, next.process.pid!];

    // resume(): attempt 1 fails at step 3; the resumed attempt holds in step 4.
    await db.sql.query("INSERT INTO failing_steps VALUES ('resumed', 3)");
    await client.startWorkflow(OperatorRedeploySteps, undefined as never, { id: 'resumed' });
    await expect(client.getHandle('resumed').result({ timeout: '30s' })).rejects.toThrow(WorkflowFailedError);
    await db.sql.query("DELETE FROM failing_steps WHERE run_id = 'resumed'"); // the operator's fix
    await db.sql.query("INSERT INTO holding_steps VALUES ('resumed', 4)");
    await client.resume('resumed');

    // fork(): a completed source, forked from its step 3; the fork holds in step 4.
    await client.startWorkflow(OperatorRedeploySteps, undefined as never, { id: 'source' });
    await client.getHandle('source').result({ timeout: '30s' });
    const sourceSteps = await client.getSteps('source');
    await db.sql.query("INSERT INTO holding_steps VALUES ('forked', 4)");
    await client.fork('source', { fromStep: 'OperatorRedeployEffects.perform#2', id: 'forked' });

    await client.startWorkflow(CancelDuringDrain, undefined as never, { id: 'cancel-draining' });
    await client.startWorkflow(DrainProbe, undefined as never, { id: 'probe' });
    await db.sql.query("INSERT INTO holding_steps VALUES ('deadline-late', 1), ('deadline-early', 1)");
    await client.startWorkflow(RedeployDeadline, { outlivesDeadline: true }, { id: 'deadline-late' });
    await client.startWorkflow(RedeployDeadline, { outlivesDeadline: false }, { id: 'deadline-early' });
    await Promise.all(
      [
        'HOLDING resumed 4',
        'HOLDING forked 4',
        'WATCHING_SIGNAL cancel-draining',
        'HOLDING deadline-late 1',
        'HOLDING deadline-early 1',
      ].map((line) => old.waitForLine(line, 30_000)),
    );
    await waitForRun('probe', (run) => run.leaseOwner?.startsWith(`${a}-`) === true);
    const started = (await runTimes('deadline-late')).createdAt;
    await waitFor(async () => (await dbNow()) > started + handBackAfterS);

    const before = new Map<string, RunTimes>();
    for (const id of ['deadline-late', 'deadline-early', 'cancel-draining']) before.set(id, await runTimes(id));
    next.process.kill('SIGCONT');
    const sigtermAt = await dbNow();
    old.process.kill('SIGTERM');

    // shutdown() asks every run to hand itself back in one loop: once the probe has left the old
    // worker, the run whose step watches its signal is draining too.
    await waitForRun('probe', (run) => !run.leaseOwner?.startsWith(`${a}-`));
    const cancelledAt = await dbNow();
    await client.cancel('cancel-draining');
    const afterCancel = await runTimes('cancel-draining');
    await db.sql.query('INSERT INTO operator_gate VALUES (true)');
    await old.waitForLine('SHUT_DOWN', 60_000);
    const aExit = await old.exited;
    await db.sql.query('INSERT INTO probe_stop VALUES (true)');

    const ids = ['deadline-late', 'deadline-early', 'cancel-draining', 'resumed', 'forked', 'probe'];
    const settled = await Promise.allSettled(ids.map((id) => client.getHandle(id).result({ timeout: '30s' })));
    const results = new Map(ids.map((id, i) => [id, settled[i]!]));
    s = {
      client,
      a,
      b,
      aExit,
      aStderr: old.stderr(),
      sigtermAt,
      cancelledAt,
      before,
      afterCancel,
      sourceSteps,
      results,
    };
  }, 120_000);

  afterAll(() => {
    // beforeAll may have failed before the harness's afterEach had a test to run after.
    for (const child of workers) {
      if (child.process.exitCode === null && child.process.signalCode === null) child.process.kill('SIGKILL');
    }
  });

  function outcome(id: string): unknown {
    const settled = s.results.get(id)!;
    return settled.status === 'fulfilled' ? settled.value : settled.reason;
  }

  async function executions(runId: string): Promise<Array<{ step: number; pid: number; at: number }>> {
    const { rows } = await db.sql.query<{ step: number; pid: number; at: number }>(
      'SELECT step, pid, extract(epoch FROM at)::float8 AS at FROM effects WHERE run_id = $1 ORDER BY seq',
      [runId],
    );
    return rows;
  }

  // Which processes ran each of the five steps, in order.
  async function executionsPerStep(runId: string): Promise<number[][]> {
    const rows = await executions(runId);
    return [1, 2, 3, 4, 5].map((step) => rows.filter((r) => r.step === step).map((r) => r.pid));
  }

  it('the old worker drains within its drain time and exits cleanly; the new one takes over', () => {
    expect(s.aExit).toBe(0);
    // Past the drain, steps in flight are abandoned and run again: nothing may have needed that.
    expect(s.aStderr).not.toContain('drain time passed');
    expect(outcome('probe')).toBe(s.b);
  });

  describe('(a) a @Workflow({ timeout }) run handed back', () => {
    it('keeps its deadline: the new worker fails it with DeadlineExceededError at the original deadline', async () => {
      const before = s.before.get('deadline-late')!;
      expect(before.deadlineAt! - before.createdAt).toBeCloseTo(redeployDeadlineMs / 1000, 3);
      expect(before.deadlineAt! - s.sigtermAt).toBeGreaterThan(2); // still well ahead at the SIGTERM

      const error = outcome('deadline-late');
      expect(error).toBeInstanceOf(DeadlineExceededError);
      expect(error).toMatchObject({ runId: 'deadline-late' });
      const run = await s.client.getRun('deadline-late');
      expect(run.status).toBe('failed');
      expect(run.error).toBeInstanceOf(DeadlineExceededError);

      const after = await runTimes('deadline-late');
      expect(after.deadlineAt).toBe(before.deadlineAt); // stored once, not moved by the hand-back
      const runs = await executions('deadline-late');
      expect(runs.map(({ step, pid }) => ({ step, pid }))).toEqual([
        { step: 1, pid: s.a },
        { step: 2, pid: s.b },
      ]);
      // Handed back late enough that a deadline counted from the new claim would fail it visibly later.
      const claimedAt = runs[1]!.at;
      expect(claimedAt - before.createdAt).toBeGreaterThan(handBackAfterS);
      expect(after.finishedAt! - after.deadlineAt!).toBeGreaterThanOrEqual(0);
      expect(after.finishedAt! - after.deadlineAt!).toBeLessThan(deadlineToleranceS);

      // The step in flight on the new worker saw its signal aborted by the deadline.
      const { rows } = await db.sql.query<{ pid: number; reason: string; at: number }>(
        "SELECT pid, reason, extract(epoch FROM at)::float8 AS at FROM signal_seen WHERE run_id = 'deadline-late'",
      );
      expect(rows.map(({ pid, reason }) => ({ pid, reason }))).toEqual([{ pid: s.b, reason: 'DeadlineExceededError' }]);
      expect(rows[0]!.at - after.deadlineAt!).toBeLessThan(deadlineToleranceS);
      // The step's result was discarded: only step 1 is checkpointed.
      expect((await s.client.getSteps('deadline-late')).map(({ key, status }) => ({ key, status }))).toEqual([
        { key: 'OperatorRedeployEffects.perform#0', status: 'completed' },
      ]);
    });

    it('a run that finishes before its deadline completes normally on the new worker', async () => {
      expect(outcome('deadline-early')).toEqual([`${s.a}:1:attempt 1`, `${s.b}:2:done`]);
      const after = await runTimes('deadline-early');
      expect(after.status).toBe('completed');
      expect(after.deadlineAt).toBe(s.before.get('deadline-early')!.deadlineAt);
      expect(after.finishedAt!).toBeLessThan(after.deadlineAt!);
      expect((await executions('deadline-early')).map(({ step, pid }) => ({ step, pid }))).toEqual([
        { step: 1, pid: s.a },
        { step: 2, pid: s.b },
      ]);
    });
  });

  describe('(b) a run cancelled while its worker drains, its step in flight', () => {
    it('the step sees its signal aborted at once; the run ends cancelled and the new worker never resumes it', async () => {
      expect(s.before.get('cancel-draining')).toMatchObject({ status: 'running' });
      expect(s.afterCancel).toMatchObject({ status: 'cancelled', leaseOwner: null });

      const { rows } = await db.sql.query<{ step: number; pid: number; reason: string; at: number }>(
        "SELECT step, pid, reason, extract(epoch FROM at)::float8 AS at FROM signal_seen WHERE run_id = 'cancel-draining'",
      );
      expect(rows.map(({ step, pid, reason }) => ({ step, pid, reason }))).toEqual([
        { step: 2, pid: s.a, reason: 'WorkflowCancelledError' },
      ]);
      // Told by the notification, not at the end of the drain.
      expect(rows[0]!.at - s.cancelledAt).toBeLessThan(2);

      expect(outcome('cancel-draining')).toBeInstanceOf(WorkflowCancelledError);
      await expect(s.client.getHandle('cancel-draining').result({ timeout: '1s' })).rejects.toThrow(
        WorkflowCancelledError,
      );
      // No claim since the cancel: the epoch the cancel set is still the run's, with no owner.
      expect(await runTimes('cancel-draining')).toMatchObject({
        status: 'cancelled',
        leaseOwner: null,
        leaseEpoch: s.afterCancel.leaseEpoch,
      });
      // The in-flight step's result was not checkpointed; step 3 never ran anywhere.
      expect((await s.client.getSteps('cancel-draining')).map(({ key, status }) => ({ key, status }))).toEqual([
        { key: 'OperatorRedeployEffects.perform#0', status: 'completed' },
      ]);
      expect((await executions('cancel-draining')).map(({ step, pid }) => ({ step, pid }))).toEqual([
        { step: 1, pid: s.a },
        { step: 2, pid: s.a },
      ]);
    });
  });

  describe('(c) operator actions in flight at the SIGTERM', () => {
    it('a resumed run: the new worker completes it; kept checkpoints and the step in flight are not run again', async () => {
      const { a, b } = s;
      const outputs = [
        `${a}:1:attempt 1`,
        `${a}:2:attempt 1`,
        `${a}:3:attempt 2`,
        `${a}:4:attempt 2`,
        `${b}:5:attempt 2`,
      ];
      expect(outcome('resumed')).toEqual(outputs);
      // Step 3 failed in attempt 1 and ran again in the resumed one; every other step ran once.
      expect(await executionsPerStep('resumed')).toEqual([[a], [a], [a, a], [a], [b]]);
      expect(await s.client.getRun('resumed')).toMatchObject({ status: 'completed', attempt: 2, output: outputs });
      expect(
        (await s.client.getSteps('resumed')).map(({ key, status, attempts }) => ({ key, status, attempts })),
      ).toEqual(
        [0, 1, 2, 3, 4].map((k) => ({ key: `OperatorRedeployEffects.perform#${k}`, status: 'completed', attempts: 1 })),
      );
    });

    it('a forked run: the new worker completes it from the copied checkpoints, each later step run once', async () => {
      const { a, b } = s;
      const outputs = [
        `${a}:1:attempt 1`,
        `${a}:2:attempt 1`,
        `${a}:3:attempt 1`,
        `${a}:4:attempt 1`,
        `${b}:5:attempt 1`,
      ];
      expect(outcome('forked')).toEqual(outputs);
      // Steps 1-2 are the source's checkpoints, not executions of the fork.
      expect(await executionsPerStep('forked')).toEqual([[], [], [a], [a], [b]]);
      expect((await s.client.getSteps('forked')).slice(0, 2)).toEqual(s.sourceSteps.slice(0, 2));
      expect(await s.client.getRun('forked')).toMatchObject({ status: 'completed', attempt: 1, parentId: null });
      // The source is untouched.
      expect(await s.client.getSteps('source')).toEqual(s.sourceSteps);
      expect(await executionsPerStep('source')).toEqual([[a], [a], [a], [a], [a]]);
    });
  });
});
