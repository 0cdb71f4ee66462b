// Runs chaos iterations on a private PostgreSQL server (started here, stopped at the end) and sums
// them up. Used by test/chaos/chaos.test.ts (a bounded run in `npm test`) and, as a script, by
// `npm run chaos` for long runs outside jest:
//   CHAOS_ITERATIONS=200 npm run chaos          many iterations, seeds from CHAOS_SEED (default: random)
//   CHAOS_SEED=123 CHAOS_ITERATIONS=1 npm run chaos   reproduces the iteration of seed 123
// Iteration i uses seed CHAOS_SEED + i. The script exits 1 if any iteration found a violation;
// SIGINT/SIGTERM ends it after the current iteration, with the summary of those run so far.
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startScratchPostgres } from '../support/scratch-postgres';
import { faultKinds, type FaultKind } from './chaos-plan';
import { formatReport, runIteration, type IterationReport } from './chaos-iteration';

export interface ChaosOptions {
  iterations: number;
  firstSeed: number;
  faultPhaseMs: number;
  settleMs: number;
  leaseMs: number;
  workers: number;
  logDir: string;
}

export interface ChaosSummary {
  iterations: number;
  faults: Record<FaultKind, number>;
  runs: number;
  repeats: number;
  /** Event-loop gaps and statement round trips past a renewal interval the workers measured, injected faults included. */
  observedStalls: number;
  violations: Array<{ seed: number; invariant: string; runId: string; detail: string }>;
  failedSeeds: number[];
  reports: IterationReport[];
  durationMs: number;
}

/** Options from CHAOS_* environment variables, with `defaults` for the rest. */
export function chaosOptionsFromEnvironment(defaults: Partial<ChaosOptions> = {}): ChaosOptions {
  const number = (name: string, fallback: number): number => {
    const value = process.env[name];
    return value === undefined || value === '' ? fallback : Number(value);
  };
  return {
    iterations: number('CHAOS_ITERATIONS', defaults.iterations ?? 1),
    firstSeed: number('CHAOS_SEED', defaults.firstSeed ?? Math.floor(Math.random() * 1_000_000)),
    faultPhaseMs: number('CHAOS_FAULT_PHASE_MS', defaults.faultPhaseMs ?? 15_000),
    settleMs: number('CHAOS_SETTLE_MS', defaults.settleMs ?? 45_000),
    leaseMs: number('CHAOS_LEASE_MS', defaults.leaseMs ?? 1_000),
    workers: number('CHAOS_WORKERS', defaults.workers ?? 3),
    logDir: process.env.CHAOS_LOG_DIR ?? defaults.logDir ?? join(tmpdir(), 'zart-chaos'),
  };
}

/** `stopRequested`: asked between iterations; true ends the run early, with its summary. */
export async function runChaos(
  options: ChaosOptions,
  print: (text: string) => void,
  stopRequested: () => boolean = () => false,
): Promise<ChaosSummary> {
  const began = Date.now();
  const summary: ChaosSummary = {
    iterations: 0,
    faults: Object.fromEntries(faultKinds.map((k) => [k, 0])) as Record<FaultKind, number>,
    runs: 0,
    repeats: 0,
    observedStalls: 0,
    violations: [],
    failedSeeds: [],
    reports: [],
    durationMs: 0,
  };
  print(
    `chaos: ${options.iterations} iteration(s) from seed ${options.firstSeed}, ${options.workers} workers, ` +
      `lease ${options.leaseMs} ms, faults for ${options.faultPhaseMs} ms, settle bound ${options.settleMs} ms`,
  );
  const server = await startScratchPostgres();
  try {
    for (let i = 0; i < options.iterations && !stopRequested(); i++) {
      const report = await runIteration({ ...options, server, seed: options.firstSeed + i });
      summary.iterations++;
      summary.runs += report.runs;
      summary.repeats += report.repeats;
      summary.observedStalls += report.observedStalls;
      for (const kind of faultKinds) summary.faults[kind] += report.faults[kind];
      for (const v of report.violations) summary.violations.push({ seed: report.seed, ...v });
      if (report.violations.length > 0) summary.failedSeeds.push(report.seed);
      summary.reports.push(report);
      print(formatReport(report));
    }
  } finally {
    await server.stop();
  }
  summary.durationMs = Date.now() - began;
  print(formatSummary(summary));
  return summary;
}

export function formatSummary(summary: ChaosSummary): string {
  const faults = faultKinds.map((k) => `${k}×${summary.faults[k]}`).join(' ');
  const total = faultKinds.reduce((n, k) => n + summary.faults[k], 0);
  return (
    `chaos summary: ${summary.iterations} iteration(s), ${summary.runs} runs, ${total} faults (${faults}), ` +
    `${summary.repeats} repeated step executions, ${summary.observedStalls} event-loop gaps or slow round trips seen, ` +
    `${summary.violations.length} violation(s)` +
    `${summary.failedSeeds.length > 0 ? ` in seeds ${summary.failedSeeds.join(', ')}` : ''}; ` +
    `${(summary.durationMs / 1000).toFixed(0)} s`
  );
}

if (require.main === module) {
  // SIGINT or SIGTERM: finish the current iteration, print the summary, exit. A second one: exit now.
  let stop = false;
  const onSignal = (): void => {
    if (stop) process.exit(130);
    stop = true;
    process.stdout.write('chaos: stopping after this iteration\n');
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  runChaos(
    chaosOptionsFromEnvironment(),
    (text) => process.stdout.write(`${text}\n`),
    () => stop,
  )
    .then((summary) => process.exit(summary.violations.length > 0 ? 1 : 0))
    .catch((error: unknown) => {
      console.error(error);
      process.exit(2);
    });
}
