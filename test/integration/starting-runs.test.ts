import { IsEmail, IsInt, IsPositive, Max, ValidateNested } from 'class-validator';
import { Type } from 'class-transformer';
import {
  ConfigurationError,
  RunDeduplicatedError,
  RunIdConflictError,
  Step,
  ValidationError,
  Workflow,
  WorkflowNotRegisteredError,
  Zart,
  currentRun,
  currentStep,
  sleep,
  step,
  type RunInfo,
  type StepInfo,
} from '../../src';
import { useTestDatabase } from '../support/test-zart';

const db = useTestDatabase();

class Address {
  @IsInt() @Max(99999) zip!: number;
}

class OrderInput {
  @IsEmail() email!: string;
  @IsPositive() amountCents!: number;
  @ValidateNested() @Type(() => Address) address!: Address;
}

const received: unknown[] = [];

// TypeScript emits design:paramtypes only for decorated methods, so the input class is named here.
@Workflow({ name: 'place-order', version: 'v3', input: OrderInput })
class PlaceOrder {
  async run(input: OrderInput): Promise<{ email: string; inputIsInstance: boolean }> {
    received.push(input);
    return { email: input.email, inputIsInstance: input instanceof OrderInput && input.address instanceof Address };
  }
}

@Workflow({ name: 'other-workflow' })
class OtherWorkflow {
  async run(): Promise<number> {
    return 1;
  }
}

class Calculator {
  calls = 0;

  @Step()
  async double(n: number): Promise<number> {
    this.calls++;
    return n * 2;
  }
}

@Workflow({ name: 'parked-for-an-hour' })
class ParkedForAnHour {
  async run(): Promise<void> {
    await sleep('1h');
  }
}

const contexts: Array<{ run: RunInfo; step: StepInfo }> = [];

@Workflow({ name: 'introspect' })
class Introspect {
  async run(): Promise<void> {
    await step('look', () => {
      contexts.push({ run: currentRun(), step: currentStep() });
    });
  }
}

const validInput = { email: 'ada@example.com', amountCents: 4200, address: { zip: 12345 } };

describe('starting runs', () => {
  const runCount = async (): Promise<number> =>
    Number((await db.sql.query('SELECT count(*) AS n FROM zart.runs')).rows[0].n);

  it('validates the input, hands the workflow an instance of its input class and records the version', async () => {
    const zart = await db.zart();
    const handle = await zart.startWorkflow(PlaceOrder, validInput, { id: 'order-1' });
    expect(handle.id).toBe('order-1');
    expect(handle.workflow).toBe('place-order');
    expect(await handle.result()).toEqual({ email: 'ada@example.com', inputIsInstance: true });
    const run = await zart.getRun('order-1');
    expect(run).toMatchObject({ workflow: 'place-order', version: 'v3', status: 'completed', attempt: 1 });
    expect(run.finishedAt).toBeInstanceOf(Date);
  });

  it('rejects invalid input with every failing property and writes nothing', async () => {
    const zart = await db.zart();
    const before = await runCount();
    const error = await zart
      .startWorkflow(PlaceOrder, { email: 'nope', amountCents: -5, address: { zip: 123456 } }, { id: 'order-bad' })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ValidationError);
    const failures = (error as ValidationError).failures;
    expect(failures.map((f) => f.property).sort()).toEqual(['address.zip', 'amountCents', 'email']);
    expect(failures.find((f) => f.property === 'email')!.messages).toEqual(['email must be an email']);
    expect((error as ValidationError).message).toContain('address.zip: zip must not be greater than 99999');
    expect((error as ValidationError).name).toBe('ValidationError');
    expect((error as ValidationError).code).toBe('ZART_VALIDATION_FAILED');
    expect(await runCount()).toBe(before);
  });

  it('gives one run to concurrent starts with the same id, from several clients', async () => {
    const clients = await Promise.all([db.client(), db.client(), db.zart()]);
    const handles = await Promise.all(
      Array.from({ length: 30 }, (_, i) => clients[i % 3]!.startWorkflow(PlaceOrder, validInput, { id: 'order-race' })),
    );
    expect(new Set(handles.map((h) => h.id))).toEqual(new Set(['order-race']));
    const { rows } = await db.sql.query("SELECT count(*) AS n FROM zart.runs WHERE id = 'order-race'");
    expect(Number(rows[0].n)).toBe(1);
    const results = await Promise.all(handles.map((h) => h.result({ timeout: '20s' })));
    expect(new Set(results.map((r) => JSON.stringify(r))).size).toBe(1);
  });

  it('gives each of many concurrent starts in one process its own answer, though they share statements', async () => {
    const zart = await db.zart();
    await zart.startWorkflow(OtherWorkflow, undefined as never, { id: 'batch-taken' });
    const starts = [
      ...Array.from({ length: 20 }, (_, i) => zart.startWorkflow(PlaceOrder, validInput, { id: `batch-new-${i}` })),
      ...Array.from({ length: 5 }, () => zart.startWorkflow(PlaceOrder, validInput, { id: 'batch-same' })),
      zart.startWorkflow(PlaceOrder, validInput, { id: 'batch-taken' }),
      ...Array.from({ length: 2 }, (_, i) =>
        zart.startWorkflow(ParkedForAnHour, undefined as never, { id: `batch-key-${i}`, deduplicationKey: 'one' }),
      ),
    ];
    const outcomes = await Promise.allSettled(starts);
    const value = (i: number): unknown => {
      const outcome = outcomes[i]!;
      return outcome.status === 'fulfilled' ? outcome.value.id : outcome.reason;
    };
    for (let i = 0; i < 25; i++) expect(value(i)).toBe(i < 20 ? `batch-new-${i}` : 'batch-same');
    expect(value(25)).toBeInstanceOf(RunIdConflictError);
    const keyed = [value(26), value(27)];
    const refused = keyed.filter((v) => v instanceof RunDeduplicatedError);
    const started = keyed.filter((v) => typeof v === 'string');
    expect(refused).toHaveLength(1);
    expect(refused[0]).toMatchObject({ existingRunId: started[0] });
    const { rows } = await db.sql.query(
      'SELECT id, workflow FROM zart.runs WHERE id LIKE \'batch-%\' ORDER BY id COLLATE "C"',
    );
    expect(rows).toHaveLength(20 + 1 + 1 + 1);
    expect(rows.find((r: { id: string }) => r.id === 'batch-taken')).toMatchObject({ workflow: 'other-workflow' });
    const results = await Promise.all(
      outcomes.slice(0, 25).flatMap((o) => (o.status === 'fulfilled' ? [o.value.result({ timeout: '20s' })] : [])),
    );
    expect(results).toHaveLength(25);
    expect(results.every((r) => (r as { email: string }).email === validInput.email)).toBe(true);
    await zart.cancel(started[0] as string);
  });

  it('refuses an id that belongs to a run of another workflow', async () => {
    const zart = await db.zart();
    await zart.startWorkflow(OtherWorkflow, undefined as never, { id: 'shared-id' });
    await expect(zart.startWorkflow(PlaceOrder, validInput, { id: 'shared-id' })).rejects.toBeInstanceOf(
      RunIdConflictError,
    );
  });

  it('fails with WorkflowNotRegisteredError for an unknown workflow name', async () => {
    const zart = await db.zart();
    const error = await zart.startWorkflow('no-such-workflow', {}).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(WorkflowNotRegisteredError);
    expect((error as WorkflowNotRegisteredError).name).toBe('WorkflowNotRegisteredError');
    expect((error as Error).message).toContain('"no-such-workflow"');
    expect((error as Error).message).toContain('place-order');
  });

  it('starts a workflow by name from a client-only process', async () => {
    const client = await db.client();
    const zart = await db.zart();
    const handle = await client.startWorkflow<{ email: string }>('place-order', validInput, { id: 'order-by-name' });
    expect((await handle.result({ timeout: '20s' })).email).toBe('ada@example.com');
    expect(await zart.getHandle('order-by-name').status()).toBe('completed');
  });

  it('runs a step called outside a workflow as a plain call', async () => {
    const calculator = new Calculator();
    expect(await calculator.double(21)).toBe(42);
    expect(await step('plain', () => 'ok')).toBe('ok');
    expect(calculator.calls).toBe(1);
  });

  it('tells a workflow and a step where they run', async () => {
    const zart = await db.zart();
    await (await zart.startWorkflow(Introspect, undefined as never, { id: 'introspect-1' })).result();
    expect(contexts).toHaveLength(1);
    expect(contexts[0]!.run).toMatchObject({ id: 'introspect-1', workflow: 'introspect', attempt: 1, parentId: null });
    expect(contexts[0]!.step).toMatchObject({ key: 'look#0', attempt: 1, idempotencyKey: 'introspect-1/look#0' });
    expect(contexts[0]!.run.signal).toBeInstanceOf(AbortSignal);
    expect(() => currentRun()).toThrow('currentRun() can only be called while a workflow runs');
    expect(() => currentStep()).toThrow(
      expect.objectContaining({ name: 'NotInWorkflowError', code: 'ZART_NOT_IN_WORKFLOW' }) as Error,
    );
  });

  it('refuses to start before start() with a clear error', async () => {
    const zart = new Zart({ connectionString: db.url });
    await expect(zart.startWorkflow(PlaceOrder, validInput)).rejects.toBeInstanceOf(ConfigurationError);
  });
});
