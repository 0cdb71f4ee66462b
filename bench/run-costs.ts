// `npm run bench:costs`: what one run and one step cost zart in this process, separated, with
// figures a noisy machine does not move: statements per run, and promises made per step (counted
// with async_hooks, in a pass of its own since the hook slows everything down). CPU per run and per
// step come from runs of 1 and 20 steps (CPU = per run + steps x per step), the minimum of a few
// passes: on a shared machine only the minimum is near what the work itself costs. Load: 32 runs
// in flight, each started and awaited (start, steps, finish, result), as W2 does.
import 'reflect-metadata';
import { createHook } from 'node:async_hooks';
import { Workflow, Zart, step } from 'zart';
import { resolveDatabaseUrl } from 'zart/testing';
import { BenchDatabases } from './bench-databases';
import { QueryCounter } from './query-counter';
import { quietLogger } from './quiet-logger';
import { runConcurrently } from './run-concurrently';

const inFlight = 32;
const runs = Number(process.env.BENCH_COSTS_RUNS ?? 2000);
const passes = Number(process.env.BENCH_COSTS_PASSES ?? 3);

@Workflow({ name: 'bench-costs-1' })
class OneStep {
  async run(): Promise<number> {
    return step('trivial', () => 1);
  }
}

@Workflow({ name: 'bench-costs-20' })
class TwentySteps {
  async run(): Promise<number> {
    let sum = 0;
    for (let i = 0; i < 20; i++) sum += await step('trivial', () => i);
    return sum;
  }
}

let promises = 0;
let counting = false;
const promiseHook = createHook({
  init: (_id, type) => {
    if (counting && type === 'PROMISE') promises++;
  },
});

async function main(): Promise<void> {
  const server = await resolveDatabaseUrl({ database: 'postgres' });
  const name = `${process.env.BENCH_DATABASE_PREFIX ?? ''}zart_bench_costs`;
  const databases = await BenchDatabases.create(server.url, [name]);
  const counter = new QueryCounter().install();
  const zart = new Zart({
    connectionString: databases.url(name),
    schema: 'zart_costs',
    poolSize: 20,
    worker: { concurrency: 64 },
    logger: quietLogger,
  });
  try {
    await zart.start();
    let next = 0;
    const load = (workflow: typeof OneStep | typeof TwentySteps, count: number) =>
      runConcurrently(count, inFlight, async () => {
        await (await zart.startWorkflow(workflow, undefined as never, { id: `costs-${next++}` })).result();
      });
    await load(OneStep, 200);
    await load(TwentySteps, 50);

    const cpu = { one: Infinity, twenty: Infinity };
    for (let pass = 0; pass < passes; pass++) {
      for (const [key, workflow, count] of [
        ['one', OneStep, runs],
        ['twenty', TwentySteps, Math.ceil(runs / 4)],
      ] as const) {
        const before = process.cpuUsage();
        await load(workflow, count);
        const used = process.cpuUsage(before);
        cpu[key] = Math.min(cpu[key], (used.user + used.system) / 1000 / count);
      }
    }
    const perStep = (cpu.twenty - cpu.one) / 19;
    const perRun = cpu.one - perStep;

    const statementsOf = async (workflow: typeof OneStep | typeof TwentySteps, count: number) =>
      (await counter.measure(() => load(workflow, count))).queries / count;
    const statementsOne = await statementsOf(OneStep, runs);
    const statementsTwenty = await statementsOf(TwentySteps, Math.ceil(runs / 4));

    promiseHook.enable();
    const promisesOf = async (workflow: typeof OneStep | typeof TwentySteps, count: number) => {
      promises = 0;
      counting = true;
      await load(workflow, count);
      counting = false;
      return promises / count;
    };
    const promisesOne = await promisesOf(OneStep, Math.ceil(runs / 4));
    const promisesTwenty = await promisesOf(TwentySteps, Math.ceil(runs / 16));
    promiseHook.disable();

    console.log(`zart run costs, ${inFlight} runs in flight (started and awaited), min of ${passes} passes`);
    console.log(`  Node CPU ms per run (start, claim, finish, result)  ${perRun.toFixed(3)}`);
    console.log(`  Node CPU ms per step                                ${perStep.toFixed(3)}`);
    console.log(`  statements per 1-step run                           ${statementsOne.toFixed(2)}`);
    console.log(`  statements per 20-step run                          ${statementsTwenty.toFixed(2)}`);
    console.log(
      `  promises per run, besides its steps                 ${(promisesOne - (promisesTwenty - promisesOne) / 19).toFixed(1)}`,
    );
    console.log(
      `  promises per step                                   ${((promisesTwenty - promisesOne) / 19).toFixed(1)}`,
    );
  } finally {
    counter.uninstall();
    await zart.shutdown();
    await databases.drop();
    await server.close();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
