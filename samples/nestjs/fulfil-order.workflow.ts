// Fulfils an order: reserve stock (or reject the order), charge, ship, then mark the order shipped.
// Each call on an injected service is a checkpointed step; after a redeploy or a crash the run
// resumes where it was.
import { InjectRepository } from '@nestjs/typeorm';
import { IsInt, IsPositive, IsString } from 'class-validator';
import type { Repository } from 'typeorm';
import { StepFailedError, Workflow, step } from 'zart';
import { Order } from './order.entity';
import { OrderHistory } from './order-history.service';
import { Payments } from './payments.service';
import { Shipping } from './shipping.service';
import { Warehouse } from './warehouse.service';

export class FulfilOrderInput {
  @IsString() orderId!: string;
  @IsString() item!: string;
  @IsInt() @IsPositive() quantity!: number;
  @IsInt() @IsPositive() amountCents!: number;
}

@Workflow({ name: 'fulfil-order', input: FulfilOrderInput })
export class FulfilOrder {
  constructor(
    private readonly warehouse: Warehouse,
    private readonly payments: Payments,
    private readonly shipping: Shipping,
    private readonly history: OrderHistory,
    @InjectRepository(Order) private readonly orders: Repository<Order>,
  ) {}

  async run(input: FulfilOrderInput): Promise<{ chargeId: string; trackingId: string } | { rejected: string }> {
    try {
      await this.warehouse.reserveStock(input.orderId, input.item, input.quantity);
    } catch (error) {
      // Not retried: the reservation rolled back, nothing was charged; the order is rejected.
      if (!(error instanceof StepFailedError)) throw error;
      const reason = error.cause instanceof Error ? error.cause.message : String(error.cause);
      await step('mark-rejected', async () => {
        await this.orders.update({ id: input.orderId }, { status: 'rejected' });
        await this.history.record(input.orderId, `rejected: ${reason}`);
      });
      return { rejected: reason };
    }
    const { chargeId } = await this.payments.charge(input.orderId, input.amountCents);
    await step('mark-paid', async () => {
      await this.orders.update({ id: input.orderId }, { status: 'paid' });
    });
    const { trackingId } = await this.shipping.ship(input.orderId);
    await step('mark-shipped', async () => {
      await this.orders.update({ id: input.orderId }, { status: 'shipped', trackingId });
      await this.history.record(input.orderId, 'order complete');
    });
    return { chargeId, trackingId };
  }
}
