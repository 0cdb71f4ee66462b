// One row per cron schedule (table `<schema>.schedules`): what to start, when the next tick is due,
// and what its overlap policy needs to know about the last run it started.
import { EntitySchema } from 'typeorm';

/** A row of `schedules`, as TypeORM reads it. */
export class ScheduleEntity {
  name!: string;
  workflow!: string;
  cron!: string;
  timezone!: string;
  input!: unknown;
  overlap!: string;
  catchUp!: string;
  /** catchUp 'all': at most this many missed ticks (the latest ones) are run. */
  maxCatchUp!: number;
  /** `decorator` for @Schedule (kept in step with the code at start()), `api` for schedule(). */
  declaredBy!: string;
  paused!: boolean;
  /** The first tick not yet fired (or skipped); tickers sleep until the earliest of these. */
  nextTickAt!: Date;
  lastTickAt!: Date | null;
  lastRunId!: string | null;
  /** overlap 'bufferOne': the tick held back until the last run has finished. */
  bufferedTickAt!: Date | null;
  createdAt!: Date;
  updatedAt!: Date;
}

// An EntitySchema rather than decorators: see run.entity.ts.
export const scheduleEntitySchema = new EntitySchema<ScheduleEntity>({
  name: 'ScheduleEntity',
  target: ScheduleEntity,
  tableName: 'schedules',
  columns: {
    name: { type: 'text', primary: true, primaryKeyConstraintName: 'schedules_pkey' },
    workflow: { type: 'text' },
    cron: { type: 'text' },
    timezone: { type: 'text', default: 'UTC' },
    input: { type: 'json', nullable: true },
    overlap: { type: 'text', default: 'skip' },
    catchUp: { name: 'catch_up', type: 'text', default: 'latest' },
    maxCatchUp: { name: 'max_catch_up', type: 'integer', default: 100 },
    declaredBy: { name: 'declared_by', type: 'text', default: 'api' },
    paused: { type: 'boolean', default: false },
    nextTickAt: { name: 'next_tick_at', type: 'timestamptz' },
    lastTickAt: { name: 'last_tick_at', type: 'timestamptz', nullable: true },
    lastRunId: { name: 'last_run_id', type: 'text', nullable: true },
    bufferedTickAt: { name: 'buffered_tick_at', type: 'timestamptz', nullable: true },
    createdAt: { name: 'created_at', type: 'timestamptz', default: () => 'now()' },
    updatedAt: { name: 'updated_at', type: 'timestamptz', default: () => 'now()' },
  },
  indices: [{ name: 'schedules_next_tick_idx', columns: ['nextTickAt'], where: 'paused = false' }],
});
