// W4: crash and recovery. A child process starts 500 workflows of 10 steps (each a ~5 ms await,
// so the work is in flight) and is SIGKILLed ~1 s later; a second child restarts the system on
// the same database. The parent measures, from the database: runs lost (never completed), steps
// whose side effect ran more than once, and the time from the restart until every run completed.
import { fork, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as delay } from 'node:timers/promises';
import { Client } from 'pg';
import type { Duration } from 'zart';
import type { W4ChildConfig, W4ChildMessage } from './w4-child';

export interface W4Options {
  workflows: number;
  steps: number;
  stepDelayMs: number;
  /** How long after the child reported every workflow started it is killed. */
  killAfterMs: number;
  /**
   * Or earlier, once this share of all step bodies has run: however fast a system gets, it is
   * killed with work in flight rather than after it finished everything (which tests nothing).
   */
  killAtFraction: number;
  /** How long the restarted child may take before the remaining runs count as lost. */
  timeoutMs: number;
  /** zart's lease in both children. */
  lease: Duration;
}

export interface W4Figures {
  /** How long the first child took to start every workflow (they execute meanwhile). */
  startMs: number;
  /** Runs completed when the first child was killed: the rest were in flight. */
  completedAtKill: number;
  /** Step executions recorded when the first child was killed. */
  executionsAtKill: number;
  /** Runs not completed: still pending or running at the timeout, or failed. */
  runsLost: number;
  /** Of which failed: a run that fails here failed because of the crash, not its code. */
  runsFailed: number;
  /** Steps whose body completed more than once (at-least-once re-executions). */
  stepsExecutedTwice: number;
  /** Steps of completed runs whose body never completed: must be zero. */
  stepsMissing: number;
  /** From spawning the second process until the database shows an outcome for every run. */
  recoveryMs: number;
  /** Of which: until the second process reported the system started (node, imports, launch). */
  bootMs: number;
}

const pollMs = 50;

/** Runs W4 for one system; `live` tracks child processes so run.ts can kill any on the way out. */
export async function runW4(
  system: 'zart' | 'dbos',
  urls: { url: string; dbosSystemUrl: string },
  options: W4Options,
  live: Set<ChildProcess>,
): Promise<W4Figures> {
  const db = new Client({ connectionString: urls.url, application_name: 'bench-w4-parent' });
  await db.connect();
  try {
    await db.query(
      'CREATE TABLE IF NOT EXISTS bench_w4_executions (system text NOT NULL, run_id text NOT NULL, step int NOT NULL)',
    );
    const child = (phase: W4ChildConfig['phase']): ChildProcess => {
      const config: W4ChildConfig = { system, phase, ...urls, ...options };
      const process_ = fork(join(__dirname, 'w4-child.js'), [], {
        env: { ...process.env, BENCH_W4_CHILD: JSON.stringify(config) },
        stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      });
      live.add(process_);
      process_.once('exit', () => live.delete(process_));
      return process_;
    };
    const dbosDb = new Client({ connectionString: urls.dbosSystemUrl, application_name: 'bench-w4-parent' });
    await dbosDb.connect();
    // A clean slate, so W4 can be repeated in one bench run: each system migrates afresh.
    await db.query('DELETE FROM bench_w4_executions WHERE system = $1', [system]);
    if (system === 'zart') await db.query('DROP SCHEMA IF EXISTS zart_w4 CASCADE');
    else await dbosDb.query('DROP SCHEMA IF EXISTS dbos CASCADE');
    // Read where each system records outcomes: zart's runs table, DBOS's workflow_status.
    const countRuns = async (status: 'done' | 'failed'): Promise<number> => {
      const { rows } =
        system === 'zart'
          ? await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM zart_w4.runs WHERE status = $1`, [
              status === 'done' ? 'completed' : 'failed',
            ])
          : await dbosDb.query<{ n: number }>(`SELECT count(*)::int AS n FROM dbos.workflow_status WHERE status = $1`, [
              status === 'done' ? 'SUCCESS' : 'ERROR',
            ]);
      return rows[0]?.n ?? 0;
    };
    const completed = (): Promise<number> => countRuns('done');
    try {
      // 1. Load, then SIGKILL mid-flight.
      const load = child('load');
      const startMs = await waitFor(load, 'started', 120_000);
      const killAt = performance.now() + options.killAfterMs;
      const enough = options.killAtFraction * options.workflows * options.steps;
      while (performance.now() < killAt && (await countExecutions(db, system)) < enough) await delay(20);
      load.kill('SIGKILL');
      await once(load, 'exit');
      const completedAtKill = await completed();
      const executionsAtKill = await countExecutions(db, system);

      // 2. Restart: the second process recovers; the database says when every run is done.
      const restarted = performance.now();
      const recover = child('recover');
      let bootMs = NaN;
      void waitFor(recover, 'ready', options.timeoutMs).then(
        () => (bootMs = performance.now() - restarted),
        () => undefined,
      );
      // Until every run has an outcome: completed, or failed (which counts as lost).
      let done = completedAtKill;
      let runsFailed = await countRuns('failed');
      while (done + runsFailed < options.workflows && performance.now() - restarted < options.timeoutMs) {
        if (recover.exitCode !== null) throw new Error(`W4 ${system}: the restarted process exited early`);
        await delay(pollMs);
        done = await completed();
        runsFailed = await countRuns('failed');
      }
      const recoveryMs = performance.now() - restarted;
      recover.send('stop');
      await Promise.race([once(recover, 'exit'), delay(10_000)]);
      if (recover.exitCode === null) recover.kill('SIGKILL');

      const twice = await db.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM (
           SELECT 1 FROM bench_w4_executions WHERE system = $1 GROUP BY run_id, step HAVING count(*) > 1
         ) AS repeated`,
        [system],
      );
      const distinct = await db.query<{ n: number }>(
        'SELECT count(DISTINCT (run_id, step))::int AS n FROM bench_w4_executions WHERE system = $1',
        [system],
      );
      return {
        startMs,
        completedAtKill,
        executionsAtKill,
        runsLost: options.workflows - done,
        runsFailed,
        stepsExecutedTwice: twice.rows[0]!.n,
        // Every completed run must have had all its step bodies run at least once.
        stepsMissing: Math.max(0, done * options.steps - distinct.rows[0]!.n),
        recoveryMs,
        bootMs,
      };
    } finally {
      await dbosDb.end();
    }
  } finally {
    await db.end();
  }
}

async function countExecutions(db: Client, system: string): Promise<number> {
  const { rows } = await db.query<{ n: number }>(
    'SELECT count(*)::int AS n FROM bench_w4_executions WHERE system = $1',
    [system],
  );
  return rows[0]!.n;
}

/**
 * Resolves on the child's message of `type` (with its `ms`, if any); rejects on its error
 * message, its exit or the timeout.
 */
function waitFor(child: ChildProcess, type: W4ChildMessage['type'], timeoutMs: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => finish(new Error(`W4 child: no "${type}" within ${timeoutMs} ms`)), timeoutMs);
    const onMessage = (message: W4ChildMessage): void => {
      if (message.type === type) finish(undefined, 'ms' in message ? message.ms : NaN);
      else if (message.type === 'error') finish(new Error(`W4 child failed: ${message.message}`));
    };
    const onExit = (code: number | null, signal: string | null): void =>
      finish(new Error(`W4 child exited (${signal ?? code}) before "${type}"`));
    function finish(error?: Error, ms = NaN): void {
      clearTimeout(timer);
      child.off('message', onMessage);
      child.off('exit', onExit);
      if (error) reject(error);
      else resolve(ms);
    }
    child.on('message', onMessage);
    child.on('exit', onExit);
  });
}
