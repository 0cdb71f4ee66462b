// The history of an order: one row per thing that happened to it, with the process that did it,
// so the redeploy and crash demos show which step ran where (and that none ran twice).
import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn } from 'typeorm';

@Entity({ name: 'order_events' })
export class OrderEvent {
  @PrimaryGeneratedColumn() seq!: number;
  @Column('text') orderId!: string;
  @Column('text') event!: string;
  @Column('int') pid!: number;
  @CreateDateColumn() at!: Date;
}
