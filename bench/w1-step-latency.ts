// W1: one workflow of 20 trivial steps run sequentially; the median time per step, next to the
// physical limit on the same database: one INSERT + commit per step through a raw pg client.
import { performance } from 'node:perf_hooks';
import { Client } from 'pg';
import { Workflow, Zart, step } from 'zart';

const stepsPerRun = 20;

// Time between consecutive step completions inside the workflow: execution plus checkpoint.
let stepTimes: number[] = [];

@Workflow({ name: 'bench-w1' })
export class TwentySteps {
  async run(): Promise<number> {
    let last = performance.now();
    for (let i = 0; i < stepsPerRun; i++) {
      await step('trivial', () => i);
      const now = performance.now();
      stepTimes.push(now - last);
      last = now;
    }
    return stepsPerRun;
  }
}

export interface W1Result {
  rawMedianMs: number;
  zartMedianMs: number;
  ratio: number;
}

export async function runW1(url: string, runs: number): Promise<W1Result> {
  const raw = new Client({ connectionString: url });
  await raw.connect();
  await raw.query(
    'CREATE TABLE IF NOT EXISTS bench_raw_steps (run_id text, key text, output json, PRIMARY KEY (run_id, key))',
  );
  const zart = new Zart({ connectionString: url, schema: 'zart_bench', logger: quietLogger });
  await zart.start();
  const rawTimes: number[] = [];
  stepTimes = [];
  try {
    // Interleave the two so that noise on the machine hits both alike.
    for (let r = 0; r < runs; r++) {
      const runId = `w1-${Date.now()}-${r}`;
      for (let i = 0; i < stepsPerRun; i++) {
        const started = performance.now();
        await raw.query('INSERT INTO bench_raw_steps (run_id, key, output) VALUES ($1, $2, $3)', [
          runId,
          `trivial#${i}`,
          JSON.stringify({ json: i }),
        ]);
        rawTimes.push(performance.now() - started);
      }
      await (await zart.startWorkflow(TwentySteps, undefined as never, { id: runId })).result();
    }
  } finally {
    await zart.shutdown();
    await raw.query('DROP TABLE bench_raw_steps');
    await raw.end();
  }
  const rawMedianMs = median(rawTimes);
  const zartMedianMs = median(stepTimes);
  return { rawMedianMs, zartMedianMs, ratio: zartMedianMs / rawMedianMs };
}

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

const quietLogger = { debug: () => undefined, info: () => undefined, warn: console.warn, error: console.error };
