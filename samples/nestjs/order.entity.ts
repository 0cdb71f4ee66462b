// An order of the sample shop, a plain @nestjs/typeorm entity in the app's own schema.
import { Column, CreateDateColumn, Entity, PrimaryColumn } from 'typeorm';

export type OrderStatus = 'placed' | 'reserved' | 'paid' | 'shipped' | 'rejected';

@Entity({ name: 'orders' })
export class Order {
  @PrimaryColumn('text') id!: string;
  @Column('text') item!: string;
  @Column('int') quantity!: number;
  @Column('int') amountCents!: number;
  @Column('text') status!: OrderStatus;
  @Column('text', { nullable: true }) trackingId!: string | null;
  @CreateDateColumn() createdAt!: Date;
}
