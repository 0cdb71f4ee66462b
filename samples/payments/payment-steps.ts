// The steps of a payment: a risk check, the PSP calls, the ledger write and the receipt. Each PSP
// call carries the step's idempotency key, which stays the same across retries and replays, so a
// retry after a timeout cannot charge twice.
import { IsEmail, IsIn, IsInt, IsNotEmpty, IsPositive, IsString } from 'class-validator';
import { Step, currentStep, stepTransaction, type RetryPolicy } from 'zart';
import { PaymentRejectedError, type SimulatedPaymentProvider } from './payment-provider';

/** What the shop sends; checked with class-validator before a run is written (ValidationError). */
export class PaymentRequest {
  @IsString() @IsNotEmpty() orderId!: string;
  @IsInt() @IsPositive() amountCents!: number;
  @IsIn(['EUR', 'USD']) currency!: string;
  /** A card token from the PSP's checkout form (see the test tokens in payment-provider.ts). */
  @IsString() @IsNotEmpty() card!: string;
  @IsEmail() email!: string;
}

// Retry what may pass next time (503s, our own timeouts), never a rejection: a declined card stays
// declined. Each attempt waits longer, and the attempts are persisted: a crash does not reset them.
const pspRetry: RetryPolicy = {
  maxAttempts: 8,
  backoff: 'exponential',
  initialDelay: '50ms',
  maxDelay: '1s',
  retryIf: (error) => !(error instanceof PaymentRejectedError),
};
// A PSP that has not answered in 500 ms will not: give up on the attempt (and abort its request).
const pspCall = { retry: pspRetry, timeout: '500ms' } as const;

export class RiskCheck {
  // Above this, a payment needs a human: the workflow rejects it before touching the card.
  static readonly limitCents = 1_000_000;

  @Step()
  async validate(payment: PaymentRequest): Promise<{ approved: boolean; reason: string }> {
    if (payment.amountCents > RiskCheck.limitCents) {
      return { approved: false, reason: `amount over the ${RiskCheck.limitCents / 100} ${payment.currency} limit` };
    }
    return { approved: true, reason: 'within limits' };
  }
}

export class PaymentGateway {
  constructor(private readonly psp: SimulatedPaymentProvider) {}

  @Step(pspCall)
  async authorize(payment: PaymentRequest): Promise<string> {
    const { idempotencyKey, signal } = currentStep();
    return (await this.psp.authorize(payment.card, payment.amountCents, idempotencyKey, signal)).reference;
  }

  @Step(pspCall)
  async capture(payment: PaymentRequest): Promise<string> {
    const { idempotencyKey, signal } = currentStep();
    return (await this.psp.capture(payment.card, payment.amountCents, idempotencyKey, signal)).reference;
  }

  @Step(pspCall)
  async settle(payment: PaymentRequest): Promise<string> {
    const { idempotencyKey, signal } = currentStep();
    return (await this.psp.settle(payment.card, payment.amountCents, idempotencyKey, signal)).reference;
  }

  // Compensations get more attempts: giving up here leaves money held, so they must get through.
  @Step({ ...pspCall, retry: { ...pspRetry, maxAttempts: 20 } })
  async voidAuthorization(payment: PaymentRequest): Promise<string> {
    const { idempotencyKey, signal } = currentStep();
    return (await this.psp.void(payment.card, payment.amountCents, idempotencyKey, signal)).reference;
  }

  @Step({ ...pspCall, retry: { ...pspRetry, maxAttempts: 20 } })
  async refund(payment: PaymentRequest): Promise<string> {
    const { idempotencyKey, signal } = currentStep();
    return (await this.psp.refund(payment.card, payment.amountCents, idempotencyKey, signal)).reference;
  }
}

// The shop's ledger: double entry, one pair of rows per settled payment.
export const createLedgerTable = `
CREATE TABLE IF NOT EXISTS payments_ledger (
  id           serial PRIMARY KEY,
  order_id     text NOT NULL,
  account      text NOT NULL,
  amount_cents integer NOT NULL,
  reference    text NOT NULL
)`;

export class Ledger {
  // A transactional step: the two rows and the step's checkpoint commit together. If the process
  // dies before the commit, neither exists and the step runs again; after it, never again.
  @Step({ transaction: true })
  async record(payment: PaymentRequest, settlement: string): Promise<void> {
    await stepTransaction().query(
      `INSERT INTO payments_ledger (order_id, account, amount_cents, reference)
       VALUES ($1, $2, $3, $5), ($1, 'merchant', $4, $5)`,
      [payment.orderId, `customer:${payment.email}`, -payment.amountCents, payment.amountCents, settlement],
    );
  }
}

export class Receipts {
  /** What was sent, for the sample's summary. */
  readonly sent: Array<{ to: string; subject: string; idempotencyKey: string }> = [];

  constructor(private readonly log: (line: string) => void = () => undefined) {}

  // At least once, like any call outside the database: a mail API would drop a repeat by its key.
  @Step({ retry: { maxAttempts: 3, initialDelay: '50ms' } })
  async send(to: string, subject: string): Promise<void> {
    const { idempotencyKey } = currentStep();
    this.sent.push({ to, subject, idempotencyKey });
    this.log(`mail to ${to}: "${subject}"`);
  }
}
