// Appends to an order's history (order_events) through the app's injected repository.
import { Injectable, Logger } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import type { EntityManager, Repository } from 'typeorm';
import { OrderEvent } from './order-event.entity';

@Injectable()
export class OrderHistory {
  private readonly logger = new Logger('Orders');

  constructor(@InjectRepository(OrderEvent) private readonly events: Repository<OrderEvent>) {}

  /** Records `event`; in `manager`'s transaction when given one (a transactional step). */
  async record(orderId: string, event: string, manager?: EntityManager): Promise<void> {
    const repository = manager ? manager.getRepository(OrderEvent) : this.events;
    await repository.insert({ orderId, event, pid: process.pid });
    this.logger.log(`${orderId}: ${event} (pid ${process.pid})`);
  }
}
