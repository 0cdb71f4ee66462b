// Payments against a flaky, seeded PSP: six orders, one per path (settled, declined, voided,
// refunded, rejected), plus a double submission of the first. Prints every PSP request, each
// payment's outcome, the ledger, and the proof that no money moved twice.
//
//   npm run sample:payments -- --seed 7
import { parseArgs } from 'node:util';
import { Client } from 'pg';
import { Zart } from 'zart';
import { resolveDatabaseUrl } from 'zart/testing';
import { exampleOrders } from './example-orders';
import { SimulatedPaymentProvider } from './payment-provider';
import { Ledger, PaymentGateway, Receipts, RiskCheck, createLedgerTable } from './payment-steps';
import { Payment } from './payment.workflow';

async function main(seed: number): Promise<void> {
  const database = await resolveDatabaseUrl({ database: 'zart_payments' });
  const sql = new Client({ connectionString: database.url });
  const psp = new SimulatedPaymentProvider({ seed, log: (line) => console.log(`  ${line}`) });
  const receipts = new Receipts((line) => console.log(`  ${line}`));
  const zart = new Zart({
    connectionString: database.url,
    // The workflow's dependencies are passed in, as a DI container would.
    resolve: () => new Payment(new RiskCheck(), new PaymentGateway(psp), new Ledger(), receipts),
  });
  try {
    await sql.connect();
    await sql.query(createLedgerTable);
    await zart.start();

    const batch = Date.now().toString(36);
    const orders = exampleOrders(batch);
    console.log(`Paying ${orders.length} orders through a PSP that fails or times out now and then (seed ${seed}):`);
    // The run id is the order's: submitting an order twice (a double click) starts one payment.
    const handles = await Promise.all(
      [...orders, orders[0]!].map((order) => zart.startWorkflow(Payment, order, { id: `payment-${order.orderId}` })),
    );
    const outcomes = await Promise.all(handles.map((handle) => handle.result()));

    console.log('\nOutcomes:');
    handles.forEach((handle, i) => {
      const outcome = outcomes[i]!;
      const detail = outcome.status === 'settled' ? outcome.settlement : outcome.reason;
      console.log(
        `  ${handle.id.padEnd(32)} ${outcome.status.padEnd(9)} ${detail}${i === orders.length ? ' (the double submission: same run)' : ''}`,
      );
    });

    const { rows } = await sql.query<{ order_id: string; account: string; amount_cents: number }>(
      'SELECT order_id, account, amount_cents FROM payments_ledger WHERE order_id LIKE $1 ORDER BY id',
      [`order-${batch}-%`],
    );
    console.log('\nLedger (written once per settled payment, in the same transaction as its checkpoint):');
    for (const row of rows) console.log(`  ${row.order_id.padEnd(20)} ${row.account.padEnd(34)} ${row.amount_cents}`);

    const retried = psp.calls.length - psp.effects.length;
    const keys = new Set(psp.effects.map((effect) => effect.idempotencyKey));
    console.log(
      `\nThe PSP received ${psp.calls.length} requests and moved money ${psp.effects.length} times ` +
        `(${retried} requests were failures, timeouts or repeats answered from its idempotency store); ` +
        `${keys.size === psp.effects.length ? 'no operation happened twice' : 'AN OPERATION HAPPENED TWICE'}.`,
    );
  } finally {
    await zart.shutdown();
    await sql.end();
    await database.close();
  }
}

const { values } = parseArgs({ options: { seed: { type: 'string', default: '7' } } });
main(Number(values.seed)).catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
