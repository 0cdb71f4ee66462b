// A card payment: validate, authorize, capture, settle, record in the ledger, notify. When a PSP
// step fails for good, the steps before it are undone (a saga): a failed capture voids the
// authorization, a failed settlement refunds the capture.
import { StepFailedError, Workflow } from 'zart';
import { Ledger, PaymentGateway, PaymentRequest, Receipts, RiskCheck } from './payment-steps';

export type PaymentOutcome =
  | { status: 'settled'; settlement: string }
  | { status: 'rejected' | 'declined' | 'voided' | 'refunded'; reason: string };

@Workflow({ name: 'payment', input: PaymentRequest, timeout: '1h' })
export class Payment {
  constructor(
    private readonly risk: RiskCheck,
    private readonly gateway: PaymentGateway,
    private readonly ledger: Ledger,
    private readonly receipts: Receipts,
  ) {}

  async run(payment: PaymentRequest): Promise<PaymentOutcome> {
    const amount = `${(payment.amountCents / 100).toFixed(2)} ${payment.currency}`;
    const check = await this.risk.validate(payment);
    if (!check.approved) return this.end(payment, { status: 'rejected', reason: check.reason });

    try {
      await this.gateway.authorize(payment);
    } catch (error) {
      return this.end(payment, { status: 'declined', reason: reasonOf(error) });
    }

    try {
      await this.gateway.capture(payment);
    } catch (error) {
      await this.gateway.voidAuthorization(payment); // release the held money
      return this.end(payment, { status: 'voided', reason: reasonOf(error) });
    }

    let settlement: string;
    try {
      settlement = await this.gateway.settle(payment);
    } catch (error) {
      await this.gateway.refund(payment); // give the captured money back
      return this.end(payment, { status: 'refunded', reason: reasonOf(error) });
    }

    await this.ledger.record(payment, settlement);
    await this.receipts.send(payment.email, `Your payment of ${amount} for ${payment.orderId} went through`);
    return { status: 'settled', settlement };
  }

  private async end(payment: PaymentRequest, outcome: PaymentOutcome & { reason: string }): Promise<PaymentOutcome> {
    await this.receipts.send(
      payment.email,
      `Your payment for ${payment.orderId} did not go through: ${outcome.reason}`,
    );
    return outcome;
  }
}

// A step that failed for good arrives as StepFailedError, its cause the PSP's own error. Anything
// else (a bug, a lost lease) is not a payment outcome: let it fail or stop the run.
function reasonOf(error: unknown): string {
  if (!(error instanceof StepFailedError)) throw error;
  return error.cause instanceof Error ? error.cause.message : String(error.cause);
}
