// One row per step call of a run: the checkpoint that replay returns instead of calling the step
// again. Open rows (a step between retry attempts, a wait) are updated until final; a final row
// (completed, failed) is never changed.
import { EntitySchema } from 'typeorm';
import type { RunEntity } from './run.entity';

/**
 * `completed` and `failed` are final outcomes of steps; `retrying` is a step between attempts
 * (`wake_at`: the next one); `sleeping` records a durable sleep's wake time; `waiting` is a wait
 * for an event (`wake_at`: its deadline, if any).
 */
export type StepStatus = 'completed' | 'failed' | 'retrying' | 'sleeping' | 'waiting';

/** A row of `steps`, as TypeORM reads it. */
export class StepCheckpointEntity {
  runId!: string;
  /** `name#n`: the n-th call of that step name within the run. */
  key!: string;
  /** Call order within the run. */
  seq!: number;
  name!: string;
  /** Hash of a decorated step's arguments: a replay with other arguments is non-deterministic. */
  argsHash!: string | null;
  /**
   * Whether a replay checks this call's position (`seq`): true when it was made with no other
   * durable call of the run in flight, ever before it; false once the run went concurrent; null in
   * histories written before positions were checked.
   */
  sequential!: boolean | null;
  /**
   * The order in which the run's calls completed (a final checkpoint's number, taken when it is
   * written): a replay delivers stored results in this order. Null on rows that are not final and
   * in histories written before completion order was recorded.
   */
  completionSeq!: number | null;
  status!: StepStatus;
  output!: unknown;
  error!: unknown;
  attempts!: number;
  wakeAt!: Date | null;
  startedAt!: Date;
  finishedAt!: Date;
  run?: RunEntity;
}

// An EntitySchema rather than decorators: see run.entity.ts.
export const stepCheckpointEntitySchema = new EntitySchema<StepCheckpointEntity>({
  name: 'StepCheckpointEntity',
  target: StepCheckpointEntity,
  tableName: 'steps',
  columns: {
    runId: { name: 'run_id', type: 'text', primary: true, primaryKeyConstraintName: 'steps_pkey' },
    key: { type: 'text', primary: true, primaryKeyConstraintName: 'steps_pkey' },
    seq: { type: 'integer' },
    name: { type: 'text' },
    argsHash: { name: 'args_hash', type: 'text', nullable: true },
    sequential: { type: 'boolean', nullable: true },
    completionSeq: { name: 'completion_seq', type: 'integer', nullable: true },
    status: { type: 'text' },
    output: { type: 'json', nullable: true },
    error: { type: 'json', nullable: true },
    attempts: { type: 'integer', default: 1 },
    wakeAt: { name: 'wake_at', type: 'timestamptz', nullable: true },
    startedAt: { name: 'started_at', type: 'timestamptz' },
    finishedAt: { name: 'finished_at', type: 'timestamptz', default: () => 'now()' },
  },
  relations: {
    // No foreign key: every checkpoint write takes its run_id from the fence (a FOR SHARE lock on
    // the run's row), which proves the run exists, and a key's check cost every insert 8 us. A
    // statement-level trigger on runs deletes a deleted run's checkpoints instead (migration
    // 1764700000000-checkpoints-without-foreign-key.ts).
    run: {
      type: 'many-to-one',
      target: 'RunEntity',
      createForeignKeyConstraints: false,
      joinColumn: { name: 'run_id' },
    },
  },
});
