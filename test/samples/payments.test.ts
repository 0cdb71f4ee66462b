// The payments sample's workflow against its seeded flaky PSP: every path ends as it should, the
// compensations run, no money moves twice although requests fail and time out, and the ledger is
// written exactly once per settled payment.
import { Client } from 'pg';
import { ValidationError } from 'zart';
import { createTestEnvironment } from 'zart/testing';
import { exampleOrders } from '../../samples/payments/example-orders';
import { SimulatedPaymentProvider } from '../../samples/payments/payment-provider';
import { createLedgerTable, Ledger, PaymentGateway, Receipts, RiskCheck } from '../../samples/payments/payment-steps';
import { Payment } from '../../samples/payments/payment.workflow';
import { silentLogger } from '../support/silent-logger';
import { useTestDatabase } from '../support/test-zart';

const db = useTestDatabase();

describe('samples/payments', () => {
  it('settles, declines, voids, refunds and rejects as each card calls for, moving no money twice', async () => {
    await db.sql.query(createLedgerTable);
    const psp = new SimulatedPaymentProvider({ seed: 7 });
    const receipts = new Receipts();
    const zart = await db.zart({
      resolve: () => new Payment(new RiskCheck(), new PaymentGateway(psp), new Ledger(), receipts),
    });
    const orders = exampleOrders('test');
    // The first order is submitted twice: the run id makes it one payment.
    const handles = await Promise.all(
      [...orders, orders[0]!].map((order) => zart.startWorkflow(Payment, order, { id: `payment-${order.orderId}` })),
    );
    const outcomes = await Promise.all(handles.map((handle) => handle.result({ timeout: '60s' })));

    expect(outcomes.map((outcome) => outcome.status)).toEqual([
      'settled',
      'settled',
      'declined',
      'voided',
      'refunded',
      'rejected',
      'settled',
    ]);
    expect(outcomes[2]).toMatchObject({ reason: 'card declined: insufficient funds' });

    // The PSP failed and timed out (seed 7), so steps were retried...
    const outcomesAtPsp = psp.calls.map((call) => call.outcome);
    expect(outcomesAtPsp).toContain('unavailable');
    expect(outcomesAtPsp).toContain('timed out');
    expect(outcomesAtPsp).toContain('replayed');
    // ...yet each operation moved money once: one effect per idempotency key.
    const keys = psp.effects.map((effect) => effect.idempotencyKey);
    expect(new Set(keys).size).toBe(keys.length);
    const movedFor = (n: number): string[] =>
      psp.effects.filter((e) => e.idempotencyKey.startsWith(`payment-order-test-${n}/`)).map((e) => e.operation);
    expect(movedFor(1)).toEqual(['authorize', 'capture', 'settle']);
    expect(movedFor(3)).toEqual([]);
    expect(movedFor(4)).toEqual(['authorize', 'void']);
    expect(movedFor(5)).toEqual(['authorize', 'capture', 'refund']);
    expect(movedFor(6)).toEqual([]);

    const { rows } = await db.sql.query<{ order_id: string; total: number; entries: number }>(
      'SELECT order_id, sum(amount_cents)::int AS total, count(*)::int AS entries FROM payments_ledger GROUP BY order_id ORDER BY order_id',
    );
    expect(rows).toEqual([
      { order_id: 'order-test-1', total: 0, entries: 2 },
      { order_id: 'order-test-2', total: 0, entries: 2 },
    ]);
    // One mail per order, the double submission included.
    expect(receipts.sent.map((mail) => mail.to).sort()).toEqual(orders.map((order) => order.email).sort());
  });

  it('refuses a malformed payment request before anything is written', async () => {
    // A client validates like a worker does (and needs no resolve for Payment's constructor).
    const zart = await db.client();
    const bad = { ...exampleOrders('bad')[0]!, email: 'not-an-email', amountCents: -5 };
    await expect(zart.startWorkflow(Payment, bad, { id: 'payment-bad' })).rejects.toBeInstanceOf(ValidationError);
    await expect(zart.getRun('payment-bad')).rejects.toThrow(/payment-bad/);
  });

  it('charges once and writes the ledger once when executions die after the capture and inside the ledger step', async () => {
    const psp = new SimulatedPaymentProvider({ seed: 7 });
    const env = await createTestEnvironment({
      logger: silentLogger,
      resolve: () => new Payment(new RiskCheck(), new PaymentGateway(psp), new Ledger(), new Receipts()),
    });
    const sql = new Client({ connectionString: env.databaseUrl });
    try {
      await sql.connect();
      await sql.query(createLedgerTable);
      // Dies after the PSP captured the money, before the checkpoint: the capture runs again.
      const afterCapture = env.crashAt('PaymentGateway.capture', { when: 'after-effect' });
      // Dies after the ledger INSERT, before the commit: the transaction is rolled back.
      const inLedger = env.crashAt('Ledger.record', { when: 'after-effect' });
      const order = exampleOrders('crash')[0]!;
      const handle = await env.zart.startWorkflow(Payment, order, { id: 'payment-crash' });

      await afterCapture.recover();
      await inLedger.recover();
      expect(await handle.result({ timeout: '30s' })).toMatchObject({ status: 'settled' });

      const captures = psp.calls.filter((call) => call.operation === 'capture' && call.outcome !== 'unavailable');
      expect(captures.map((call) => call.outcome)).toEqual(['ok', 'replayed']); // sent twice, same key...
      expect(psp.effects.filter((effect) => effect.operation === 'capture')).toHaveLength(1); // ...captured once
      const { rows } = await sql.query<{ entries: number }>(
        'SELECT count(*)::int AS entries FROM payments_ledger WHERE order_id = $1',
        [order.orderId],
      );
      expect(rows[0]!.entries).toBe(2);
    } finally {
      await sql.end();
      await env.close();
    }
  });
});
