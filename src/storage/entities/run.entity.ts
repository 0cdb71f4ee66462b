// One row per workflow run: its identity (the idempotency key), status, input/output and the lease
// of the worker that executes it. Table `<schema>.runs`; the schema comes from the DataSource.
import { Column, Entity, Index, PrimaryColumn } from 'typeorm';

/** Status of a run. `waiting` runs sleep or wait for an event and become claimable at `availableAt`. */
export type RunStatus = 'pending' | 'running' | 'waiting' | 'completed' | 'failed' | 'cancelled';

/** Every RunStatus, for checking input. */
export const runStatuses: readonly RunStatus[] = ['pending', 'running', 'waiting', 'completed', 'failed', 'cancelled'];

@Entity('runs')
// The claim statement reads these two partial indexes (see storage/sql/claim-runs.ts): runs that are
// due, and runs whose lease may have expired. Finished runs are in neither, so history is free.
// runs_claimable_idx is (queue, priority DESC, available_at) WHERE status IN ('pending', 'waiting'),
// which @Index cannot express: the migration owns it and schema sync leaves it alone.
@Index('runs_claimable_idx', { synchronize: false })
@Index('runs_leased_idx', ['leaseExpiresAt'], { where: `status = 'running'` })
@Index('runs_listing_idx', ['workflow', 'createdAt'])
// Retention (deleteFinishedRuns) walks finished runs by finish time.
@Index('runs_finished_idx', ['finishedAt'], { where: `status IN ('completed', 'failed', 'cancelled')` })
@Index('runs_parent_idx', ['parentId'], { where: 'parent_id IS NOT NULL' })
export class RunEntity {
  @PrimaryColumn({ type: 'text', primaryKeyConstraintName: 'runs_pkey' })
  id!: string;

  @Column({ type: 'text' })
  workflow!: string;

  @Column({ type: 'text', nullable: true })
  version!: string | null;

  @Column({ type: 'text' })
  status!: RunStatus;

  @Column({ type: 'text', default: 'default' })
  queue!: string;

  @Column({ type: 'integer', default: 0 })
  priority!: number;

  @Column({ type: 'json', nullable: true })
  input!: unknown;

  @Column({ type: 'json', nullable: true })
  output!: unknown;

  @Column({ type: 'json', nullable: true })
  error!: unknown;

  @Column({ type: 'integer', default: 1 })
  attempt!: number;

  @Column({ name: 'parent_id', type: 'text', nullable: true })
  parentId!: string | null;

  @Column({ name: 'lease_owner', type: 'text', nullable: true })
  leaseOwner!: string | null;

  /** Incremented by every claim; writes are fenced on (owner, epoch). */
  @Column({ name: 'lease_epoch', type: 'integer', default: 0 })
  leaseEpoch!: number;

  @Column({ name: 'lease_expires_at', type: 'timestamptz', nullable: true })
  leaseExpiresAt!: Date | null;

  @Column({ name: 'available_at', type: 'timestamptz', default: () => 'now()' })
  availableAt!: Date;

  @Column({ name: 'deadline_at', type: 'timestamptz', nullable: true })
  deadlineAt!: Date | null;

  /** Takeovers from a dead worker in a row without progress (see claim-runs.ts). */
  @Column({ type: 'integer', default: 0 })
  recoveries!: number;

  /** The run's checkpoint count plus attempts at its last takeover: unchanged means no progress. */
  @Column({ name: 'progress_mark', type: 'bigint', nullable: true })
  progressMark!: string | null;

  @Column({ name: 'waiting_for', type: 'text', nullable: true })
  waitingFor!: string | null;

  @Column({ name: 'trace_context', type: 'json', nullable: true })
  traceContext!: unknown;

  @Column({ name: 'created_at', type: 'timestamptz', default: () => 'now()' })
  createdAt!: Date;

  @Column({ name: 'updated_at', type: 'timestamptz', default: () => 'now()' })
  updatedAt!: Date;

  @Column({ name: 'started_at', type: 'timestamptz', nullable: true })
  startedAt!: Date | null;

  @Column({ name: 'finished_at', type: 'timestamptz', nullable: true })
  finishedAt!: Date | null;
}
