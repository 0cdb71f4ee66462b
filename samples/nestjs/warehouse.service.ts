// Reserves stock for an order. A transactional step: the order's new status, its history row and
// the step's checkpoint commit together, or not at all.
import { Injectable } from '@nestjs/common';
import { Step, stepTransaction } from 'zart';
import { Order } from './order.entity';
import { OrderHistory } from './order-history.service';
import { simulatedLatency } from './simulated-latency';

@Injectable()
export class Warehouse {
  constructor(private readonly history: OrderHistory) {}

  @Step({ transaction: true })
  async reserveStock(orderId: string, item: string, quantity: number): Promise<void> {
    await simulatedLatency();
    const manager = stepTransaction();
    await manager.getRepository(Order).update({ id: orderId }, { status: 'reserved' });
    await this.history.record(orderId, `stock-reserved: ${quantity} x ${item}`, manager);
  }
}
