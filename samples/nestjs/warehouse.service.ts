// Reserves stock for an order. A transactional step: the repositories injected here join the
// step's transaction, so the order's new status, its history row and the step's checkpoint commit
// together, or not at all (an order larger than the stock rolls back both writes).
import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import type { Repository } from 'typeorm';
import { Step } from 'zart';
import { Order } from './order.entity';
import { OrderHistory } from './order-history.service';
import { simulatedLatency } from './simulated-latency';

/** Units of each item in stock: enough for the demo, not for an order of 100 teapots. */
const stock = 10;

/** An order asks for more than the stock; its reservation was rolled back. */
export class OutOfStockError extends Error {
  override readonly name = 'OutOfStockError';
}

@Injectable()
export class Warehouse {
  constructor(
    private readonly history: OrderHistory,
    @InjectRepository(Order) private readonly orders: Repository<Order>,
  ) {}

  @Step({ transaction: true })
  async reserveStock(orderId: string, item: string, quantity: number): Promise<void> {
    await simulatedLatency();
    await this.orders.update({ id: orderId }, { status: 'reserved' });
    await this.history.record(orderId, `stock-reserved: ${quantity} x ${item}`);
    // Checked after writing, to show the rollback: both writes above are undone with the step.
    if (quantity > stock) throw new OutOfStockError(`Only ${stock} x ${item} in stock, ${quantity} ordered.`);
  }
}
