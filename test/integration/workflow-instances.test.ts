// Where a run's workflow instance comes from: the resolve option may answer with a promise (a DI
// container that builds asynchronously), each execution gets its own instance, a class that `new`
// cannot build is refused at start(), and a result() still waiting at shutdown rejects with
// ShutdownError.
import { setTimeout as delay } from 'node:timers/promises';
import { ConfigurationError, ShutdownError, Workflow, Zart, step, waitForEvent } from '../../src';
import { silentLogger } from '../support/silent-logger';
import { useTestDatabase } from '../support/test-zart';

const db = useTestDatabase();

class Greeter {
  greet(name: string): string {
    return `hello ${name}`;
  }
}

@Workflow({ name: 'instances-greeting' })
class Greeting {
  /** Instance state: a shared instance would let one run's calls show in another's. */
  private readonly seen: string[] = [];

  constructor(private readonly greeter: Greeter) {}

  async run(input: { names: string[] }): Promise<string[]> {
    for (const name of input.names) {
      const greeting = await step('greet', () => this.greeter.greet(name));
      this.seen.push(greeting);
      await delay(5);
    }
    return this.seen;
  }
}

@Workflow({ name: 'instances-waiting' })
class Waiting {
  async run(): Promise<string> {
    return waitForEvent<string>('never-sent');
  }
}

/** A container that builds instances asynchronously, as Nest's moduleRef.resolve() does. */
const asyncContainer = async (cls: abstract new (...args: never[]) => object): Promise<object> => {
  await delay(1);
  if (cls === Greeting) return new Greeting(new Greeter());
  return new (cls as unknown as new () => object)();
};

it('runs a workflow whose instance the resolve option returns as a promise', async () => {
  const zart = await db.zart({ resolve: asyncContainer });
  const handle = await zart.startWorkflow(Greeting, { names: ['ada'] });
  expect(await handle.result({ timeout: '20s' })).toEqual(['hello ada']);
});

it('gives each run its own instance, so concurrent runs never see each other’s fields', async () => {
  const zart = await db.zart({ resolve: asyncContainer });
  const runs = await Promise.all(
    ['a', 'b', 'c', 'd'].map((prefix) =>
      zart.startWorkflow(Greeting, { names: [`${prefix}1`, `${prefix}2`, `${prefix}3`] }),
    ),
  );
  const results = await Promise.all(runs.map((run) => run.result({ timeout: '20s' })));
  expect(results).toEqual(
    ['a', 'b', 'c', 'd'].map((prefix) => [`hello ${prefix}1`, `hello ${prefix}2`, `hello ${prefix}3`]),
  );
});

it('fails start() naming the classes that new cannot build when no resolve option is given', async () => {
  const zart = new Zart({ connectionString: db.url, logger: silentLogger });
  const started = zart.start();
  await expect(started).rejects.toThrow(ConfigurationError);
  await expect(started).rejects.toThrow(/Greeting \(1\).*Pass resolve/);
  await zart.shutdown();
});

it('rejects a result() still waiting at shutdown with ShutdownError', async () => {
  const zart = new Zart({ connectionString: db.url, logger: silentLogger, resolve: asyncContainer });
  await zart.start();
  const handle = await zart.startWorkflow(Waiting, undefined as never);
  const outcome = handle.result().catch((error: unknown) => error);
  await delay(100);
  await zart.shutdown({ drain: 0 });
  expect(await outcome).toBeInstanceOf(ShutdownError);
  expect(await outcome).toMatchObject({ code: 'ZART_SHUT_DOWN', runId: handle.id });
});
