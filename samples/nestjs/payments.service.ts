// Charges the customer. A payment provider would take currentStep().idempotencyKey, stable across
// retries and replays, so that a charge repeated after a crash is not taken twice.
import { createHash } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { Step, currentStep } from 'zart';
import { OrderHistory } from './order-history.service';
import { simulatedLatency } from './simulated-latency';

@Injectable()
export class Payments {
  constructor(private readonly history: OrderHistory) {}

  @Step({ retry: { maxAttempts: 5, backoff: 'exponential', initialDelay: '1s' } })
  async charge(orderId: string, amountCents: number): Promise<{ chargeId: string }> {
    await simulatedLatency();
    const key = currentStep().idempotencyKey;
    const chargeId = `ch_${createHash('sha256').update(key).digest('hex').slice(0, 12)}`;
    await this.history.record(orderId, `charged: ${amountCents} cents (${chargeId})`);
    return { chargeId };
  }
}
