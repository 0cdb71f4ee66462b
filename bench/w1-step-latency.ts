// W1: one workflow of 20 trivial steps run sequentially; the median time per step of zart and
// DBOS, next to the physical limit on the same database: one INSERT + commit per step through a
// raw pg client. Measured twice from the same runs: inside the workflow (between consecutive step
// completions) and end to end (start, 20 steps, finish and the awaited result, divided by 20;
// raw: its 20 commits). The systems take turns run by run, so noise on the machine hits all alike.
import { DBOS } from '@dbos-inc/dbos-sdk';
import { performance } from 'node:perf_hooks';
import { Client } from 'pg';
import { Workflow, Zart, step } from 'zart';
import type { BenchContext, BenchSystem, PerSystem } from './bench-context';
import { telemetryOptions } from './bench-telemetry';
import { CpuProfiler } from './cpu-profiler';
import { median } from './median';
import { quietLogger } from './quiet-logger';
import { StatementBreakdown, type StatementRow } from './statement-breakdown';

const stepsPerRun = 20;

// Each workflow returns the time between consecutive step completions (execution plus
// checkpoint), measured inside it, so the figure excludes starting the run and awaiting it.
@Workflow({ name: 'bench-w1' })
export class TwentySteps {
  async run(): Promise<number[]> {
    const times: number[] = [];
    let last = performance.now();
    for (let i = 0; i < stepsPerRun; i++) {
      await step('trivial', () => i);
      const now = performance.now();
      times.push(now - last);
      last = now;
    }
    return times;
  }
}

const dbosTwentySteps = DBOS.registerWorkflow(
  async (): Promise<number[]> => {
    const times: number[] = [];
    let last = performance.now();
    for (let i = 0; i < stepsPerRun; i++) {
      await DBOS.runStep(() => Promise.resolve(i), { name: 'trivial' });
      const now = performance.now();
      times.push(now - last);
      last = now;
    }
    return times;
  },
  { name: 'bench-w1' },
);

export interface W1Figures {
  /** Median ms per step, between consecutive step completions inside a run. */
  medianMs: number;
  /**
   * Median over the runs of the wall time of one run, from the start call to its awaited result
   * (raw: its 20 commits), divided by its 20 steps: what the start, the claim, the finish and the
   * result cost on top of the steps, spread over them.
   */
  endToEndMsPerStep: number;
  /** Statements sent per step, counting the run's own (start, claim, finish, result polls). */
  queriesPerStep: number;
  /** Statements per step by statement text, with their median latency (the round trip). */
  statements: StatementRow[];
}

export type W1Result = PerSystem<W1Figures>;

export async function runW1(context: BenchContext, runs: number, warmUpRuns: number): Promise<W1Result> {
  const { systems, counter } = context;
  const raw = new Client({ connectionString: context.url, application_name: 'bench-raw' });
  await raw.connect();
  await raw.query('CREATE TABLE bench_w1_steps (run_id text, key text, output json, PRIMARY KEY (run_id, key))');
  const telemetry = telemetryOptions();
  const zart = new Zart({
    connectionString: context.url,
    schema: 'zart_w1',
    logger: quietLogger,
    ...telemetry.options,
  });
  if (systems.has('zart')) await zart.start();

  const times: Record<BenchSystem, number[]> = { raw: [], dbos: [], zart: [] };
  const endToEnd: Record<BenchSystem, number[]> = { raw: [], dbos: [], zart: [] };
  const queries: Record<BenchSystem, number> = { raw: 0, dbos: 0, zart: 0 };
  const statements: Record<BenchSystem, StatementBreakdown> = {
    raw: new StatementBreakdown(),
    dbos: new StatementBreakdown(),
    zart: new StatementBreakdown(),
  };
  const oneRun: Record<BenchSystem, (runId: string) => Promise<number[]>> = {
    raw: async (runId) => {
      const out: number[] = [];
      for (let i = 0; i < stepsPerRun; i++) {
        const started = performance.now();
        await raw.query('INSERT INTO bench_w1_steps (run_id, key, output) VALUES ($1, $2, $3)', [
          runId,
          `trivial#${i}`,
          JSON.stringify({ json: i }),
        ]);
        out.push(performance.now() - started);
      }
      return out;
    },
    zart: async (runId) => (await zart.startWorkflow(TwentySteps, undefined as never, { id: runId })).result(),
    dbos: async (runId) => (await DBOS.startWorkflow(dbosTwentySteps, { workflowID: runId })()).getResult(),
  };
  const order = (['raw', 'zart', 'dbos'] as const).filter((s) => systems.has(s));
  const profiler = await CpuProfiler.fromEnvironment();
  try {
    // Unmeasured runs first, taking turns as the measured ones do: connections, prepared
    // statements, the server's plan caches and V8's optimising compiler warm up. One run of 20
    // steps was not enough: a step's code is optimised after some hundreds of calls, and until
    // then zart's per-step time was 1.5-2.5x its warm figure (raw's, a few lines of code, ~1.1x).
    for (let r = -warmUpRuns; r < runs; r++) {
      // Rotate who goes first, so no system always runs right after another one's burst.
      const turn = order.map((_, k) => order[(k + Math.max(r, 0)) % order.length]!);
      for (const system of turn) {
        let wallMs = 0;
        const {
          result,
          queries: sent,
          statements: sentBy,
        } = await counter.measure(() => {
          const run = async (): Promise<number[]> => {
            const started = performance.now();
            const stepTimes = await oneRun[system](`w1-${system}-${r}`);
            wallMs = performance.now() - started;
            return stepTimes;
          };
          return profiler && r >= 0 ? profiler.profile(`w1-${system}-run${r}`, run) : run();
        });
        if (r < 0) continue;
        times[system].push(...result);
        endToEnd[system].push(wallMs / stepsPerRun);
        queries[system] += sent;
        statements[system].add(sentBy);
      }
    }
  } finally {
    profiler?.close();
    if (systems.has('zart')) await zart.shutdown();
    telemetry.stop();
    await raw.end();
  }
  const result: W1Result = {};
  for (const system of order) {
    const steps = runs * stepsPerRun;
    result[system] = {
      medianMs: median(times[system]),
      endToEndMsPerStep: median(endToEnd[system]),
      queriesPerStep: queries[system] / steps,
      statements: statements[system].rows(steps),
    };
  }
  return result;
}
