// The orders the sample pays, one per path through the payment workflow.
import type { PaymentRequest } from './payment-steps';

export function exampleOrders(batch: string): PaymentRequest[] {
  const order = (n: number, amountCents: number, card: string): PaymentRequest => ({
    orderId: `order-${batch}-${n}`,
    amountCents,
    currency: 'EUR',
    card,
    email: `customer${n}@example.com`,
  });
  return [
    order(1, 4_200, 'tok_visa'), // goes through, despite the flaky PSP
    order(2, 1_999, 'tok_visa'), // goes through too
    order(3, 7_500, 'tok_declined'), // declined at authorization: nothing to undo
    order(4, 12_000, 'tok_capture_fails'), // capture refused: the authorization is voided
    order(5, 3_300, 'tok_settlement_fails'), // settlement rejected: the capture is refunded
    order(6, 2_500_000, 'tok_visa'), // over the risk limit: rejected before the card is touched
  ];
}
