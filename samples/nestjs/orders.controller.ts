// The REST API of the sample: place an order (the order row and its fulfilment run are written in
// one transaction), read an order with its history and the run's status.
import { Body, Controller, Get, NotFoundException, Param, Post } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import { ZartClient } from 'zart';
import { FulfilOrder } from './fulfil-order.workflow';
import { OrderEvent } from './order-event.entity';
import { Order } from './order.entity';

/** The body of POST /orders. */
interface PlaceOrderBody {
  item: string;
  quantity: number;
}

const unitPriceCents = 1250;

@Controller('orders')
export class OrdersController {
  constructor(
    private readonly zart: ZartClient,
    @InjectDataSource() private readonly dataSource: DataSource,
  ) {}

  /** Places an order; its fulfilment runs in the background. 400 for a bad body (ZartExceptionFilter). */
  @Post()
  async place(@Body() body: PlaceOrderBody): Promise<{ id: string; run: string }> {
    const id = randomUUID().slice(0, 8);
    const run = `fulfil-${id}`;
    // The run exists if and only if the order does: both commit or neither.
    await this.dataSource.transaction(async (manager) => {
      await manager.insert(Order, {
        id,
        item: String(body.item),
        quantity: Number(body.quantity),
        amountCents: Number(body.quantity) * unitPriceCents,
        status: 'placed',
        trackingId: null,
      });
      await this.zart.startWorkflow(
        FulfilOrder,
        { orderId: id, item: body.item, quantity: body.quantity, amountCents: Number(body.quantity) * unitPriceCents },
        { id: run, manager },
      );
    });
    return { id, run };
  }

  /** The order, its history, and the status of its fulfilment run. */
  @Get(':id')
  async show(@Param('id') id: string): Promise<{ order: Order; history: string[]; run: string }> {
    const order = await this.dataSource.getRepository(Order).findOneBy({ id });
    if (!order) throw new NotFoundException(`No order ${id}.`);
    const events = await this.dataSource
      .getRepository(OrderEvent)
      .find({ where: { orderId: id }, order: { seq: 'ASC' } });
    const run = await this.zart.getRun(`fulfil-${id}`);
    return { order, history: events.map((event) => event.event), run: run.status };
  }
}
