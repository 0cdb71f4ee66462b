// The bounded chaos run of `npm test`: one seeded iteration of the whole workload under every
// fault kind (see docs/reliability.md). Long runs use `npm run chaos` (test/chaos/run-chaos.ts),
// outside jest; a failing seed printed here reproduces with CHAOS_SEED=<seed> CHAOS_ITERATIONS=1.
import { chaosOptionsFromEnvironment, runChaos } from './run-chaos';

// A fixed seed, so `npm test` is the same run every time (one iteration: the suite's time budget;
// `npm run chaos` runs many); CHAOS_* variables override it.
const options = chaosOptionsFromEnvironment({ iterations: 1, firstSeed: 1 });
// Per iteration: about 8 s of worker start-up, the fault phase and the settle bound, with room.
const timeoutMs = options.iterations * (options.faultPhaseMs + options.settleMs + 60_000);

describe('chaos: three workers under a seeded schedule of kills, stops, stalls, dropped connections, restarts and latency', () => {
  it(
    'loses no run, repeats no completed step without a fault, and keeps transactional steps, events and children exactly once',
    async () => {
      const summary = await runChaos(options, (text) => process.stderr.write(`${text}\n`));
      expect(summary.violations).toEqual([]);
      expect(summary.iterations).toBe(options.iterations);
    },
    timeoutMs,
  );
});
