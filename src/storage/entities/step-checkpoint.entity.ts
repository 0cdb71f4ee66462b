// One row per step call of a run: the checkpoint that replay returns instead of calling the step
// again. Open rows (a step between retry attempts, a wait) are updated until final; a final row
// (completed, failed) is never changed.
import { Column, Entity, JoinColumn, ManyToOne, PrimaryColumn } from 'typeorm';
import { RunEntity } from './run.entity';

/**
 * `completed` and `failed` are final outcomes of steps; `retrying` is a step between attempts
 * (`wake_at`: the next one); `sleeping` records a durable sleep's wake time; `waiting` is a wait
 * for an event (`wake_at`: its deadline, if any).
 */
export type StepStatus = 'completed' | 'failed' | 'retrying' | 'sleeping' | 'waiting';

@Entity('steps')
export class StepCheckpointEntity {
  @PrimaryColumn({ name: 'run_id', type: 'text', primaryKeyConstraintName: 'steps_pkey' })
  runId!: string;

  /** `name#n`: the n-th call of that step name within the run. */
  @PrimaryColumn({ type: 'text', primaryKeyConstraintName: 'steps_pkey' })
  key!: string;

  /** Call order within the run. */
  @Column({ type: 'integer' })
  seq!: number;

  @Column({ type: 'text' })
  name!: string;

  /** Hash of a decorated step's arguments: a replay with other arguments is non-deterministic. */
  @Column({ name: 'args_hash', type: 'text', nullable: true })
  argsHash!: string | null;

  @Column({ type: 'text' })
  status!: StepStatus;

  @Column({ type: 'json', nullable: true })
  output!: unknown;

  @Column({ type: 'json', nullable: true })
  error!: unknown;

  @Column({ type: 'integer', default: 1 })
  attempts!: number;

  @Column({ name: 'wake_at', type: 'timestamptz', nullable: true })
  wakeAt!: Date | null;

  @Column({ name: 'started_at', type: 'timestamptz' })
  startedAt!: Date;

  @Column({ name: 'finished_at', type: 'timestamptz', default: () => 'now()' })
  finishedAt!: Date;

  // Deleting a run (retention) deletes its checkpoints.
  @ManyToOne(() => RunEntity, { onDelete: 'CASCADE', createForeignKeyConstraints: true })
  @JoinColumn({ name: 'run_id', foreignKeyConstraintName: 'steps_run_fk' })
  run?: RunEntity;
}
