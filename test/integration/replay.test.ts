import { Client } from 'pg';
import { Step, Workflow, step, StepFailedError, WorkflowFailedError, type Zart } from '../../src';
import { useTestDatabase } from '../support/test-zart';

const db = useTestDatabase();
let effects: Client;

// Side effects are counted in a table of their own, so a step that runs twice is visible.
async function recordEffect(runId: string, name: string): Promise<void> {
  await effects.query('INSERT INTO effects (run_id, name) VALUES ($1, $2)', [runId, name]);
}
async function effectCounts(runId: string): Promise<Record<string, number>> {
  const { rows } = await effects.query<{ name: string; n: string }>(
    'SELECT name, count(*) AS n FROM effects WHERE run_id = $1 GROUP BY name',
    [runId],
  );
  return Object.fromEntries(rows.map((r) => [r.name, Number(r.n)]));
}

class Greeter {
  @Step()
  async hello(runId: string, name: string): Promise<string> {
    await recordEffect(runId, 'hello');
    return `hello ${name}`;
  }
}

// Lets a test hold a run inside its second step, then let it go.
let gate: { release: () => void; entered: Promise<void>; enter: () => void } | undefined;
function closeGate(): void {
  let enter!: () => void;
  let release!: () => void;
  const entered = new Promise<void>((resolve) => (enter = resolve));
  const released = new Promise<void>((resolve) => (release = resolve));
  gate = { enter, entered, release: () => release() };
  gateReleased = released;
}
let gateReleased: Promise<void> = Promise.resolve();

@Workflow({ name: 'replay-greeting' })
class Greeting {
  private readonly greeter = new Greeter();

  async run(input: { runId: string; name: string }): Promise<string> {
    const first = await this.greeter.hello(input.runId, input.name);
    const second = await step('shout', async () => {
      await recordEffect(input.runId, 'shout');
      gate?.enter();
      await gateReleased;
      return first.toUpperCase();
    });
    return `${second}!`;
  }
}

@Workflow({ name: 'replay-failing' })
class Failing {
  async run(input: { runId: string }): Promise<string> {
    try {
      await step('explode', async () => {
        await recordEffect(input.runId, 'explode');
        throw new RangeError('out of range');
      });
    } catch (error) {
      if (!(error instanceof StepFailedError)) throw error;
      // Compensation in the workflow: the failure is itself recorded and replayed.
      await step('compensate', () => recordEffect(input.runId, 'compensate'));
      throw new Error(`gave up: ${(error.cause as Error).message}`);
    }
    return 'unreachable';
  }
}

describe('replay', () => {
  let zart: Zart;

  beforeAll(async () => {
    effects = new Client({ connectionString: db.url });
    await effects.connect();
    await effects.query('CREATE TABLE effects (run_id text NOT NULL, name text NOT NULL)');
    zart = await db.zart();
  });
  afterAll(async () => {
    gate?.release();
    await effects.end();
  });

  it('runs a workflow to completion and returns its typed result', async () => {
    const handle = await zart.startWorkflow(Greeting, { runId: 'greet-ada', name: 'ada' }, { id: 'greet-ada' });
    const result: string = await handle.result();
    expect(result).toBe('HELLO ADA!');
    const steps = await zart.getSteps('greet-ada');
    expect(steps.map((s) => [s.key, s.seq, s.status, s.output])).toEqual([
      ['Greeter.hello#0', 0, 'completed', 'hello ada'],
      ['shout#0', 1, 'completed', 'HELLO ADA'],
    ]);
    expect((await zart.getRun('greet-ada')).status).toBe('completed');
    expect(await effectCounts('greet-ada')).toEqual({ hello: 1, shout: 1 });
  });

  it('resumes a run handed back by one worker on another without re-running completed steps', async () => {
    closeGate();
    await zart.shutdown(); // so that only `first` can claim the run
    const first = await db.zart();
    await first.startWorkflow(Greeting, { runId: 'greet-bob', name: 'bob' }, { id: 'greet-bob' });
    await gate!.entered;
    // The first worker stops mid-step and hands the run back; another worker replays it.
    await first.shutdown({ drain: 0 });
    gate!.release();
    zart = await db.zart();
    const result = await zart.getHandle<string>('greet-bob').result({ timeout: '20s' });
    expect(result).toBe('HELLO BOB!');
    // hello ran once (replayed from its checkpoint); shout ran on both workers.
    expect(await effectCounts('greet-bob')).toEqual({ hello: 1, shout: 2 });
  });

  it('records a step failure and rethrows it into the workflow, which can compensate', async () => {
    const handle = await zart.startWorkflow(Failing, { runId: 'fail-1' }, { id: 'fail-1' });
    const error = await handle.result().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(WorkflowFailedError);
    expect(((error as WorkflowFailedError).cause as Error).message).toBe('gave up: out of range');
    const steps = await zart.getSteps('fail-1');
    expect(steps.map((s) => [s.key, s.status])).toEqual([
      ['explode#0', 'failed'],
      ['compensate#0', 'completed'],
    ]);
    const stored = steps[0]!.error as StepFailedError;
    expect(stored).toBeInstanceOf(StepFailedError);
    expect(stored.cause).toBeInstanceOf(RangeError);
    expect(await effectCounts('fail-1')).toEqual({ explode: 1, compensate: 1 });
  });
});
