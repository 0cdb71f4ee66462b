// The process W4 crashes: `node dist/bench/w4-child.js`, configured by BENCH_W4_CHILD (JSON).
// Phase "load" starts every workflow and reports "started"; the parent SIGKILLs it mid-flight.
// Phase "recover" only starts zart's worker or launches DBOS (whose launch recovers pending
// workflows) and reports "ready"; the parent watches the database until every run is done.
import { DBOS } from '@dbos-inc/dbos-sdk';
import { setTimeout as delay } from 'node:timers/promises';
import { Pool } from 'pg';
import { Workflow, Zart, currentRun, step, type Duration } from 'zart';
import { dbosBenchConfig } from './dbos-bench-config';
import { quietLogger } from './quiet-logger';
import { runConcurrently } from './run-concurrently';

export interface W4ChildConfig {
  system: 'zart' | 'dbos';
  phase: 'load' | 'recover';
  /** The bench database: zart's schema and the executions table. */
  url: string;
  dbosSystemUrl: string;
  workflows: number;
  steps: number;
  stepDelayMs: number;
  /** zart's lease: it bounds how long a dead worker's runs wait before another worker claims them. */
  lease: Duration;
}

export type W4ChildMessage = { type: 'ready' } | { type: 'started'; ms: number } | { type: 'error'; message: string };

const config = JSON.parse(process.env.BENCH_W4_CHILD ?? '{}') as W4ChildConfig;
// Every execution of a step body is recorded through a pool of its own, not the engine's, so
// the parent can count steps executed more than once after the crash.
const executions = new Pool({ connectionString: config.url, max: 10, application_name: 'bench-w4-executions' });

async function slowStep(system: string, runId: string, index: number): Promise<number> {
  await delay(config.stepDelayMs);
  // The step's side effect, last: an effect recorded but not checkpointed is a re-execution.
  await executions.query('INSERT INTO bench_w4_executions (system, run_id, step) VALUES ($1, $2, $3)', [
    system,
    runId,
    index,
  ]);
  return index;
}

@Workflow({ name: 'bench-w4' })
export class SlowSteps {
  async run(): Promise<number> {
    const runId = currentRun().id;
    for (let i = 0; i < config.steps; i++) await step('slow', () => slowStep('zart', runId, i));
    return config.steps;
  }
}

const dbosSlowSteps = DBOS.registerWorkflow(
  async (): Promise<number> => {
    const runId = DBOS.workflowID!;
    for (let i = 0; i < config.steps; i++) await DBOS.runStep(() => slowStep('dbos', runId, i), { name: 'slow' });
    return config.steps;
  },
  { name: 'bench-w4' },
);

function send(message: W4ChildMessage): void {
  process.send?.(message);
}

async function main(): Promise<void> {
  // The parent gone (killed, or done with us) means nobody will clean up after this process.
  process.on('disconnect', () => process.exit(1));
  let stop: () => Promise<void>;
  let start: (id: string) => Promise<unknown>;
  if (config.system === 'zart') {
    const zart = new Zart({
      connectionString: config.url,
      schema: 'zart_w4',
      poolSize: 20,
      // All runs in flight at once, as DBOS executes every started workflow at once.
      worker: { concurrency: config.workflows, lease: config.lease },
      logger: quietLogger,
    });
    await zart.start();
    start = (id) => zart.startWorkflow(SlowSteps, undefined as never, { id });
    stop = () => zart.shutdown({ drain: '0s' });
  } else {
    DBOS.setConfig(dbosBenchConfig(config.dbosSystemUrl));
    await DBOS.launch();
    start = (id) => DBOS.startWorkflow(dbosSlowSteps, { workflowID: id })();
    stop = () => DBOS.shutdown();
  }
  send({ type: 'ready' });
  process.on('message', (message: unknown) => {
    if (message !== 'stop') return;
    void stop()
      .then(() => executions.end())
      .finally(() => process.exit(0));
  });
  if (config.phase === 'load') {
    const started = Date.now();
    await runConcurrently(config.workflows, 32, async (i) => {
      await start(`w4-${i}`);
    });
    send({ type: 'started', ms: Date.now() - started });
  }
}

main().catch((error: unknown) => {
  send({ type: 'error', message: error instanceof Error ? (error.stack ?? error.message) : String(error) });
  process.exit(1);
});
