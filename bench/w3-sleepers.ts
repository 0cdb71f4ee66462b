// W3: many runs parked in a durable sleep. 5,000 workflows each take one step and then sleep an
// hour; once all are asleep, how much more heap does the process hold than before they started
// (after a full garbage collection both times)? A parked zart run lives only in its database row;
// an engine that keeps each sleeper's promise chain in memory grows with the number of sleepers.
import { DBOS } from '@dbos-inc/dbos-sdk';
import { setTimeout as delay } from 'node:timers/promises';
import { Client } from 'pg';
import { Workflow, Zart, sleep, step } from 'zart';
import type { BenchContext, PerSystem } from './bench-context';
import { collectGarbage } from './collect-garbage';
import { quietLogger } from './quiet-logger';
import { runConcurrently } from './run-concurrently';

const startsInFlight = 32;
const sleepMs = 3_600_000;

export interface W3Options {
  sleepers: number;
  /** How long to wait for every run to be asleep before giving up. */
  timeoutMs: number;
}

export interface W3Figures {
  /** Heap used (after a full GC) with every run asleep, minus before the first start, in MB. */
  heapGrowthMb: number;
  /** Seconds from the first start until every run was asleep. */
  secondsToAsleep: number;
}

export type W3Result = PerSystem<W3Figures>;

@Workflow({ name: 'bench-w3' })
export class StepThenSleep {
  async run(): Promise<void> {
    await step('before-sleep', () => 1);
    await sleep(sleepMs);
  }
}

// DBOS has no query of its own for "asleep"; the step before the sleep counts how many got there,
// and what follows it (the sleep's own checkpoint) is awaited by a settle delay.
let dbosReachedSleep = 0;
const dbosStepThenSleep = DBOS.registerWorkflow(
  async (): Promise<void> => {
    await DBOS.runStep(() => Promise.resolve(++dbosReachedSleep), { name: 'before-sleep' });
    await DBOS.sleep(sleepMs);
  },
  { name: 'bench-w3' },
);

export async function runW3(context: BenchContext, options: W3Options): Promise<W3Result> {
  const result: W3Result = {};
  if (context.systems.has('zart')) result.zart = await zartSleepers(context, options);
  if (context.systems.has('dbos')) result.dbos = await dbosSleepers(options);
  return result;
}

async function zartSleepers(context: BenchContext, options: W3Options): Promise<W3Figures> {
  const zart = new Zart({ connectionString: context.url, schema: 'zart_w3', poolSize: 20, logger: quietLogger });
  const sql = new Client({ connectionString: context.url, application_name: 'bench-w3' });
  await zart.start();
  await sql.connect();
  try {
    const before = heapUsedMb();
    const started = Date.now();
    await runConcurrently(options.sleepers, startsInFlight, async (i) => {
      await zart.startWorkflow(StepThenSleep, undefined, { id: `w3-${i}` });
    });
    await waitFor(options.timeoutMs, async () => {
      const { rows } = await sql.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM zart_w3.runs WHERE status = 'waiting'`,
      );
      return rows[0]!.n >= options.sleepers;
    });
    const secondsToAsleep = (Date.now() - started) / 1000;
    return { heapGrowthMb: heapUsedMb() - before, secondsToAsleep };
  } finally {
    await sql.end();
    await zart.shutdown();
  }
}

async function dbosSleepers(options: W3Options): Promise<W3Figures> {
  const ids = Array.from({ length: options.sleepers }, (_, i) => `w3-${Date.now().toString(36)}-${i}`);
  const before = heapUsedMb();
  const started = Date.now();
  dbosReachedSleep = 0;
  await runConcurrently(options.sleepers, startsInFlight, async (i) => {
    await DBOS.startWorkflow(dbosStepThenSleep, { workflowID: ids[i]! })();
  });
  await waitFor(options.timeoutMs, () => Promise.resolve(dbosReachedSleep >= options.sleepers));
  // The last ones record their sleep's deadline right after the step.
  await delay(1000);
  const secondsToAsleep = (Date.now() - started) / 1000;
  const heapGrowthMb = heapUsedMb() - before;
  await DBOS.cancelWorkflows(ids);
  return { heapGrowthMb, secondsToAsleep };
}

function heapUsedMb(): number {
  collectGarbage();
  return process.memoryUsage().heapUsed / 1024 / 1024;
}

async function waitFor(timeoutMs: number, done: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await done())) {
    if (Date.now() > deadline) throw new Error(`W3: not every run was asleep after ${timeoutMs} ms`);
    await delay(100);
  }
}
