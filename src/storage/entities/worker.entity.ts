// Live worker processes: each writes its row at start and refreshes `heartbeat_at` with its leases.
import { EntitySchema } from 'typeorm';

/** A row of `workers`, as TypeORM reads it. */
export class WorkerEntity {
  id!: string;
  host!: string;
  pid!: number;
  /** The zart package version the worker runs. */
  version!: string;
  /** The code versions whose runs it claims; null: every run. */
  versions!: string[] | null;
  startedAt!: Date;
  heartbeatAt!: Date;
}

// An EntitySchema rather than decorators: see run.entity.ts.
export const workerEntitySchema = new EntitySchema<WorkerEntity>({
  name: 'WorkerEntity',
  target: WorkerEntity,
  tableName: 'workers',
  columns: {
    id: { type: 'text', primary: true, primaryKeyConstraintName: 'workers_pkey' },
    host: { type: 'text' },
    pid: { type: 'integer' },
    version: { type: 'text' },
    versions: { type: 'text', array: true, nullable: true },
    startedAt: { name: 'started_at', type: 'timestamptz', default: () => 'now()' },
    heartbeatAt: { name: 'heartbeat_at', type: 'timestamptz', default: () => 'now()' },
  },
});
