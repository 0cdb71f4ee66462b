// `npm run bench`: runs W1 to W5 side by side on one PostgreSQL and prints the table that
// docs/performance.md records. The server is DATABASE_URL's, else a local or embedded one (as the
// demo); the bench makes its own databases there and drops them at the end. Knobs: BENCH_QUICK=1,
// BENCH_ONLY=w1,w2,w3,w4,w5, BENCH_SYSTEMS=raw,zart,dbos, BENCH_JSON=file, BENCH_DATABASE_PREFIX,
// BENCH_KEEP_DATABASES=1, BENCH_PG_STATS=1 (server-statement-stats.ts), and the per-workload ones below.
import { DBOS } from '@dbos-inc/dbos-sdk';
import type { ChildProcess } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { setTimeout as delay } from 'node:timers/promises';
import type { Duration } from 'zart';
import { resolveDatabaseUrl } from 'zart/testing';
import type { BenchContext, BenchSystem } from './bench-context';
import { BenchDatabases } from './bench-databases';
import { dbosBenchConfig } from './dbos-bench-config';
import { QueryCounter } from './query-counter';
import { formatTable, type TableRow } from './format-table';
import { median } from './median';
import { runW1, type W1Result } from './w1-step-latency';
import { runW2, type W2Result } from './w2-throughput';
import { runW3, type W3Result } from './w3-sleepers';
import { runW4, type W4Figures } from './w4-crash-recovery';
import { runW5, type W5Result } from './w5-fan-out';
import { formatServerStatementStats, ServerStatementStats } from './server-statement-stats';

const quick = process.env.BENCH_QUICK === '1';
const env = (name: string, full: number, short: number): number => Number(process.env[name] ?? (quick ? short : full));
const list = <T extends string>(name: string, all: readonly T[]): Set<T> =>
  new Set((process.env[name]?.split(',').map((s) => s.trim()) ?? all).filter((s): s is T => all.includes(s as T)));

const workloads = list('BENCH_ONLY', ['w1', 'w2', 'w3', 'w4', 'w5'] as const);
const systems = list('BENCH_SYSTEMS', ['raw', 'dbos', 'zart'] as const);
const w1Runs = env('BENCH_W1_RUNS', 30, 8);
const w1WarmUpRuns = env('BENCH_W1_WARMUP', 300, 50);
const w2 = { workflows: env('BENCH_W2_WORKFLOWS', 2000, 400), rounds: env('BENCH_W2_ROUNDS', 4, 2) };
const w3 = { sleepers: env('BENCH_W3_SLEEPERS', 5000, 1000), timeoutMs: 300_000 };
const w5 = { pages: env('BENCH_W5_PAGES', 10_000, 2000), batchSize: env('BENCH_W5_BATCH', 500, 500) };
const w4 = {
  workflows: env('BENCH_W4_WORKFLOWS', 500, 200),
  steps: 10,
  stepDelayMs: env('BENCH_W4_STEP_DELAY_MS', 5, 5),
  killAfterMs: env('BENCH_W4_KILL_MS', 1000, 1000),
  killAtFraction: env('BENCH_W4_KILL_AT_FRACTION', 0.5, 0.5),
  timeoutMs: env('BENCH_W4_TIMEOUT_MS', 120_000, 60_000),
  lease: (process.env.BENCH_W4_LEASE ?? '2s') as Duration,
};
// W4 again and again: one crash is one sample of where the kill lands.
const w4Repeats = env('BENCH_W4_REPEATS', 3, 1);
// Databases this run owns: recreated empty at the start, dropped at the end. BENCH_DATABASE_PREFIX
// lets two benches share one server (say, two builds compared back to back) without dropping each
// other's databases.
const prefix = process.env.BENCH_DATABASE_PREFIX ?? '';
const databaseNames = {
  bench: `${prefix}zart_bench`,
  dbosSystem: `${prefix}dbos_bench_sys`,
  dbosW4: `${prefix}dbos_bench_w4`,
} as const;

// Child processes of W4 still alive: killed on any way out, so none outlives the bench.
const liveChildren = new Set<ChildProcess>();
const killChildren = (): void => {
  for (const child of liveChildren) child.kill('SIGKILL');
};
process.on('exit', killChildren);
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    // The databases are dropped (WITH FORCE) at the start of the next run.
    killChildren();
    process.exit(130);
  });
}

async function main(): Promise<void> {
  const server = await resolveDatabaseUrl({ database: 'postgres' });
  const databases = await BenchDatabases.create(server.url, Object.values(databaseNames));
  const counter = new QueryCounter().install();
  const context: BenchContext = {
    url: databases.url(databaseNames.bench),
    dbosSystemUrl: databases.url(databaseNames.dbosSystem),
    counter,
    systems,
  };
  let dbosLaunched = false;
  // BENCH_PG_STATS=1: the server's figures per statement, printed after the tables.
  const serverLines: string[] = [];
  const results: {
    w1?: W1Result;
    w2?: W2Result;
    w3?: W3Result;
    w5?: W5Result;
    w4?: Partial<Record<'zart' | 'dbos', W4Figures>>;
    w4Samples?: Record<'zart' | 'dbos', W4Figures[]>;
  } = {};
  try {
    console.log(`zart bench on ${server.source} PostgreSQL, ${cpus().length} cores, Node ${process.version}`);
    await warnIfBusy();
    const inProcess = workloads.has('w1') || workloads.has('w2') || workloads.has('w3') || workloads.has('w5');
    if (systems.has('dbos') && inProcess) {
      DBOS.setConfig(dbosBenchConfig(context.dbosSystemUrl));
      await DBOS.launch();
      dbosLaunched = true;
    }
    if (workloads.has('w1')) {
      console.log(`W1: ${w1Runs} runs x 20 sequential trivial steps per system ...`);
      results.w1 = await runW1(context, w1Runs, w1WarmUpRuns);
    }
    if (workloads.has('w2')) {
      console.log(`W2: ${w2.workflows} workflows x 5 trivial steps, 32 in flight, ${w2.rounds} rounds ...`);
      const serverStats = process.env.BENCH_PG_STATS === '1' ? await ServerStatementStats.start(context.url) : null;
      results.w2 = await runW2(context, w2);
      if (serverStats)
        serverLines.push(...formatServerStatementStats('W2', await serverStats.read('zart_w2', 'bench_w2_steps')));
    }
    if (workloads.has('w3')) {
      console.log(`W3: ${w3.sleepers} workflows parked in a durable sleep, heap held ...`);
      results.w3 = await runW3(context, w3);
    }
    if (workloads.has('w5')) {
      console.log(`W5: one parent, ${w5.pages} child pages x 4 steps, in batches of ${w5.batchSize} ...`);
      results.w5 = await runW5(context, w5);
    }
    if (dbosLaunched) {
      await DBOS.shutdown();
      dbosLaunched = false;
    }
    if (workloads.has('w4')) {
      const urls = { url: context.url, dbosSystemUrl: databases.url(databaseNames.dbosW4) };
      const samples: Record<'zart' | 'dbos', W4Figures[]> = { zart: [], dbos: [] };
      for (let repeat = 1; repeat <= w4Repeats; repeat++) {
        for (const system of ['zart', 'dbos'] as const) {
          if (!systems.has(system)) continue;
          console.log(
            `W4 ${system} (${repeat}/${w4Repeats}): ${w4.workflows} workflows x ${w4.steps} steps of ~${w4.stepDelayMs} ms, SIGKILL ...`,
          );
          samples[system].push(await runW4(system, urls, w4, liveChildren));
        }
      }
      results.w4 = {};
      results.w4Samples = samples;
      for (const system of ['zart', 'dbos'] as const) {
        if (samples[system].length > 0) results.w4[system] = combineW4(samples[system]);
      }
    }
  } finally {
    killChildren();
    if (dbosLaunched) await DBOS.shutdown().catch(() => undefined);
    counter.uninstall();
    // BENCH_KEEP_DATABASES=1 leaves them for a post-mortem; the next run drops them anyway.
    if (process.env.BENCH_KEEP_DATABASES === '1') await databases.close();
    else await databases.drop();
    await server.close();
  }
  console.log('');
  console.log(formatTable(rows(results)));
  for (const [workload, result, unit] of [
    ['W1', results.w1, 'step'],
    ['W2', results.w2, 'step'],
    ['W5', results.w5, 'page'],
  ] as const) {
    for (const system of ['raw', 'zart', 'dbos'] as const) {
      const sent = result?.[system]?.statements;
      if (!sent) continue;
      console.log(`\n${workload} ${system}: statements per ${unit}, median latency, by statement`);
      for (const row of sent.slice(0, 8)) {
        console.log(
          `  ${row.perStep.toFixed(3).padStart(6)}  ${(Number.isNaN(row.medianMs) ? '-' : row.medianMs.toFixed(3)).padStart(7)} ms  ${row.statement}`,
        );
      }
    }
  }
  for (const line of serverLines) console.log(line);
  if (process.env.BENCH_JSON)
    writeFileSync(process.env.BENCH_JSON, JSON.stringify({ w1Runs, w2, w3, w4, w5, results }, null, 2));
}

function rows(results: {
  w1?: W1Result;
  w2?: W2Result;
  w3?: W3Result;
  w5?: W5Result;
  w4?: Partial<Record<'zart' | 'dbos', W4Figures>>;
}): TableRow[] {
  const out: TableRow[] = [];
  const per = <T>(r: Partial<Record<BenchSystem, T>> | undefined, pick: (v: T) => number) => ({
    raw: r?.raw === undefined ? undefined : pick(r.raw),
    dbos: r?.dbos === undefined ? undefined : pick(r.dbos),
    zart: r?.zart === undefined ? undefined : pick(r.zart),
  });
  if (results.w1) {
    out.push({
      label: 'W1 median ms per step',
      ...per(results.w1, (v) => v.medianMs),
      digits: 3,
      ratios: true,
      target: { text: 'zart <= 1.5x raw', met: (v) => both(v.zart, v.raw, (z, r) => z <= 1.5 * r) },
    });
    out.push({
      label: 'W1 end to end ms per step',
      ...per(results.w1, (v) => v.endToEndMsPerStep),
      digits: 3,
      ratios: true,
      target: { text: 'zart <= 1.5x raw', met: (v) => both(v.zart, v.raw, (z, r) => z <= 1.5 * r) },
    });
    out.push({ label: 'W1 statements per step', ...per(results.w1, (v) => v.queriesPerStep), digits: 2 });
  }
  if (results.w2) {
    out.push({
      label: 'W2 steps/s',
      ...per(results.w2, (v) => v.stepsPerSecond),
      digits: 0,
      ratios: true,
      target: { text: 'zart >= 10x DBOS', met: (v) => both(v.zart, v.dbos, (z, d) => z >= 10 * d) },
    });
    out.push({ label: 'W2 statements per step', ...per(results.w2, (v) => v.queriesPerStep), digits: 2 });
    out.push({ label: 'W2 Node CPU ms per step', ...per(results.w2, (v) => v.nodeCpuMsPerStep), digits: 3 });
    out.push({ label: 'W2 PostgreSQL CPU ms per step', ...per(results.w2, (v) => v.postgresCpuMsPerStep), digits: 3 });
  }
  if (results.w3) {
    out.push({
      label: `W3 heap MB held by ${w3.sleepers} sleepers`,
      ...per(results.w3, (v) => v.heapGrowthMb),
      digits: 1,
      ratios: true,
      target: { text: 'zart < 5 MB', met: (v) => (v.zart === undefined ? undefined : v.zart < 5) },
    });
    out.push({ label: 'W3 s until all asleep', ...per(results.w3, (v) => v.secondsToAsleep), digits: 1 });
  }
  if (results.w5) {
    out.push({
      label: 'W5 pages/s (4 steps a page)',
      ...per(results.w5, (v) => v.pagesPerSecond),
      digits: 0,
      ratios: true,
      target: { text: 'zart >= 2,500', met: (v) => (v.zart === undefined ? undefined : v.zart >= 2500) },
    });
    out.push({ label: 'W5 statements per page', ...per(results.w5, (v) => v.statementsPerPage), digits: 2 });
    out.push({ label: 'W5 Node CPU ms per page', ...per(results.w5, (v) => v.nodeCpuMsPerPage), digits: 3 });
    out.push({ label: 'W5 PostgreSQL CPU ms per page', ...per(results.w5, (v) => v.postgresCpuMsPerPage), digits: 3 });
  }
  if (results.w4) {
    const w4r = results.w4 as Partial<Record<BenchSystem, W4Figures>>;
    out.push({ label: 'W4 s to start all runs (median)', ...per(w4r, (v) => v.startMs / 1000), digits: 2 });
    out.push({ label: 'W4 runs completed at SIGKILL (sum)', ...per(w4r, (v) => v.completedAtKill), digits: 0 });
    out.push({ label: 'W4 step bodies run at SIGKILL (sum)', ...per(w4r, (v) => v.executionsAtKill), digits: 0 });
    out.push({
      label: 'W4 runs lost (sum)',
      ...per(w4r, (v) => v.runsLost),
      digits: 0,
      target: { text: 'zart 0', met: (v) => (v.zart === undefined ? undefined : v.zart === 0) },
    });
    out.push({ label: 'W4 of which failed (sum)', ...per(w4r, (v) => v.runsFailed), digits: 0 });
    out.push({ label: 'W4 steps executed twice (sum)', ...per(w4r, (v) => v.stepsExecutedTwice), digits: 0 });
    out.push({ label: 'W4 steps missing, must be 0 (sum)', ...per(w4r, (v) => v.stepsMissing), digits: 0 });
    out.push({
      label: 'W4 s from restart to all ended (median)',
      ...per(w4r, (v) => v.recoveryMs / 1000),
      digits: 2,
      ratios: true,
    });
    out.push({ label: 'W4 s of it booting (median)', ...per(w4r, (v) => v.bootMs / 1000), digits: 2 });
  }
  return out;
}

// Counts add up over the repeats (runs lost in any crash count); times are medians.
function combineW4(samples: W4Figures[]): W4Figures {
  const sum = (pick: (f: W4Figures) => number): number => samples.reduce((total, f) => total + pick(f), 0);
  const mid = (pick: (f: W4Figures) => number): number => median(samples.map(pick));
  return {
    startMs: mid((f) => f.startMs),
    completedAtKill: sum((f) => f.completedAtKill),
    executionsAtKill: sum((f) => f.executionsAtKill),
    runsLost: sum((f) => f.runsLost),
    runsFailed: sum((f) => f.runsFailed),
    stepsExecutedTwice: sum((f) => f.stepsExecutedTwice),
    stepsMissing: sum((f) => f.stepsMissing),
    recoveryMs: mid((f) => f.recoveryMs),
    bootMs: mid((f) => f.bootMs),
  };
}

// Figures are only comparable when nothing else competes for the 2 cores (a test suite, a build):
// measure how busy the machine is for one second before starting (Linux /proc/stat).
async function warnIfBusy(): Promise<void> {
  const busy = (): number[] | undefined => {
    try {
      const fields = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
      const idle = fields[3]! + (fields[4] ?? 0);
      return [fields.reduce((a, b) => a + b, 0) - idle, idle];
    } catch {
      return undefined;
    }
  };
  const before = busy();
  await delay(1000);
  const after = busy();
  if (!before || !after) return;
  const share = (after[0]! - before[0]!) / (after[0]! - before[0]! + after[1]! - before[1]!);
  const line = `CPU busy before the bench: ${(100 * share).toFixed(0)}% of ${cpus().length} cores`;
  console.log(share > 0.2 ? `${line}: something else is running, figures are noisy` : line);
}

function both(a: number | undefined, b: number | undefined, test: (a: number, b: number) => boolean) {
  return a === undefined || b === undefined ? undefined : test(a, b);
}

// Exits once done: DBOS.shutdown() leaves W3's sleeping workflows' timers (an hour each) behind,
// which kept the process alive after the table was printed, holding its connections.
main().then(
  () => process.exit(process.exitCode ?? 0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
