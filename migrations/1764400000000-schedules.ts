// Cron schedules: one row per schedule, whose next_tick_at is advanced in the same transaction that
// inserts the tick's run, so any number of processes fire each tick once. Runs started by a tick
// carry its time in scheduled_at (now() and currentRun().scheduledAt in the run return it).
import type { MigrationInterface, QueryRunner } from 'typeorm';
import { schemaOf } from './schema-of';

export class Schedules1764400000000 implements MigrationInterface {
  name = 'Schedules1764400000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const s = schemaOf(queryRunner);
    await queryRunner.query(`
      CREATE TABLE ${s}."schedules" (
        "name" text NOT NULL,
        "workflow" text NOT NULL,
        "cron" text NOT NULL,
        "timezone" text NOT NULL DEFAULT 'UTC',
        "input" json,
        "overlap" text NOT NULL DEFAULT 'skip',
        "catch_up" text NOT NULL DEFAULT 'latest',
        "max_catch_up" integer NOT NULL DEFAULT 100,
        "declared_by" text NOT NULL DEFAULT 'api',
        "paused" boolean NOT NULL DEFAULT false,
        "next_tick_at" timestamptz NOT NULL,
        "last_tick_at" timestamptz,
        "last_run_id" text,
        "buffered_tick_at" timestamptz,
        "created_at" timestamptz NOT NULL DEFAULT now(),
        "updated_at" timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT "schedules_pkey" PRIMARY KEY ("name")
      )`);
    // The tickers' one question between ticks: when is the next tick of an active schedule.
    await queryRunner.query(
      `CREATE INDEX "schedules_next_tick_idx" ON ${s}."schedules" ("next_tick_at") WHERE paused = false`,
    );
    await queryRunner.query(`ALTER TABLE ${s}."runs" ADD "scheduled_at" timestamptz`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    const s = schemaOf(queryRunner);
    await queryRunner.query(`ALTER TABLE ${s}."runs" DROP COLUMN "scheduled_at"`);
    await queryRunner.query(`DROP TABLE ${s}."schedules"`);
  }
}
