// limits.maxValueSize: a value larger than the limit (as stored JSON) is refused with a
// ValueTooLargeError naming it, its size and the limit; nothing is written for a start or an event,
// and a step's oversized output is that step's failure, as for any value that cannot be stored.
import {
  ConfigurationError,
  ValueTooLargeError,
  SerializationError,
  Workflow,
  WorkflowFailedError,
  Zart,
  step,
  waitForEvent,
} from '../../src';
import { useTestDatabase } from '../support/test-zart';

const db = useTestDatabase();

const big = (): string => 'x'.repeat(3000);

@Workflow({ name: 'limits-accepts-input' })
class AcceptsInput {
  async run(input: { text: string }): Promise<number> {
    return input.text.length;
  }
}

@Workflow({ name: 'limits-big-step' })
class BigStep {
  async run(): Promise<string> {
    try {
      await step('export', () => ({ rows: big() }));
    } catch (error) {
      // The error the workflow sees is the stored one, on the first execution as on a replay.
      return error instanceof ValueTooLargeError ? `caught ${error.bytes} > ${error.limitBytes}` : 'other';
    }
    return 'stored';
  }
}

@Workflow({ name: 'limits-big-output' })
class BigOutput {
  async run(): Promise<string> {
    return big();
  }
}

@Workflow({ name: 'limits-waits' })
class Waits {
  async run(): Promise<unknown> {
    return waitForEvent('data');
  }
}

describe('limits.maxValueSize', () => {
  let zart: Zart;
  beforeAll(async () => {
    zart = await db.zart({ limits: { maxValueSize: '2kB' } });
  });

  it('refuses a workflow input over the limit, naming it, and writes nothing', async () => {
    const error = await zart
      .startWorkflow(AcceptsInput, { text: big() }, { id: 'limits-input' })
      .catch((e: unknown) => e as ValueTooLargeError);
    expect(error).toBeInstanceOf(ValueTooLargeError);
    expect(error).toBeInstanceOf(SerializationError);
    expect(error).toMatchObject({ code: 'ZART_VALUE_TOO_LARGE', limitBytes: 2048 });
    expect((error as ValueTooLargeError).bytes).toBeGreaterThan(3000);
    expect((error as Error).message).toMatch(
      /^Cannot store the input of workflow "limits-accepts-input": it is 2\.\d kB \(\d+ bytes\) as stored JSON, over the limit of 2 kB \(2048 bytes\)/,
    );
    expect((error as Error).message).toContain('raise limits.maxValueSize');
    await expect(zart.getRun('limits-input')).rejects.toThrow('No run with id');
    // Under the limit, the same workflow runs.
    const handle = await zart.startWorkflow(AcceptsInput, { text: 'short' }, { id: 'limits-small' });
    await expect(handle.result({ timeout: '20s' })).resolves.toBe(5);
  });

  it('refuses an event payload over the limit and writes no event', async () => {
    await zart.startWorkflow(Waits, undefined as never, { id: 'limits-event' });
    const error = await zart.sendEvent('limits-event', 'data', { text: big() }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ValueTooLargeError);
    expect((error as Error).message).toContain('the payload of event "data"');
    const { rows } = await db.sql.query<{ count: number }>(
      `SELECT count(*)::int AS count FROM zart.events WHERE run_id = 'limits-event'`,
    );
    expect(rows[0]!.count).toBe(0);
    await zart.sendEvent('limits-event', 'data', 'small');
    await expect(zart.getHandle('limits-event').result({ timeout: '20s' })).resolves.toBe('small');
  });

  it("stores a step's output over the limit as the step's failure, thrown into the workflow", async () => {
    const handle = await zart.startWorkflow(BigStep, undefined as never, { id: 'limits-step' });
    await expect(handle.result({ timeout: '20s' })).resolves.toMatch(/^caught \d+ > 2048$/);
    const [checkpoint] = await zart.getSteps('limits-step');
    expect(checkpoint).toMatchObject({ key: 'export#0', status: 'failed' });
    expect(checkpoint!.error).toBeInstanceOf(ValueTooLargeError);
    expect((checkpoint!.error as Error).message).toContain('the output of step "export#0" of run "limits-step"');
    const { rows } = await db.sql.query<{ output: unknown }>(
      `SELECT output FROM zart.steps WHERE run_id = 'limits-step'`,
    );
    expect(rows[0]!.output).toBeNull();
  });

  it('fails a run whose output is over the limit', async () => {
    const handle = await zart.startWorkflow(BigOutput, undefined as never, { id: 'limits-output' });
    const error = (await handle.result({ timeout: '20s' }).catch((e: unknown) => e)) as WorkflowFailedError;
    expect(error).toBeInstanceOf(WorkflowFailedError);
    expect(error.cause).toBeInstanceOf(ValueTooLargeError);
    expect((error.cause as Error).message).toContain('the output of run "limits-output"');
  });

  it('rejects limits that are not sizes, or beyond what PostgreSQL stores', () => {
    const make = (limits: unknown) => () => new Zart({ connectionString: db.url, limits: limits as never });
    expect(make({ maxValueSize: 'lots' })).toThrow(ConfigurationError);
    expect(make({ maxValueSize: '2GB' })).toThrow(/between 1kB and 1GB/);
    expect(make({ maxValueSize: 10 })).toThrow(/between 1kB and 1GB/);
    expect(make({ maxSize: '1MB' })).toThrow(/Unknown option "maxSize" in limits/);
    expect(make({ maxValueSize: '512KiB' })).not.toThrow();
    expect(make({ maxValueSize: 1_048_576 })).not.toThrow();
  });
});

@Workflow({ name: 'limits-big-error' })
class BigError {
  async run(): Promise<void> {
    await step('fails', () => {
      throw new Error(big());
    });
  }
}

describe('limits.maxValueSize and errors', () => {
  it('does not apply to errors: a failure is always recorded', async () => {
    const zart = await db.zart({ limits: { maxValueSize: '2kB' } });
    const handle = await zart.startWorkflow(BigError, undefined as never, { id: 'limits-error' });
    const error = (await handle.result({ timeout: '20s' }).catch((e: unknown) => e)) as WorkflowFailedError;
    expect(error).toBeInstanceOf(WorkflowFailedError);
    expect((error.cause as Error).message).toContain(big());
  });
});
