// Hands the parcel to the carrier and returns its tracking id.
import { Injectable } from '@nestjs/common';
import { Step } from 'zart';
import { OrderHistory } from './order-history.service';
import { simulatedLatency } from './simulated-latency';

@Injectable()
export class Shipping {
  constructor(private readonly history: OrderHistory) {}

  @Step()
  async ship(orderId: string): Promise<{ trackingId: string }> {
    await simulatedLatency();
    const trackingId = `TRK-${orderId.toUpperCase()}`;
    await this.history.record(orderId, `shipped: ${trackingId}`);
    return { trackingId };
  }
}
