import { NonDeterminismError, Step, Workflow, WorkflowFailedError, step } from '../../src';
import { useTestDatabase } from '../support/test-zart';
import { waitFor } from '../support/wait-for';

const db = useTestDatabase();

class Ledger {
  @Step()
  async credit(account: string, cents: number): Promise<string> {
    return `${account}+${cents}`;
  }
}

// The first execution credits `first`; the replay (after a hand-back) credits `second`.
let account = 'first';
let holdOnce = true;

@Workflow({ name: 'changing-arguments' })
class ChangingArguments {
  private readonly ledger = new Ledger();

  async run(): Promise<string> {
    const receipt = await this.ledger.credit(account, 100);
    await step('hold', async () => {
      if (holdOnce) {
        holdOnce = false;
        await new Promise(() => undefined);
      }
    });
    return receipt;
  }
}

describe('non-determinism', () => {
  it('fails a replay that calls a step with other arguments, naming the step', async () => {
    const first = await db.zart();
    await first.startWorkflow(ChangingArguments, undefined as never, { id: 'nondet-1' });
    await waitFor(async () => (await first.getSteps('nondet-1')).length === 1);
    await first.shutdown({ drain: 0 });

    account = 'second'; // the workflow now decides differently: a deploy changed its logic
    const second = await db.zart();
    const error = (await second
      .getHandle('nondet-1')
      .result({ timeout: '20s' })
      .catch((e: unknown) => e)) as WorkflowFailedError;
    expect(error).toBeInstanceOf(WorkflowFailedError);
    const cause = error.cause as NonDeterminismError;
    expect(cause).toBeInstanceOf(NonDeterminismError);
    expect(cause.stepKey).toBe('Ledger.credit#0');
    expect(cause.message).toContain('other arguments');
    // The stored checkpoint is untouched; no step after the divergence ran.
    expect((await second.getSteps('nondet-1')).map((s) => [s.key, s.output])).toEqual([
      ['Ledger.credit#0', 'first+100'],
    ]);
  });
});
