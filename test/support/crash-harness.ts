// Crash-test scaffolding: worker processes on the file's database that a test kills (SIGKILL) or
// stops (SIGTERM) at exact points, the `effects` table fixtures record each execution in, and a
// clean-up that leaves no child process behind whatever the test's outcome.
import { spawnTypeScript, type ChildHandle } from './child-process';
import type { TestContext } from './test-zart';

const workerEntry = 'test/crash/fixtures/worker-process.ts';

/** One execution of a fixture's side effect, as recorded by the worker process that ran it. */
export interface Effect {
  run_id: string;
  step: number;
  pid: number;
}

// Function properties rather than methods: tests destructure them, and none uses `this`.
export interface CrashHarness {
  /**
   * Spawns a worker process (test/crash/fixtures/worker-process.ts) and resolves once it runs.
   * `env` adds to the harness's defaults (DATABASE_URL, a 1 s lease, a 100 ms poll).
   */
  startWorker: (env?: Record<string, string>) => Promise<ChildHandle>;
  /** Spawns a worker without waiting for it (a successor racing the doomed one's lease). */
  spawnWorker: (env?: Record<string, string>) => ChildHandle;
  /** SIGKILL: no shutdown code runs; resolves once the process is gone. */
  kill: (worker: ChildHandle) => Promise<void>;
  /** SIGTERM: the graceful shutdown; resolves once the worker has printed SHUT_DOWN and exited. */
  stop: (worker: ChildHandle, timeoutMs?: number) => Promise<void>;
  /** The effects table in the order the rows were written. */
  effects: (runId?: string) => Promise<Effect[]>;
}

/** Call at the top of a crash-test file, after useTestDatabase(). */
export function useCrashHarness(db: TestContext, defaults: Record<string, string> = {}): CrashHarness {
  const spawned: ChildHandle[] = [];
  beforeAll(async () => {
    // `at`: set by fixtures that time steps on the database clock (the redeploy hand-off gap).
    await db.sql.query(
      'CREATE TABLE effects (seq serial PRIMARY KEY, run_id text, step int, pid int, at timestamptz DEFAULT clock_timestamp())',
    );
  });
  afterEach(async () => {
    const children = spawned.splice(0);
    for (const child of children) child.process.kill('SIGKILL');
    await Promise.all(children.map((child) => child.exited));
  });

  const spawnWorker = (env: Record<string, string> = {}): ChildHandle => {
    const child = spawnTypeScript(workerEntry, {
      DATABASE_URL: db.url,
      ZART_LEASE: '1s',
      ZART_POLL_INTERVAL: '100ms',
      ...defaults,
      ...env,
    });
    spawned.push(child);
    return child;
  };

  return {
    spawnWorker,
    async startWorker(env) {
      const worker = spawnWorker(env);
      // ts-node compiles the fixtures on start: slow on a loaded two-core machine.
      await worker.waitForLine('READY', 90_000);
      return worker;
    },
    async kill(worker) {
      worker.process.kill('SIGKILL');
      await worker.exited;
    },
    async stop(worker, timeoutMs = 60_000) {
      worker.process.kill('SIGTERM');
      await worker.waitForLine('SHUT_DOWN', timeoutMs);
      await worker.exited;
    },
    async effects(runId) {
      const { rows } = await db.sql.query<Effect>(
        `SELECT run_id, step, pid FROM effects ${runId === undefined ? '' : 'WHERE run_id = $1'} ORDER BY seq`,
        runId === undefined ? [] : [runId],
      );
      return rows;
    },
  };
}
