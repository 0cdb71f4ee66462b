// Appends to an order's history (order_events) through the app's injected repository, which joins
// the transaction of a transactional step that calls it.
import { Injectable, Logger } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import type { Repository } from 'typeorm';
import { OrderEvent } from './order-event.entity';

@Injectable()
export class OrderHistory {
  private readonly logger = new Logger('Orders');

  constructor(@InjectRepository(OrderEvent) private readonly events: Repository<OrderEvent>) {}

  /** Records `event`; inside a transactional step, in the step's transaction. */
  async record(orderId: string, event: string): Promise<void> {
    await this.events.insert({ orderId, event, pid: process.pid });
    this.logger.log(`${orderId}: ${event} (pid ${process.pid})`);
  }
}
