// An input class without class-validator decorators is accepted and instantiated (it has no rules
// to check); a decorated one is still validated. Before, every start of the former failed with
// "undefined: an unknown value was passed to the validate function".
import { IsString } from 'class-validator';
import { ValidationError, Workflow, Zart } from '../../src';
import { useTestDatabase } from '../support/test-zart';

const db = useTestDatabase();

class GreetingInput {
  name!: string;
  greet(): string {
    return `Hello, ${this.name}!`;
  }
}

@Workflow({ name: 'undecorated-greeting', input: GreetingInput })
class Greeting {
  async run(input: GreetingInput): Promise<string> {
    return Promise.resolve(input.greet());
  }
}

class CheckedInput {
  @IsString() name!: string;
}

@Workflow({ name: 'checked-greeting', input: CheckedInput })
class CheckedGreeting {
  async run(input: CheckedInput): Promise<string> {
    return Promise.resolve(input.name);
  }
}

let zart: Zart;
beforeAll(async () => {
  zart = await db.zart();
});

test('a run of a workflow whose input class has no decorators starts, and run() gets an instance', async () => {
  const handle = await zart.startWorkflow(Greeting, { name: 'Ada' } as GreetingInput);
  await expect(handle.result({ timeout: '30s' })).resolves.toBe('Hello, Ada!');
});

test('an input class with decorators is still validated before anything is written', async () => {
  await expect(zart.startWorkflow(CheckedGreeting, { name: 42 } as never, { id: 'checked-1' })).rejects.toBeInstanceOf(
    ValidationError,
  );
  const { rows } = await db.sql.query<{ n: number }>(`SELECT count(*)::int AS n FROM zart.runs WHERE id = 'checked-1'`);
  expect(rows[0]?.n).toBe(0);
});
