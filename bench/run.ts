// `npm run bench`: runs the workloads side by side on one PostgreSQL and prints the figures that
// docs/performance.md records. DATABASE_URL, else a local or embedded server (as the demo).
import { resolveDatabaseUrl } from 'zart/testing';
import { runW1 } from './w1-step-latency';

async function main(): Promise<void> {
  const database = await resolveDatabaseUrl({ database: 'zart_bench' });
  try {
    const runs = Number(process.env.BENCH_W1_RUNS ?? 30);
    const w1 = await runW1(database.url, runs);
    console.log(`W1 (${runs} runs x 20 sequential trivial steps, median per step):`);
    console.log(`  raw pg INSERT+commit  ${w1.rawMedianMs.toFixed(3)} ms`);
    console.log(`  zart step             ${w1.zartMedianMs.toFixed(3)} ms  (${w1.ratio.toFixed(2)}x raw)`);
  } finally {
    await database.close();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
