import { Client } from 'pg';
import { Step, Workflow, step, type Zart } from '../../src';
import { useTestDatabase } from '../support/test-zart';

const db = useTestDatabase();
let effects: Client;

// Side effects are counted in a table of their own, so a step that runs twice is visible.
async function recordEffect(name: string): Promise<void> {
  await effects.query('INSERT INTO effects (name) VALUES ($1)', [name]);
}

class Greeter {
  @Step()
  async hello(name: string): Promise<string> {
    await recordEffect('hello');
    return `hello ${name}`;
  }
}

let failSecondStepOnce = true;

@Workflow({ name: 'replay-greeting' })
class Greeting {
  private readonly greeter = new Greeter();

  async run(input: { name: string }): Promise<string> {
    const first = await this.greeter.hello(input.name);
    const second = await step('shout', async () => {
      await recordEffect('shout');
      if (failSecondStepOnce) {
        failSecondStepOnce = false;
        throw new Error('flaky');
      }
      return first.toUpperCase();
    });
    return second;
  }
}

describe('replay', () => {
  let zart: Zart;

  beforeAll(async () => {
    effects = new Client({ connectionString: db.url });
    await effects.connect();
    await effects.query('CREATE TABLE effects (name text NOT NULL)');
    zart = await db.zart();
  });
  afterAll(async () => {
    await effects.end();
  });

  it('runs a workflow to completion and returns its typed result', async () => {
    failSecondStepOnce = false;
    const handle = await zart.startWorkflow(Greeting, { name: 'ada' }, { id: 'greet-ada' });
    const result: string = await handle.result();
    expect(result).toBe('HELLO ADA');
    const steps = await zart.getSteps('greet-ada');
    expect(steps.map((s) => [s.key, s.status, s.output])).toEqual([
      ['Greeter.hello#0', 'completed', 'hello ada'],
      ['shout#0', 'completed', 'HELLO ADA'],
    ]);
    expect((await zart.getRun('greet-ada')).status).toBe('completed');
  });
});
