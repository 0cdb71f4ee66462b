// A simulated payment service provider (PSP), flaky the way real ones are: now and then a request
// fails (503) or times out after the money moved. Like real PSPs it honours idempotency keys: a
// repeated request with the same key returns the first answer and moves no money again.
// Seeded: whether a request fails depends on the seed, the request and how often its idempotency
// key was sent, never on timing or run ids, so a given seed tells the same story on every run
// (unless the machine is so loaded that a quick answer outlasts the step's timeout).
import { createHash } from 'node:crypto';
import { setTimeout as delay } from 'node:timers/promises';

/** The PSP is down for a moment: nothing happened, the request can be sent again. */
export class ProviderUnavailableError extends Error {
  override readonly name = 'ProviderUnavailableError';
}

/** The PSP said no for good (card declined, settlement rejected): sending it again will not help. */
export class PaymentRejectedError extends Error {
  override readonly name = 'PaymentRejectedError';
}

export type Operation = 'authorize' | 'capture' | 'settle' | 'void' | 'refund';

/** One request the PSP received, and what it answered. */
export interface ProviderCall {
  operation: Operation;
  idempotencyKey: string;
  outcome: 'ok' | 'replayed' | 'unavailable' | 'timed out' | 'rejected';
}

/** Money that moved (or was released) at the PSP: one per successful operation, never two. */
export interface ProviderEffect {
  operation: Operation;
  idempotencyKey: string;
  reference: string;
  amountCents: number;
}

export interface ProviderOptions {
  seed: number;
  /** Share of requests answered 503 before anything happens. Default 0.25. */
  unavailableRate?: number;
  /** Share of requests whose effect happens but whose answer never arrives. Default 0.1. */
  timeoutRate?: number;
  /** Prints each request as it is answered. */
  log?: (line: string) => void;
}

// Test card tokens, as PSPs have them, that make one operation fail for good.
const rejections: Record<string, { operation: Operation; reason: string }> = {
  tok_declined: { operation: 'authorize', reason: 'card declined: insufficient funds' },
  tok_capture_fails: { operation: 'capture', reason: 'capture refused: authorization expired' },
  tok_settlement_fails: { operation: 'settle', reason: 'settlement rejected: merchant account frozen' },
};

export class SimulatedPaymentProvider {
  readonly calls: ProviderCall[] = [];
  readonly effects: ProviderEffect[] = [];
  // The PSP's idempotency store: the first answer to each key.
  private readonly answers = new Map<string, { reference: string } | PaymentRejectedError>();
  private readonly sent = new Map<string, number>();

  constructor(private readonly options: ProviderOptions) {}

  authorize(card: string, amountCents: number, key: string, signal: AbortSignal): Promise<{ reference: string }> {
    return this.request('authorize', card, amountCents, key, signal);
  }

  capture(card: string, amountCents: number, key: string, signal: AbortSignal): Promise<{ reference: string }> {
    return this.request('capture', card, amountCents, key, signal);
  }

  settle(card: string, amountCents: number, key: string, signal: AbortSignal): Promise<{ reference: string }> {
    return this.request('settle', card, amountCents, key, signal);
  }

  void(card: string, amountCents: number, key: string, signal: AbortSignal): Promise<{ reference: string }> {
    return this.request('void', card, amountCents, key, signal);
  }

  refund(card: string, amountCents: number, key: string, signal: AbortSignal): Promise<{ reference: string }> {
    return this.request('refund', card, amountCents, key, signal);
  }

  private async request(
    operation: Operation,
    card: string,
    amountCents: number,
    idempotencyKey: string,
    signal: AbortSignal,
  ): Promise<{ reference: string }> {
    const attempt = (this.sent.get(idempotencyKey) ?? 0) + 1;
    this.sent.set(idempotencyKey, attempt);
    const roll = this.roll(`${operation}:${card}:${amountCents}`, attempt);
    const answer = (outcome: ProviderCall['outcome'], detail = ''): void => {
      this.calls.push({ operation, idempotencyKey, outcome });
      this.options.log?.(`PSP ${operation} ${amountCents} cents (key ${idempotencyKey}): ${outcome}${detail}`);
    };
    await delay(10, undefined, { signal });

    const earlier = this.answers.get(idempotencyKey);
    if (earlier !== undefined) {
      answer('replayed', ', the first answer again, no money moved');
      if (earlier instanceof PaymentRejectedError) throw earlier;
      return earlier;
    }
    const unavailableRate = this.options.unavailableRate ?? 0.25;
    if (roll < unavailableRate) {
      answer('unavailable');
      throw new ProviderUnavailableError(`PSP unavailable (503) for ${operation}`);
    }
    const rejection = rejections[card];
    if (rejection?.operation === operation) {
      const error = new PaymentRejectedError(rejection.reason);
      this.answers.set(idempotencyKey, error);
      answer('rejected', `: ${rejection.reason}`);
      throw error;
    }
    const result = {
      reference: `${operation}_${createHash('sha256').update(idempotencyKey).digest('hex').slice(0, 10)}`,
    };
    this.answers.set(idempotencyKey, result);
    this.effects.push({ operation, idempotencyKey, reference: result.reference, amountCents });
    if (roll < unavailableRate + (this.options.timeoutRate ?? 0.1)) {
      // The money moved, but the answer is lost: the caller only sees its own timeout fire.
      answer('timed out', ' after the money moved');
      await new Promise((_, reject) => signal.addEventListener('abort', () => reject(signal.reason as Error)));
    }
    answer('ok', ` (${result.reference})`);
    return result;
  }

  // A number in [0, 1) from the seed, the request and the attempt: the same on every run.
  private roll(request: string, attempt: number): number {
    const digest = createHash('sha256').update(`${this.options.seed}:${request}:${attempt}`).digest();
    return digest.readUInt32BE(0) / 2 ** 32;
  }
}
