import { Step, Workflow, sleep, step, waitForEvent } from '../../src';
import { main } from '../../src/cli/main';
import { replayHistory, type RunHistory } from '../../src/testing';
import { useTestDatabase } from '../support/test-zart';
import { waitFor } from '../support/wait-for';

const db = useTestDatabase();

// Step bodies count their executions: a replay of a history must not execute any.
const executed: string[] = [];
// The code under test: the deployed order of calls, or a change that swaps two of them.
let swapped = false;

class Billing {
  @Step()
  async invoice(customer: string, cents: number): Promise<{ invoice: string; at: Date }> {
    executed.push('invoice');
    return { invoice: `inv-${customer}-${cents}`, at: new Date('2026-01-02T03:04:05Z') };
  }

  @Step()
  async remind(): Promise<void> {
    executed.push('remind');
  }
}

@Workflow({ name: 'billing-cycle' })
class BillingCycle {
  private readonly billing = new Billing();

  async run(input: { customer: string }): Promise<string> {
    const first = swapped ? await this.remindFirst(input.customer) : await this.invoiceFirst(input.customer);
    await sleep('5ms');
    const paid = await waitForEvent<{ ok: boolean }>('paid');
    return `${first} paid=${paid.ok}`;
  }

  private async invoiceFirst(customer: string): Promise<string> {
    const { invoice, at } = await this.billing.invoice(customer, 4200);
    await this.billing.remind();
    await step('log', () => executed.push('log'));
    return `${invoice}@${at.toISOString()}`;
  }

  private async remindFirst(customer: string): Promise<string> {
    await this.billing.remind();
    const { invoice, at } = await this.billing.invoice(customer, 4200);
    await step('log', () => executed.push('log'));
    return `${invoice}@${at.toISOString()}`;
  }
}

async function exported(id: string): Promise<RunHistory> {
  let out = '';
  const code = await main(['--database-url', db.url, 'runs', 'export', id], {
    out: (text) => void (out += text),
    err: () => undefined,
    colour: false,
  });
  expect(code).toBe(0);
  return JSON.parse(out) as RunHistory;
}

describe('replaying exported histories against new code', () => {
  let waiting: RunHistory;
  let completed: RunHistory;

  beforeAll(async () => {
    const zart = await db.zart();
    await zart.startWorkflow(BillingCycle, { customer: 'c7' }, { id: 'billing-waiting' });
    await zart.startWorkflow(BillingCycle, { customer: 'c8' }, { id: 'billing-done' });
    await zart.sendEvent('billing-done', 'paid', { ok: true });
    await zart.getHandle('billing-done').result({ timeout: '30s' });
    await waitFor(async () => (await zart.getRun('billing-waiting')).status === 'waiting');
    // The API and the CLI export the same history.
    waiting = await exported('billing-waiting');
    expect(waiting).toEqual(JSON.parse(JSON.stringify(await zart.exportRun('billing-waiting'))));
    completed = await zart.exportRun('billing-done');
    executed.length = 0;
  });

  it('exports the run, its input and every call in call order', () => {
    expect(completed.format).toBe('zart.run-history/1');
    expect(completed.run).toMatchObject({ id: 'billing-done', workflow: 'billing-cycle', status: 'completed' });
    expect(completed.calls.map((c) => [c.seq, c.key, c.sequential])).toEqual([
      [0, 'Billing.invoice#0', true],
      [1, 'Billing.remind#0', true],
      [2, 'log#0', true],
      [3, 'zart.sleep#0', true],
      [4, 'zart.event:paid#0', true],
    ]);
  });

  it('passes unchanged code, without executing a step', async () => {
    const done = await replayHistory(completed, BillingCycle);
    expect(done).toMatchObject({ ok: true, divergence: null, outcome: 'completed', replayedCalls: 5 });
    const stillWaiting = await replayHistory(JSON.stringify(waiting), BillingCycle);
    expect(stillWaiting).toMatchObject({ ok: true, outcome: 'incomplete', replayedCalls: 4 });
    expect(executed).toEqual([]);
  });

  it('reports the first divergence of reordered code, without executing a step', async () => {
    swapped = true;
    try {
      for (const history of [completed, waiting]) {
        const report = await replayHistory(history, BillingCycle);
        expect(report.ok).toBe(false);
        expect(report.divergence).toMatchObject({
          position: 0,
          stepKey: 'Billing.remind#0',
          expected: 'a call of step "Billing.invoice"',
          actual: 'a call of step "Billing.remind" (recorded at call 1)',
        });
        expect(report.divergence?.error.message).toContain('at call 0');
      }
    } finally {
      swapped = false;
    }
    expect(executed).toEqual([]);
  });

  it('reports a step called with other arguments', async () => {
    const changed = structuredClone(completed);
    changed.calls[0]!.argsHash = 'f'.repeat(64);
    const report = await replayHistory(changed, BillingCycle);
    expect(report.divergence).toMatchObject({ position: null, stepKey: 'Billing.invoice#0' });
    expect(report.divergence?.expected).toContain('other arguments');
  });
});
