// W2: many short workflows at once. 2,000 workflows of 5 trivial steps with 32 in flight (a
// client-side semaphore around start + await result); steps per second for zart, DBOS and the
// raw floor (5 INSERT + commit per workflow from 32 pooled connections). The workflows are split
// into rounds and the systems take turns round by round, so noise hits all alike.
import { DBOS } from '@dbos-inc/dbos-sdk';
import { performance } from 'node:perf_hooks';
import { Pool } from 'pg';
import { Workflow, Zart, step } from 'zart';
import type { BenchContext, BenchSystem, PerSystem } from './bench-context';
import { telemetryOptions } from './bench-telemetry';
import { sampleCpu } from './cpu-meter';
import { CpuProfiler } from './cpu-profiler';
import { quietLogger } from './quiet-logger';
import { runConcurrently } from './run-concurrently';
import { StatementBreakdown, type StatementRow } from './statement-breakdown';

const stepsPerWorkflow = 5;
const inFlight = 32;

@Workflow({ name: 'bench-w2' })
export class FiveSteps {
  async run(): Promise<number> {
    let sum = 0;
    for (let i = 0; i < stepsPerWorkflow; i++) sum += await step('trivial', () => i);
    return sum;
  }
}

const dbosFiveSteps = DBOS.registerWorkflow(
  async (): Promise<number> => {
    let sum = 0;
    for (let i = 0; i < stepsPerWorkflow; i++) {
      sum += await DBOS.runStep(() => Promise.resolve(i), { name: 'trivial' });
    }
    return sum;
  },
  { name: 'bench-w2' },
);

export interface W2Options {
  workflows: number;
  rounds: number;
}

export interface W2Figures {
  stepsPerSecond: number;
  /** Statements sent per step, counting each workflow's own (start, claim, finish, result polls). */
  queriesPerStep: number;
  /** CPU ms per step of this Node process (client and engine) and of the PostgreSQL server. */
  nodeCpuMsPerStep: number;
  postgresCpuMsPerStep: number;
  /** Statements per step by statement text, most frequent first, with their median latency. */
  statements: StatementRow[];
}

export type W2Result = PerSystem<W2Figures>;

export async function runW2(context: BenchContext, options: W2Options): Promise<W2Result> {
  const { systems, counter } = context;
  const raw = new Pool({ connectionString: context.url, max: inFlight, application_name: 'bench-raw' });
  // Told, not thrown: an idle connection ended by the final DROP DATABASE must not hide the figures.
  raw.on('error', (error) => console.warn(`bench-raw: an idle connection ended: ${error.message}`));
  await raw.query('CREATE TABLE bench_w2_steps (run_id text, key text, output json, PRIMARY KEY (run_id, key))');
  // Concurrency above the 32 in flight so the worker never limits; a pool of 20 as documented.
  const telemetry = telemetryOptions();
  const zart = new Zart({
    ...telemetry.options,
    connectionString: context.url,
    schema: 'zart_w2',
    poolSize: 20,
    worker: { concurrency: 64 },
    logger: quietLogger,
  });
  if (systems.has('zart')) await zart.start();

  const oneWorkflow: Record<BenchSystem, (id: string) => Promise<void>> = {
    raw: async (id) => {
      for (let i = 0; i < stepsPerWorkflow; i++) {
        await raw.query('INSERT INTO bench_w2_steps (run_id, key, output) VALUES ($1, $2, $3)', [
          id,
          `trivial#${i}`,
          JSON.stringify({ json: i }),
        ]);
      }
    },
    zart: async (id) => {
      await (await zart.startWorkflow(FiveSteps, undefined as never, { id })).result();
    },
    dbos: async (id) => {
      await (await DBOS.startWorkflow(dbosFiveSteps, { workflowID: id })()).getResult();
    },
  };
  const order = (['raw', 'zart', 'dbos'] as const).filter((s) => systems.has(s));
  const elapsed: Record<BenchSystem, number> = { raw: 0, dbos: 0, zart: 0 };
  const queries: Record<BenchSystem, number> = { raw: 0, dbos: 0, zart: 0 };
  const nodeCpu: Record<BenchSystem, number> = { raw: 0, dbos: 0, zart: 0 };
  const postgresCpu: Record<BenchSystem, number> = { raw: 0, dbos: 0, zart: 0 };
  const statements: Record<BenchSystem, StatementBreakdown> = {
    raw: new StatementBreakdown(),
    dbos: new StatementBreakdown(),
    zart: new StatementBreakdown(),
  };
  const perRound = Math.ceil(options.workflows / options.rounds);
  const profiler = await CpuProfiler.fromEnvironment();
  try {
    // Round -1 is a warm-up of one batch each: pools fill, statements get prepared.
    for (let r = -1; r < options.rounds; r++) {
      const turn = order.map((_, k) => order[(k + Math.max(r, 0)) % order.length]!);
      const count = r < 0 ? inFlight : perRound;
      for (const system of turn) {
        const started = performance.now();
        const cpu = sampleCpu();
        const round = (): Promise<void> =>
          runConcurrently(count, inFlight, (i) => oneWorkflow[system](`w2-${system}-${r}-${i}`));
        const { queries: sent, statements: sentBy } = await counter.measure(() =>
          profiler && r >= 0 ? profiler.profile(`w2-${system}-round${r}`, round) : round(),
        );
        if (r < 0) continue;
        elapsed[system] += performance.now() - started;
        queries[system] += sent;
        statements[system].add(sentBy);
        const after = sampleCpu();
        nodeCpu[system] += after.nodeMs - cpu.nodeMs;
        // A server process that exits mid-round takes its ticks along: never count below zero.
        postgresCpu[system] += Math.max(0, after.postgresMs - cpu.postgresMs);
      }
    }
  } finally {
    profiler?.close();
    try {
      if (systems.has('zart')) await zart.shutdown();
    } finally {
      telemetry.stop();
      await raw.end();
    }
  }
  const steps = perRound * options.rounds * stepsPerWorkflow;
  const result: W2Result = {};
  for (const system of order) {
    result[system] = {
      stepsPerSecond: steps / (elapsed[system] / 1000),
      queriesPerStep: queries[system] / steps,
      nodeCpuMsPerStep: nodeCpu[system] / steps,
      postgresCpuMsPerStep: postgresCpu[system] / steps,
      statements: statements[system].rows(steps),
    };
  }
  return result;
}
