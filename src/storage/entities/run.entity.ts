// One row per workflow run: its identity (the idempotency key), status, input/output and the lease
// of the worker that executes it. Table `<schema>.runs`; the schema comes from the DataSource.
import { EntitySchema } from 'typeorm';

/** Status of a run. `waiting` runs sleep or wait for an event and become claimable at `availableAt`. */
export type RunStatus = 'pending' | 'running' | 'waiting' | 'completed' | 'failed' | 'cancelled';

/** Every RunStatus, for checking input. */
export const runStatuses: readonly RunStatus[] = ['pending', 'running', 'waiting', 'completed', 'failed', 'cancelled'];

/** A row of `runs`, as TypeORM reads it. */
export class RunEntity {
  id!: string;
  workflow!: string;
  version!: string | null;
  status!: RunStatus;
  queue!: string;
  priority!: number;
  input!: unknown;
  output!: unknown;
  error!: unknown;
  attempt!: number;
  parentId!: string | null;
  leaseOwner!: string | null;
  /** Incremented by every claim; writes are fenced on (owner, epoch). */
  leaseEpoch!: number;
  leaseExpiresAt!: Date | null;
  availableAt!: Date;
  deadlineAt!: Date | null;
  /** Takeovers from a dead worker in a row without progress (see claim-runs.ts). */
  recoveries!: number;
  /** The run's checkpoint count plus attempts at its last takeover: unchanged means no progress. */
  progressMark!: string | null;
  waitingFor!: string | null;
  traceContext!: unknown;
  createdAt!: Date;
  updatedAt!: Date;
  startedAt!: Date | null;
  finishedAt!: Date | null;
  /** Runs of one queue with one key share the queue's `partitionConcurrency`. */
  partitionKey!: string | null;
  /** While a run with this key (of this workflow) is pending, running or waiting, no other starts. */
  deduplicationKey!: string | null;
  /** The tick's time for a run a schedule started, else null. */
  scheduledAt!: Date | null;
  /** For a child started by startChildren(): the parent's checkpoint key of that call, else null. */
  batchKey!: string | null;
}

// An EntitySchema rather than decorators: decorators would register the entity in TypeORM's global
// metadata storage, which belongs to the application (see entities/index.ts).
export const runEntitySchema = new EntitySchema<RunEntity>({
  name: 'RunEntity',
  target: RunEntity,
  tableName: 'runs',
  columns: {
    id: { type: 'text', primary: true, primaryKeyConstraintName: 'runs_pkey' },
    workflow: { type: 'text' },
    version: { type: 'text', nullable: true },
    status: { type: 'text' },
    queue: { type: 'text', default: 'default' },
    priority: { type: 'integer', default: 0 },
    input: { type: 'json', nullable: true },
    output: { type: 'json', nullable: true },
    error: { type: 'json', nullable: true },
    attempt: { type: 'integer', default: 1 },
    parentId: { name: 'parent_id', type: 'text', nullable: true },
    leaseOwner: { name: 'lease_owner', type: 'text', nullable: true },
    leaseEpoch: { name: 'lease_epoch', type: 'integer', default: 0 },
    leaseExpiresAt: { name: 'lease_expires_at', type: 'timestamptz', nullable: true },
    availableAt: { name: 'available_at', type: 'timestamptz', default: () => 'now()' },
    deadlineAt: { name: 'deadline_at', type: 'timestamptz', nullable: true },
    recoveries: { type: 'integer', default: 0 },
    progressMark: { name: 'progress_mark', type: 'bigint', nullable: true },
    waitingFor: { name: 'waiting_for', type: 'text', nullable: true },
    traceContext: { name: 'trace_context', type: 'json', nullable: true },
    createdAt: { name: 'created_at', type: 'timestamptz', default: () => 'now()' },
    updatedAt: { name: 'updated_at', type: 'timestamptz', default: () => 'now()' },
    startedAt: { name: 'started_at', type: 'timestamptz', nullable: true },
    finishedAt: { name: 'finished_at', type: 'timestamptz', nullable: true },
    partitionKey: { name: 'partition_key', type: 'text', nullable: true },
    deduplicationKey: { name: 'deduplication_key', type: 'text', nullable: true },
    scheduledAt: { name: 'scheduled_at', type: 'timestamptz', nullable: true },
    batchKey: { name: 'batch_key', type: 'text', nullable: true },
  },
  indices: [
    // The claim statement reads these two partial indexes (see storage/sql/claim-runs.ts): runs
    // that are due, and runs whose lease may have expired. Finished runs are in neither, so history
    // is free. runs_claimable_idx is (queue, priority DESC, available_at) WHERE status IN
    // ('pending', 'waiting'), which an index option cannot express: the migration owns it and
    // schema sync leaves it alone.
    { name: 'runs_claimable_idx', synchronize: false },
    { name: 'runs_leased_idx', columns: ['leaseExpiresAt'], where: `status = 'running'` },
    { name: 'runs_listing_idx', columns: ['workflow', 'createdAt'] },
    // Retention (deleteFinishedRuns) walks finished runs by finish time.
    { name: 'runs_finished_idx', columns: ['finishedAt'], where: `status IN ('completed', 'failed', 'cancelled')` },
    { name: 'runs_parent_idx', columns: ['parentId'], where: 'parent_id IS NOT NULL' },
    // The claim of a limited queue counts its running runs, per partition (storage/sql/claim-queue-runs.ts).
    { name: 'runs_queue_running_idx', columns: ['queue', 'partitionKey'], where: `status = 'running'` },
    // The unfinished children of each batch: a finishing child looks here for siblings left
    // (storage/sql/finish-runs.ts), and a parent parking on a batch for children left (wake-if-wait-over.ts).
    {
      name: 'runs_batch_unfinished_idx',
      columns: ['parentId', 'batchKey', 'status'],
      where: `batch_key IS NOT NULL AND status IN ('pending', 'running', 'waiting')`,
    },
    // At most one live run per (workflow, de-duplication key): races are settled by this index.
    {
      name: 'runs_deduplication_idx',
      columns: ['workflow', 'deduplicationKey'],
      unique: true,
      where: `deduplication_key IS NOT NULL AND status IN ('pending', 'running', 'waiting')`,
    },
  ],
});
