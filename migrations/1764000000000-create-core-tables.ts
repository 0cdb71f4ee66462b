// Creates runs, steps (checkpoints), events and workers. The schema name comes from the
// DataSource Zart builds (option `schema`, default `zart`). First migration: no old workers exist.
import type { MigrationInterface, QueryRunner } from 'typeorm';
import { schemaOf } from './schema-of';

export class CreateCoreTables1764000000000 implements MigrationInterface {
  name = 'CreateCoreTables1764000000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const s = schemaOf(queryRunner);
    await queryRunner.query(`
CREATE TABLE ${s}."runs" (
  "id"               text NOT NULL,
  "workflow"         text NOT NULL,
  "version"          text,
  "status"           text NOT NULL,
  "queue"            text NOT NULL DEFAULT 'default',
  "priority"         integer NOT NULL DEFAULT '0',
  "input"            json,
  "output"           json,
  "error"            json,
  "attempt"          integer NOT NULL DEFAULT '1',
  "parent_id"        text,
  "lease_owner"      text,
  "lease_epoch"      integer NOT NULL DEFAULT '0',
  "lease_expires_at" TIMESTAMP WITH TIME ZONE,
  "available_at"     TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
  "deadline_at"      TIMESTAMP WITH TIME ZONE,
  "waiting_for"      text,
  "trace_context"    json,
  "created_at"       TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
  "updated_at"       TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
  "started_at"       TIMESTAMP WITH TIME ZONE,
  "finished_at"      TIMESTAMP WITH TIME ZONE,
  CONSTRAINT "runs_pkey" PRIMARY KEY ("id")
)`);
    await queryRunner.query(
      `CREATE INDEX "runs_claimable_idx" ON ${s}."runs" ("queue", "priority", "available_at") WHERE status IN ('pending', 'waiting')`,
    );
    await queryRunner.query(
      `CREATE INDEX "runs_leased_idx" ON ${s}."runs" ("lease_expires_at") WHERE status = 'running'`,
    );
    await queryRunner.query(`CREATE INDEX "runs_listing_idx" ON ${s}."runs" ("workflow", "created_at")`);
    await queryRunner.query(`CREATE INDEX "runs_parent_idx" ON ${s}."runs" ("parent_id") WHERE parent_id IS NOT NULL`);

    await queryRunner.query(`
CREATE TABLE ${s}."steps" (
  "run_id"      text NOT NULL,
  "key"         text NOT NULL,
  "seq"         integer NOT NULL,
  "name"        text NOT NULL,
  "status"      text NOT NULL,
  "output"      json,
  "error"       json,
  "attempts"    integer NOT NULL DEFAULT '1',
  "wake_at"     TIMESTAMP WITH TIME ZONE,
  "started_at"  TIMESTAMP WITH TIME ZONE NOT NULL,
  "finished_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
  CONSTRAINT "steps_pkey" PRIMARY KEY ("run_id", "key"),
  CONSTRAINT "steps_run_fk" FOREIGN KEY ("run_id") REFERENCES ${s}."runs"("id") ON DELETE CASCADE ON UPDATE NO ACTION
)`);

    await queryRunner.query(`
CREATE TABLE ${s}."events" (
  "id"              BIGSERIAL NOT NULL,
  "run_id"          text NOT NULL,
  "name"            text NOT NULL,
  "payload"         json,
  "created_at"      TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
  "consumed_by_key" text,
  CONSTRAINT "events_pkey" PRIMARY KEY ("id"),
  CONSTRAINT "events_run_fk" FOREIGN KEY ("run_id") REFERENCES ${s}."runs"("id") ON DELETE CASCADE ON UPDATE NO ACTION
)`);
    await queryRunner.query(`CREATE INDEX "events_run_name_idx" ON ${s}."events" ("run_id", "name", "id")`);

    await queryRunner.query(`
CREATE TABLE ${s}."workers" (
  "id"           text NOT NULL,
  "host"         text NOT NULL,
  "pid"          integer NOT NULL,
  "version"      text NOT NULL,
  "started_at"   TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
  "heartbeat_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
  CONSTRAINT "workers_pkey" PRIMARY KEY ("id")
)`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    const s = schemaOf(queryRunner);
    await queryRunner.query(`DROP TABLE ${s}."workers"`);
    await queryRunner.query(`DROP TABLE ${s}."events"`);
    await queryRunner.query(`DROP TABLE ${s}."steps"`);
    await queryRunner.query(`DROP TABLE ${s}."runs"`);
  }
}
