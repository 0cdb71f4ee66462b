// One chaos iteration: a fresh database on the private server, three worker processes behind the
// latency proxy, the seed's workload started and driven (events, cancels) while the seed's faults
// are injected, then faults stop, every run must reach a final status within the settle bound, and
// the invariants are checked from the database. Never touches the shared test server.
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { DefaultSerializer, InvalidRunStateError, ZartClient, type StoredValue } from '../../src';
import type { ScratchPostgres } from '../support/scratch-postgres';
import { silentLogger } from '../support/silent-logger';
import { startLatencyProxy } from '../support/latency-proxy';
import { faultKinds, planIteration, type ChaosPlan, type FaultKind } from './chaos-plan';
import { ChaosWorkers } from './chaos-workers';
import {
  checkInvariants,
  countRepeats,
  type EventRow,
  type ExecutionRow,
  type FaultWindow,
  type LedgerRow,
  type ObservedRun,
  type Violation,
} from './chaos-invariants';
import { FaultInjector } from './fault-injector';
import { adminQuery, retry } from './admin-query';
import './fixtures/chaos.workflows';

export interface IterationOptions {
  server: ScratchPostgres;
  seed: number;
  /** How long faults are injected. */
  faultPhaseMs: number;
  /** How long runs may take to reach a final status once faults stop. */
  settleMs: number;
  leaseMs: number;
  workers: number;
  /** Where worker logs go (one folder per seed). */
  logDir: string;
}

export interface IterationReport {
  seed: number;
  plan: ChaosPlan;
  /** Faults injected, by kind. */
  faults: Record<FaultKind, number>;
  /** Planned faults that could not be injected (a stall of a worker not yet running, ...). */
  skipped: number;
  runs: number;
  /** Step executions beyond the first of their (run, key, attempt), each explained by a fault or flagged. */
  repeats: number;
  /** Final statuses of every run, children included. */
  statuses: Record<string, number>;
  violations: Violation[];
  /** What went wrong outside the invariants: a worker that crashed, a driver call that failed. */
  incidents: string[];
  /** Event-loop gaps and statement round trips past a renewal interval the workers measured (injected faults included). */
  observedStalls: number;
  /** From the end of the fault phase until every run was final. */
  settledInMs: number;
  durationMs: number;
  logDir: string;
}

const finalStatuses = ['completed', 'failed', 'cancelled'];

export async function runIteration(options: IterationOptions): Promise<IterationReport> {
  const began = Date.now();
  const plan = planIteration(options.seed, {
    faultPhaseMs: options.faultPhaseMs,
    leaseMs: options.leaseMs,
    workers: options.workers,
  });
  const logDir = join(options.logDir, `seed-${options.seed}`);
  mkdirSync(logDir, { recursive: true });
  const database = `chaos_${options.seed}`;
  const serverUrl = new URL(options.server.url);
  const directUrl = withDatabase(options.server.url, database);
  const admin = (sql: string, values: unknown[] = [], url = directUrl) => adminQuery(url, sql, values);

  await admin(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`, [], options.server.url);
  await admin(`CREATE DATABASE ${database}`, [], options.server.url);
  await admin(`CREATE TABLE chaos_executions (
  exec_id text PRIMARY KEY, run_id text NOT NULL, step_key text NOT NULL, attempt int NOT NULL,
  pid int NOT NULL, epoch int, owner text, started_ms bigint NOT NULL, ended_ms bigint,
  epoch_read_ms float8 NOT NULL)`);
  // No unique key on (run_id, step_key): a transactional step that committed twice must show.
  await admin(`CREATE TABLE chaos_ledger (seq serial PRIMARY KEY, run_id text NOT NULL, step_key text NOT NULL,
  exec_id text NOT NULL, pid int NOT NULL)`);

  const client = new ZartClient({ connectionString: directUrl, logger: silentLogger });
  await client.start(); // migrates before any worker starts
  const proxy = await startLatencyProxy({ host: serverUrl.hostname, port: Number(serverUrl.port) });
  const proxyUrl = new URL(directUrl);
  proxyUrl.port = String(proxy.port);
  const workers = new ChaosWorkers(
    {
      DATABASE_URL: proxyUrl.toString(),
      CHAOS_LOG_URL: directUrl,
      ZART_LEASE: `${options.leaseMs}ms`,
      ZART_POLL_INTERVAL: '100ms',
      ZART_MAX_IN_PROCESS_WAIT: '500ms',
      // A crash's log then says where an unhandled 'error' event was emitted.
      NODE_OPTIONS: '--trace-uncaught',
    },
    options.workers,
    logDir,
  );

  const incidents: string[] = [];
  const windows: FaultWindow[] = [];
  const injected = Object.fromEntries(faultKinds.map((k) => [k, 0])) as Record<FaultKind, number>;
  let skipped = 0;
  const cancelledAtMs = new Map<string, number>();
  let settledInMs = -1;
  let violations: Violation[] = [];
  const statuses: Record<string, number> = {};
  let runCount = 0;
  let repeats = 0;
  let observedStalls = 0;
  try {
    await workers.start();
    const t0 = Date.now();
    const at = (ms: number) => delay(Math.max(0, t0 + ms - Date.now()));

    // The driver: starts, events and cancels, each retried across the faults it runs into.
    const started = new Map<string, Promise<void>>();
    for (const run of plan.runs) {
      started.set(
        run.id,
        at(run.startAtMs).then(() =>
          retry(
            `start ${run.id}`,
            async () => void (await client.startWorkflow(run.workflow, run.input, { id: run.id })),
          ),
        ),
      );
    }
    const driving = plan.runs.map(async (run) => {
      await started.get(run.id);
      for (const [k, ms] of run.eventsAtMs.entries()) {
        await at(ms);
        await sendEventOnce(client, directUrl, run.id, `${run.id}:go:${k}`, incidents);
      }
      if (run.cancelAtMs !== undefined) {
        await at(run.cancelAtMs);
        const when = await cancelOnce(client, run.id, incidents);
        if (when !== undefined) cancelledAtMs.set(run.id, when);
      }
    });

    // The faults.
    const injector = new FaultInjector(workers, proxy, options.server, directUrl, windows);
    const faulting = plan.faults.map(async (fault) => {
      await at(fault.atMs);
      if (await injector.inject(fault)) injected[fault.kind]++;
      else skipped++;
    });

    await Promise.all([...driving, ...faulting, at(plan.faultPhaseMs)]).catch((error: unknown) => {
      incidents.push(`driver: ${String(error)}`);
    });

    // Faults stop: every worker runs, no added latency. Then every run must become final.
    proxy.setDelay(0);
    workers.resumeAll();
    await workers.allReady();
    const settleStart = Date.now();
    let pending: string[] = [];
    for (;;) {
      const rows = await admin('SELECT id, status FROM zart.runs');
      pending = rows.filter((r) => !finalStatuses.includes(r.status as string)).map((r) => r.id as string);
      if (pending.length === 0) {
        settledInMs = Date.now() - settleStart;
        break;
      }
      if (Date.now() - settleStart > options.settleMs) break;
      await delay(250);
    }
    // Zombie executions (a stalled worker's step) get a moment to log their end.
    await delay(options.leaseMs);
    await workers.close();
    const crashes: Violation[] = [];
    // A delay the plan did not inject (the machine starved a worker or the server) is a fault all the same.
    for (const stall of workers.observedStalls) windows.push(stall);
    observedStalls = workers.observedStalls.length;
    for (const exit of workers.unexpectedExits) {
      windows.push({ kind: 'worker-exit', pid: exit.pid, startMs: exit.atMs, endMs: exit.atMs });
      const what = `worker ${exit.pid} exited on its own (${String(exit.status)}): ${exit.stderrTail.slice(-500)}`;
      // A start-up that fails while the server restarts is an incident; a running worker must
      // survive every fault but SIGKILL.
      if (exit.afterReady) crashes.push({ invariant: 'a worker survives faults', runId: '-', detail: what });
      else incidents.push(what);
    }

    const observed = await observe(client, directUrl);
    runCount = observed.runs.size;
    repeats = countRepeats(observed.executions);
    for (const { run } of observed.runs.values()) statuses[run.status] = (statuses[run.status] ?? 0) + 1;
    violations = checkInvariants({
      plan,
      ...observed,
      faults: windows,
      stuck: pending,
      cancelledAtMs,
      leaseMs: options.leaseMs,
    }).concat(crashes);
  } finally {
    await workers.close();
    await client.shutdown().catch(() => undefined);
    await proxy.close();
    await admin(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`, [], options.server.url).catch(() => undefined);
  }
  // Worker logs are kept only for iterations that have something to explain.
  if (violations.length === 0 && incidents.length === 0) rmSync(logDir, { recursive: true, force: true });
  return {
    seed: options.seed,
    plan,
    faults: injected,
    skipped,
    runs: runCount,
    repeats,
    statuses,
    violations,
    incidents,
    observedStalls,
    settledInMs,
    durationMs: Date.now() - began,
    logDir,
  };
}

async function observe(
  client: ZartClient,
  url: string,
): Promise<{ runs: Map<string, ObservedRun>; executions: ExecutionRow[]; ledger: LedgerRow[]; events: EventRow[] }> {
  const runs = new Map<string, ObservedRun>();
  for (const run of await client.listRuns({ limit: 1000 })) {
    runs.set(run.id, { run, steps: await client.getSteps(run.id) });
  }
  const executions = (await adminQuery(
    url,
    `SELECT exec_id, run_id, step_key, attempt, pid, epoch, owner, started_ms::float8 AS started_ms,
  ended_ms::float8 AS ended_ms, epoch_read_ms
FROM chaos_executions ORDER BY started_ms`,
  )) as unknown as ExecutionRow[];
  const ledger = (await adminQuery(
    url,
    'SELECT run_id, step_key, exec_id, pid FROM chaos_ledger ORDER BY seq',
  )) as unknown as LedgerRow[];
  const serializer = new DefaultSerializer();
  const events = (
    await adminQuery(url, "SELECT id::text AS id, run_id, payload, consumed_by_key FROM zart.events WHERE name = 'go'")
  ).map((row): EventRow => ({
    id: row.id as string,
    run_id: row.run_id as string,
    payload: row.payload === null ? undefined : serializer.deserialize(row.payload as StoredValue),
    consumed_by_key: row.consumed_by_key as string | null,
  }));
  return { runs, executions, ledger, events };
}

/** sendEvent, retried across faults; a retry first checks whether the lost call was stored. */
async function sendEventOnce(
  client: ZartClient,
  url: string,
  runId: string,
  payload: string,
  incidents: string[],
): Promise<void> {
  const until = Date.now() + 60_000;
  for (;;) {
    try {
      await client.sendEvent(runId, 'go', payload);
      return;
    } catch (error) {
      if (error instanceof InvalidRunStateError) {
        incidents.push(`sendEvent ${payload}: ${error.message}`);
        return;
      }
      const stored = await adminQuery(url, 'SELECT 1 FROM zart.events WHERE run_id = $1 AND payload::text LIKE $2', [
        runId,
        `%${payload}%`,
      ]).catch(() => []);
      if (stored.length > 0) return;
      if (Date.now() > until) throw error;
      await delay(200);
    }
  }
}

/** cancel(), retried across faults; returns when it took effect, or undefined if the run had ended. */
async function cancelOnce(client: ZartClient, runId: string, incidents: string[]): Promise<number | undefined> {
  const until = Date.now() + 60_000;
  for (;;) {
    try {
      await client.cancel(runId);
      return Date.now();
    } catch (error) {
      if (error instanceof InvalidRunStateError) {
        // A retry after a lost reply finds the run already cancelled by the first call.
        const status = await retry(`status ${runId}`, async () => (await client.getRun(runId)).status);
        if (status === 'cancelled') return Date.now();
        incidents.push(`cancel ${runId}: the run was already ${status}`);
        return undefined;
      }
      if (Date.now() > until) throw error;
      await delay(200);
    }
  }
}

function withDatabase(url: string, database: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${database}`;
  return parsed.toString();
}

/** The report of one iteration, as printed. */
export function formatReport(report: IterationReport): string {
  const faults = faultKinds.map((k) => `${k}×${report.faults[k]}`).join(' ');
  const statuses = Object.entries(report.statuses)
    .map(([status, n]) => `${status} ${n}`)
    .join(', ');
  const lines = [
    `chaos seed ${report.seed}: ${report.runs} runs (${statuses}), ${report.repeats} repeated step executions; faults ${faults}` +
      `${report.skipped > 0 ? ` (${report.skipped} skipped)` : ''}; ${report.observedStalls} event-loop gaps or slow round trips seen; settled in ${report.settledInMs} ms; ` +
      `${(report.durationMs / 1000).toFixed(1)} s; ${report.violations.length} violation(s)`,
  ];
  for (const v of report.violations) lines.push(`  VIOLATION [${v.invariant}] run ${v.runId}: ${v.detail}`);
  for (const incident of report.incidents) lines.push(`  incident: ${incident}`);
  if (report.violations.length > 0) {
    lines.push(
      `  worker logs: ${report.logDir}; reproduce: CHAOS_SEED=${report.seed} CHAOS_ITERATIONS=1 npm run chaos`,
    );
    lines.push(`  faults planned: ${report.plan.faults.map((f) => `${f.kind}@${f.atMs}ms/w${f.worker}`).join(' ')}`);
  }
  return lines.join('\n');
}
