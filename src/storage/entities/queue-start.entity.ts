// The log of first starts in rate-limited queues: the claim counts a queue's rows of the last
// period and prunes older ones (storage/sql/claim-queue-runs.ts). Unlimited queues write nothing.
import { EntitySchema } from 'typeorm';

/** A row of `queue_starts`, as TypeORM reads it. */
export class QueueStartEntity {
  queue!: string;
  startedAt!: Date;
  runId!: string;
}

// An EntitySchema rather than decorators: see run.entity.ts.
export const queueStartEntitySchema = new EntitySchema<QueueStartEntity>({
  name: 'QueueStartEntity',
  target: QueueStartEntity,
  tableName: 'queue_starts',
  columns: {
    queue: { type: 'text', primary: true, primaryKeyConstraintName: 'queue_starts_pkey' },
    startedAt: {
      name: 'started_at',
      type: 'timestamptz',
      primary: true,
      primaryKeyConstraintName: 'queue_starts_pkey',
    },
    runId: { name: 'run_id', type: 'text', primary: true, primaryKeyConstraintName: 'queue_starts_pkey' },
  },
});
