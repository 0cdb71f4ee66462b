import { Client } from 'pg';
import {
  ConfigurationError,
  CrashLoopError,
  Step,
  Workflow,
  WaitTimeoutError,
  WorkflowFailedError,
  currentStep,
  step,
  stepTransaction,
} from '../../src';
import { createTestEnvironment, type TestEnvironment } from '../../src/testing';
import { silentLogger } from '../support/silent-logger';
import { useTestEnvironment } from '../support/use-test-environment';

// What each step body did, per run: the effects a real crash could repeat.
const effects = new Map<string, string[]>();
const record = (runId: string, what: string): void => {
  effects.set(runId, [...(effects.get(runId) ?? []), what]);
};

class Payment {
  @Step()
  async authorize(runId: string): Promise<string> {
    record(runId, `authorize (attempt ${currentStep().attempt})`);
    return 'auth-1';
  }

  @Step()
  async capture(runId: string, authorization: string): Promise<string> {
    record(runId, `capture ${authorization} (attempt ${currentStep().attempt})`);
    return 'capture-1';
  }

  @Step()
  async notify(runId: string): Promise<void> {
    record(runId, 'notify');
  }

  @Step({ transaction: true })
  async writeLedger(runId: string): Promise<void> {
    record(runId, 'ledger');
    await stepTransaction().query('INSERT INTO ledger (run_id) VALUES ($1)', [runId]);
  }
}

@Workflow({ name: 'crash-payment' })
class PaymentFlow {
  private readonly payment = new Payment();

  async run(input: { runId: string }): Promise<string> {
    const authorization = await this.payment.authorize(input.runId);
    const capture = await this.payment.capture(input.runId, authorization);
    await this.payment.writeLedger(input.runId);
    await this.payment.notify(input.runId);
    return capture;
  }
}

@Workflow({ name: 'crash-loop-of-inline-steps' })
class InlineSteps {
  async run(input: { runId: string }): Promise<number> {
    let total = 0;
    for (let i = 0; i < 3; i++) total += await step('add', () => (record(input.runId, `add ${i}`), i));
    return total;
  }
}

@Workflow({ name: 'crash-every-time', maxRecoveries: 1 })
class DiesEveryTime {
  async run(input: { runId: string }): Promise<string> {
    await step('poison', () => record(input.runId, 'poison'));
    return 'survived';
  }
}

describe('crash injection', () => {
  const testing = useTestEnvironment();
  const env = (): TestEnvironment => testing.env;
  const sql = (): Client => testing.sql;

  beforeAll(async () => {
    await sql().query('CREATE TABLE ledger (run_id text NOT NULL)');
  });

  async function runRow(id: string): Promise<{ status: string; lease_epoch: number; recoveries: number }> {
    const { rows } = await sql().query<{ status: string; lease_epoch: number; recoveries: number }>(
      'SELECT status, lease_epoch, recoveries FROM zart.runs WHERE id = $1',
      [id],
    );
    return rows[0]!;
  }

  async function checkpoints(id: string): Promise<Array<{ key: string; attempts: number }>> {
    const { rows } = await sql().query<{ key: string; attempts: number }>(
      'SELECT key, attempts FROM zart.steps WHERE run_id = $1 ORDER BY seq',
      [id],
    );
    return rows;
  }

  it('kills a run before a step: the step never ran, and after recovery it runs once', async () => {
    const crash = env().crashAt('Payment.capture', { when: 'before-step' });
    const handle = await env().zart.startWorkflow(PaymentFlow, { runId: 'before-1' }, { id: 'before-1' });
    const crashed = await crash.crashed;
    expect(crashed).toMatchObject({ runId: 'before-1', stepKey: 'Payment.capture#0', attempt: 1 });

    // Dead, as after SIGKILL: still leased, nothing after the crash point written or done.
    await expect(handle.result({ timeout: '300ms' })).rejects.toBeInstanceOf(WaitTimeoutError);
    const dead = await runRow('before-1');
    expect(dead).toMatchObject({ status: 'running', lease_epoch: crashed.epoch, recoveries: 0 });
    expect(effects.get('before-1')).toEqual(['authorize (attempt 1)']);
    expect((await checkpoints('before-1')).map((c) => c.key)).toEqual(['Payment.authorize#0']);

    await crash.recover();
    await expect(handle.result({ timeout: '10s' })).resolves.toBe('capture-1');
    expect(effects.get('before-1')).toEqual([
      'authorize (attempt 1)',
      'capture auth-1 (attempt 1)',
      'ledger',
      'notify',
    ]);
    expect(await runRow('before-1')).toMatchObject({
      status: 'completed',
      lease_epoch: crashed.epoch + 1,
      recoveries: 1,
    });
    expect(await checkpoints('before-1')).toEqual([
      { key: 'Payment.authorize#0', attempts: 1 },
      { key: 'Payment.capture#0', attempts: 1 },
      { key: 'Payment.writeLedger#0', attempts: 1 },
      { key: 'Payment.notify#0', attempts: 1 },
    ]);
  });

  it('kills a run after a step’s effect but before its checkpoint: the effect repeats, the checkpoint is written once', async () => {
    const crash = env().crashAt('Payment.capture', { when: 'after-effect' });
    const handle = await env().zart.startWorkflow(PaymentFlow, { runId: 'after-1' }, { id: 'after-1' });
    const crashed = await crash.crashed;
    expect(effects.get('after-1')).toEqual(['authorize (attempt 1)', 'capture auth-1 (attempt 1)']);
    expect((await checkpoints('after-1')).map((c) => c.key)).toEqual(['Payment.authorize#0']);

    await crash.recover();
    await expect(handle.result({ timeout: '10s' })).resolves.toBe('capture-1');
    // At-least-once: the replay did not call authorize again but ran capture a second time, as
    // its first attempt again (a crash is not a failed attempt).
    expect(effects.get('after-1')).toEqual([
      'authorize (attempt 1)',
      'capture auth-1 (attempt 1)',
      'capture auth-1 (attempt 1)',
      'ledger',
      'notify',
    ]);
    expect((await checkpoints('after-1')).map((c) => c.key)).toEqual([
      'Payment.authorize#0',
      'Payment.capture#0',
      'Payment.writeLedger#0',
      'Payment.notify#0',
    ]);
    expect(await runRow('after-1')).toMatchObject({ lease_epoch: crashed.epoch + 1, recoveries: 1 });
  });

  it('rolls back a transactional step that dies after its effect: its rows are written exactly once', async () => {
    const crash = env().crashAt('Payment.writeLedger', { when: 'after-effect' });
    const handle = await env().zart.startWorkflow(PaymentFlow, { runId: 'ledger-1' }, { id: 'ledger-1' });
    await crash.crashed;
    const ledgerRows = async (): Promise<number> =>
      (await sql().query<{ n: number }>("SELECT count(*)::int AS n FROM ledger WHERE run_id = 'ledger-1'")).rows[0]!.n;
    expect(await ledgerRows()).toBe(0);
    // The call that died never returns: nothing after it runs until the run is recovered.
    await expect(handle.result({ timeout: '300ms' })).rejects.toBeInstanceOf(WaitTimeoutError);
    expect(effects.get('ledger-1')).toEqual(['authorize (attempt 1)', 'capture auth-1 (attempt 1)', 'ledger']);

    await crash.recover();
    await expect(handle.result({ timeout: '10s' })).resolves.toBe('capture-1');
    expect(effects.get('ledger-1')?.filter((e) => e === 'ledger')).toEqual(['ledger', 'ledger']);
    expect(await ledgerRows()).toBe(1);
  });

  it('targets one call by its key and one run by its id', async () => {
    const crash = env().crashAt('add#1', { when: 'after-effect', runId: 'inline-2' });
    const other = await env().zart.startWorkflow(InlineSteps, { runId: 'inline-1' }, { id: 'inline-1' });
    await expect(other.result({ timeout: '10s' })).resolves.toBe(3);
    const handle = await env().zart.startWorkflow(InlineSteps, { runId: 'inline-2' }, { id: 'inline-2' });
    expect(await crash.crashed).toMatchObject({ runId: 'inline-2', stepKey: 'add#1' });
    await crash.recover();
    await expect(handle.result({ timeout: '10s' })).resolves.toBe(3);
    expect(effects.get('inline-1')).toEqual(['add 0', 'add 1', 'add 2']);
    expect(effects.get('inline-2')).toEqual(['add 0', 'add 1', 'add 1', 'add 2']);
  });

  it('counts crash recoveries as real crashes do: past maxRecoveries the run fails with CrashLoopError', async () => {
    const first = env().crashAt('poison', { runId: 'poison-1' });
    const second = env().crashAt('poison', { runId: 'poison-1' });
    const handle = await env().zart.startWorkflow(DiesEveryTime, { runId: 'poison-1' }, { id: 'poison-1' });
    await first.recover();
    // The first takeover (recoveries 1, within maxRecoveries 1) reaches the step and dies again.
    expect(await second.crashed).toMatchObject({ runId: 'poison-1', stepKey: 'poison#0' });
    await second.recover();
    const error = await handle.result({ timeout: '10s' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(WorkflowFailedError);
    expect((error as WorkflowFailedError).cause).toBeInstanceOf(CrashLoopError);
    expect((error as WorkflowFailedError).cause).toMatchObject({ stepKey: 'poison#0', recoveries: 2 });
    expect(effects.get('poison-1')).toBeUndefined();
  });

  it('refuses a crash point it cannot place, saying what it takes', () => {
    expect(() => env().crashAt('')).toThrow(ConfigurationError);
    expect(() => env().crashAt('Payment.capture', { when: 'after' as never })).toThrow(
      /takes 'before-step' or 'after-effect', got after/,
    );
  });

  it('resumes a dead run without recover() once its lease expires, like a real crash', async () => {
    const shortLease = await createTestEnvironment({
      connectionString: env().databaseUrl,
      schema: 'short_lease',
      logger: silentLogger,
      worker: { lease: '500ms', pollInterval: '50ms' },
    });
    try {
      const crash = shortLease.crashAt('Payment.notify');
      const handle = await shortLease.zart.startWorkflow(PaymentFlow, { runId: 'lease-1' }, { id: 'lease-1' });
      const crashed = await crash.crashed;
      await expect(handle.result({ timeout: '10s' })).resolves.toBe('capture-1');
      const { rows } = await sql().query<{ lease_epoch: number; recoveries: number }>(
        "SELECT lease_epoch, recoveries FROM short_lease.runs WHERE id = 'lease-1'",
      );
      expect(rows[0]).toEqual({ lease_epoch: crashed.epoch + 1, recoveries: 1 });
    } finally {
      await shortLease.close();
    }
  });
});
