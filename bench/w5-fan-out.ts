// W5: the content pipeline's shape. One parent run starts one child run per page (10,000 by
// default), in batches of 500 it awaits before starting the next; each child takes four trivial
// steps. Pages per second from the parent's start to its result, for zart and DBOS, and the raw
// floor: four INSERT + commit per page from 32 pooled connections. zart starts each batch with
// startChildren() (one statement) and awaits it with results() (one wake-up of the parent).
import { DBOS } from '@dbos-inc/dbos-sdk';
import { performance } from 'node:perf_hooks';
import { Pool } from 'pg';
import { Workflow, Zart, startChildren, step } from 'zart';
import type { BenchContext, BenchSystem, PerSystem } from './bench-context';
import { sampleCpu } from './cpu-meter';
import { CpuProfiler } from './cpu-profiler';
import { quietLogger } from './quiet-logger';
import { runConcurrently } from './run-concurrently';
import { StatementBreakdown, type StatementRow } from './statement-breakdown';

const stepsPerPage = 4;
const rawInFlight = 32;

export interface W5Options {
  pages: number;
  batchSize: number;
}

export interface W5Figures {
  pagesPerSecond: number;
  seconds: number;
  statementsPerPage: number;
  /** CPU time of this Node process per page: steadier than pages/s on a shared machine. */
  nodeCpuMsPerPage: number;
  /** CPU time of every PostgreSQL process on the machine per page (other sessions' too): the other side of the bound. */
  postgresCpuMsPerPage: number;
  /** Per page, most frequent first. */
  statements: StatementRow[];
}

export type W5Result = PerSystem<W5Figures>;

interface SiteInput {
  pages: number;
  batchSize: number;
}

@Workflow({ name: 'bench-w5-page' })
export class PublishPage {
  async run(page: number): Promise<number> {
    let sum = 0;
    for (let i = 0; i < stepsPerPage; i++) sum += await step('stage', () => page + i);
    return sum;
  }
}

@Workflow({ name: 'bench-w5-site' })
export class PublishSite {
  async run(input: SiteInput): Promise<number> {
    let published = 0;
    for (let first = 0; first < input.pages; first += input.batchSize) {
      // One durable call starts the batch; the parent is woken once, by the batch's last page.
      const children = await startChildren(PublishPage, batchOf(first, input));
      published += (await children.results()).length;
    }
    return published;
  }
}

const dbosPublishPage = DBOS.registerWorkflow(
  async (page: number): Promise<number> => {
    let sum = 0;
    for (let i = 0; i < stepsPerPage; i++) {
      sum += await DBOS.runStep(() => Promise.resolve(page + i), { name: 'stage' });
    }
    return sum;
  },
  { name: 'bench-w5-page' },
);

const dbosPublishSite = DBOS.registerWorkflow(
  async (input: SiteInput): Promise<number> => {
    let published = 0;
    for (let first = 0; first < input.pages; first += input.batchSize) {
      const pages = batchOf(first, input);
      const children = await Promise.all(pages.map((page) => DBOS.startWorkflow(dbosPublishPage)(page)));
      published += (await Promise.all(children.map((child) => child.getResult()))).length;
    }
    return published;
  },
  { name: 'bench-w5-site' },
);

function batchOf(first: number, input: SiteInput): number[] {
  return Array.from({ length: Math.min(input.batchSize, input.pages - first) }, (_, i) => first + i);
}

export async function runW5(context: BenchContext, options: W5Options): Promise<W5Result> {
  const { systems, counter } = context;
  const input: SiteInput = { pages: options.pages, batchSize: options.batchSize };
  const site = `w5-${Date.now().toString(36)}`;
  const raw = new Pool({ connectionString: context.url, max: rawInFlight, application_name: 'bench-raw' });
  // An idle connection the server ends (the bench's databases are dropped WITH (FORCE) at its end)
  // is reported, not left to crash the process as an unhandled 'error' event before the table prints.
  raw.on('error', (error) => console.warn(`bench-raw: an idle connection ended: ${error.message}`));
  // Up to 256 children at a time (BENCH_W5_CONCURRENCY), as a fan-out service would set its worker:
  // each child spends most of its life waiting on group-commit round trips, so 64 left the CPU idle.
  const zart = new Zart({
    connectionString: context.url,
    schema: 'zart_w5',
    poolSize: 20,
    worker: { concurrency: Number(process.env.BENCH_W5_CONCURRENCY ?? 256) },
    logger: quietLogger,
  });
  const publish: Record<BenchSystem, () => Promise<number>> = {
    raw: async () => {
      await raw.query('CREATE TABLE bench_w5_steps (page integer, key text, output json, PRIMARY KEY (page, key))');
      await runConcurrently(options.pages, rawInFlight, async (page) => {
        for (let i = 0; i < stepsPerPage; i++) {
          await raw.query('INSERT INTO bench_w5_steps (page, key, output) VALUES ($1, $2, $3)', [
            page,
            `stage#${i}`,
            JSON.stringify({ json: page + i }),
          ]);
        }
      });
      return options.pages;
    },
    zart: async () => (await zart.startWorkflow(PublishSite, input, { id: site })).result(),
    dbos: async () => (await DBOS.startWorkflow(dbosPublishSite, { workflowID: site })(input)).getResult(),
  };
  const result: W5Result = {};
  const profiler = await CpuProfiler.fromEnvironment();
  try {
    if (systems.has('zart')) await zart.start();
    for (const system of (['raw', 'zart', 'dbos'] as const).filter((s) => systems.has(s))) {
      const started = performance.now();
      const cpuBefore = sampleCpu();
      const {
        result: published,
        queries,
        statements,
      } = await counter.measure(() =>
        profiler ? profiler.profile(`w5-${system}`, publish[system]) : publish[system](),
      );
      const seconds = (performance.now() - started) / 1000;
      const cpuAfter = sampleCpu();
      if (published !== options.pages)
        throw new Error(`W5 ${system}: published ${published} of ${options.pages} pages`);
      const breakdown = new StatementBreakdown();
      breakdown.add(statements);
      result[system] = {
        pagesPerSecond: options.pages / seconds,
        seconds,
        statementsPerPage: queries / options.pages,
        nodeCpuMsPerPage: (cpuAfter.nodeMs - cpuBefore.nodeMs) / options.pages,
        postgresCpuMsPerPage: Math.max(0, cpuAfter.postgresMs - cpuBefore.postgresMs) / options.pages,
        statements: breakdown.rows(options.pages),
      };
    }
  } finally {
    profiler?.close();
    if (systems.has('zart')) await zart.shutdown();
    await raw.end();
  }
  return result;
}
