// Events sent to a run (`sendEvent`), buffered until a `waitForEvent` of the same name consumes
// them in order; `consumed_by_key` records which wait took each one, exactly once.
import { Column, Entity, Index, JoinColumn, ManyToOne, PrimaryGeneratedColumn } from 'typeorm';
import { RunEntity } from './run.entity';

@Entity('events')
@Index('events_run_name_idx', ['runId', 'name', 'id'])
export class EventEntity {
  @PrimaryGeneratedColumn({ type: 'bigint', primaryKeyConstraintName: 'events_pkey' })
  id!: string;

  @Column({ name: 'run_id', type: 'text' })
  runId!: string;

  @Column({ type: 'text' })
  name!: string;

  @Column({ type: 'json', nullable: true })
  payload!: unknown;

  @Column({ name: 'created_at', type: 'timestamptz', default: () => 'now()' })
  createdAt!: Date;

  @Column({ name: 'consumed_by_key', type: 'text', nullable: true })
  consumedByKey!: string | null;

  @ManyToOne(() => RunEntity, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'run_id', foreignKeyConstraintName: 'events_run_fk' })
  run?: RunEntity;
}
