// Events sent to a run (`sendEvent`), buffered until a `waitForEvent` of the same name consumes
// them in order; `consumed_by_key` records which wait took each one, exactly once.
import { EntitySchema } from 'typeorm';
import type { RunEntity } from './run.entity';

/** A row of `events`, as TypeORM reads it. */
export class EventEntity {
  id!: string;
  runId!: string;
  name!: string;
  payload!: unknown;
  createdAt!: Date;
  consumedByKey!: string | null;
  run?: RunEntity;
}

// An EntitySchema rather than decorators: see run.entity.ts.
export const eventEntitySchema = new EntitySchema<EventEntity>({
  name: 'EventEntity',
  target: EventEntity,
  tableName: 'events',
  columns: {
    id: { type: 'bigint', primary: true, generated: 'increment', primaryKeyConstraintName: 'events_pkey' },
    runId: { name: 'run_id', type: 'text' },
    name: { type: 'text' },
    payload: { type: 'json', nullable: true },
    createdAt: { name: 'created_at', type: 'timestamptz', default: () => 'now()' },
    consumedByKey: { name: 'consumed_by_key', type: 'text', nullable: true },
  },
  indices: [{ name: 'events_run_name_idx', columns: ['runId', 'name', 'id'] }],
  relations: {
    run: {
      type: 'many-to-one',
      target: 'RunEntity',
      onDelete: 'CASCADE',
      joinColumn: { name: 'run_id', foreignKeyConstraintName: 'events_run_fk' },
    },
  },
});
