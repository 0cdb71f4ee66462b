// Round trips per run, not only per step: a run's start, claim, finish and awaited result are
// group-committed or avoided, and each step of a lone run costs exactly its checkpoint. Counted
// through node-postgres (bench/query-counter.ts, as the bench counts them), never timed.
import { QueryCounter, type StatementStats } from '../../bench/query-counter';
import { Workflow, step } from '../../src';
import { useTestDatabase } from '../support/test-zart';

const db = useTestDatabase();

@Workflow({ name: 'statements-twenty-steps' })
class TwentySteps {
  async run(): Promise<number> {
    let sum = 0;
    for (let i = 0; i < 20; i++) sum += await step('trivial', () => i);
    return sum;
  }
}

@Workflow({ name: 'statements-five-steps' })
class FiveSteps {
  async run(input: { n: number }): Promise<number> {
    let sum = 0;
    for (let i = 0; i < 5; i++) sum += await step('trivial', () => input.n + i);
    return sum;
  }
}

// zart's statements on the path of a run, by their prepared statement's name (schema "zart").
const kinds = {
  start: 'zart_insert_runs_zart',
  startAlone: 'zart_insert_run_alone_zart',
  claim: 'zart_claim_runs_zart',
  checkpointAlone: 'zart_insert_checkpoint_zart',
  checkpointBatch: 'zart_insert_checkpoints_zart',
  loadCheckpoints: 'zart_load_checkpoints_zart',
  finish: 'zart_finish_runs_zart',
  finishParentless: 'zart_finish_parentless_zart',
  finishOne: 'zart_finish_run_zart',
  readOutcome: 'zart_read_run_outcome_zart',
} as const;

function countsOf(statements: ReadonlyMap<string, StatementStats>): Record<keyof typeof kinds, number> {
  const count = (name: string): number => statements.get(name)?.count ?? 0;
  const counts = Object.fromEntries(Object.entries(kinds).map(([kind, name]) => [kind, count(name)])) as Record<
    keyof typeof kinds,
    number
  >;
  // A finish of runs without a parent, and of one such run alone, have statements of their own
  // (finish-runs.ts), as a lone start has (insert-runs.ts): all count.
  return {
    ...counts,
    start: counts.start + counts.startAlone,
    finish: counts.finish + counts.finishParentless + counts.finishOne,
  };
}

describe('statements per run', () => {
  const counter = new QueryCounter();
  beforeAll(() => counter.install());
  afterAll(() => counter.uninstall());

  it('a lone run of 20 steps sends one checkpoint per step, and besides only its start and its finish', async () => {
    // No poll and no schedule tick during the measure: only what the run itself causes is counted.
    const zart = await db.zart({ worker: { concurrency: 64, pollInterval: '1h' } });
    // The first run warms up (the schedule ticker's first look at start, prepared statements).
    await (await zart.startWorkflow(TwentySteps, undefined as never)).result();

    const { result, queries, statements } = await counter.measure(async () =>
      (await zart.startWorkflow(TwentySteps, undefined as never)).result(),
    );

    expect(result).toBe(190);
    const sent = countsOf(statements);
    expect(sent.checkpointAlone + sent.checkpointBatch).toBe(20);
    // No claim: the worker had room, so the start inserted the run claimed by it (insert-runs.ts).
    expect(sent).toMatchObject({ start: 1, claim: 0, finish: 1, loadCheckpoints: 0, readOutcome: 0 });
    // Nothing else (one spare: a lease renewal may fall in the measure on a slow machine).
    expect(queries - 20).toBeLessThanOrEqual(2 + 1);
  });

  it('64 concurrent runs of 5 steps share their starts, checkpoints and finishes', async () => {
    const zart = await db.zart({ worker: { concurrency: 64, pollInterval: '1h' } });
    await (await zart.startWorkflow(FiveSteps, { n: -1 })).result();

    const { result, queries, statements } = await counter.measure(() =>
      Promise.all(
        // result() right after its start: a run executing here is not read back (outcomeFromHere).
        Array.from({ length: 64 }, async (_, n) => (await zart.startWorkflow(FiveSteps, { n })).result()),
      ),
    );

    expect(result).toEqual(Array.from({ length: 64 }, (_, n) => 5 * n + 10));
    const sent = countsOf(statements);
    // One by one, these would be 64 starts, 320 checkpoints and 64 finishes. The writes of one
    // turn of the event loop share a statement (storage/group-commit.ts): the 64 starts go in one,
    // each step's 64 checkpoints in one, the 64 finishes in one (measured: 1, 5 and 1, every
    // time); a little room is left for a loaded machine splitting a turn.
    expect(sent.start).toBeLessThanOrEqual(2);
    expect(sent.checkpointAlone + sent.checkpointBatch).toBeLessThanOrEqual(10);
    expect(sent.finish).toBeLessThanOrEqual(3);
    expect(sent.loadCheckpoints).toBe(0);
    expect(sent.readOutcome).toBe(0);
    // The worker had room for all 64: each start inserted its run claimed, and a run ending here
    // asks for no claim round while the worker is not full.
    expect(sent.claim).toBe(0);
    // Under one statement per eight runs, where one by one a run alone takes 7.
    expect(queries).toBeLessThanOrEqual(16);
  });
});
