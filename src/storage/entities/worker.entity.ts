// Live worker processes: each writes its row at start and refreshes `heartbeat_at` with its leases.
import { Column, Entity, PrimaryColumn } from 'typeorm';

@Entity('workers')
export class WorkerEntity {
  @PrimaryColumn({ type: 'text', primaryKeyConstraintName: 'workers_pkey' })
  id!: string;

  @Column({ type: 'text' })
  host!: string;

  @Column({ type: 'integer' })
  pid!: number;

  /** The zart package version the worker runs. */
  @Column({ type: 'text' })
  version!: string;

  @Column({ name: 'started_at', type: 'timestamptz', default: () => 'now()' })
  startedAt!: Date;

  @Column({ name: 'heartbeat_at', type: 'timestamptz', default: () => 'now()' })
  heartbeatAt!: Date;
}
