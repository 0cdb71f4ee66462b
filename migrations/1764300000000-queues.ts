// Queues with flow control, delayed starts and de-duplication: a run's partition key and
// de-duplication key, the index that counts a queue's running runs (per partition) for its
// concurrency limits, the unique index that refuses a second live run with one de-duplication key,
// and the log of starts that rate limits count. Old workers keep working (the columns are
// nullable), but they claim runs of limited queues without the limits: upgrade every worker that
// serves a limited queue before relying on its limits.
import type { MigrationInterface, QueryRunner } from 'typeorm';
import { schemaOf } from './schema-of';

export class Queues1764300000000 implements MigrationInterface {
  name = 'Queues1764300000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const s = schemaOf(queryRunner);
    await queryRunner.query(`ALTER TABLE ${s}."runs" ADD "partition_key" text`);
    await queryRunner.query(`ALTER TABLE ${s}."runs" ADD "deduplication_key" text`);
    await queryRunner.query(
      `CREATE INDEX "runs_queue_running_idx" ON ${s}."runs" ("queue", "partition_key") WHERE status = 'running'`,
    );
    await queryRunner.query(
      `CREATE UNIQUE INDEX "runs_deduplication_idx" ON ${s}."runs" ("workflow", "deduplication_key") ` +
        `WHERE deduplication_key IS NOT NULL AND status IN ('pending', 'running', 'waiting')`,
    );
    await queryRunner.query(`
CREATE TABLE ${s}."queue_starts" (
  "queue"      text NOT NULL,
  "started_at" TIMESTAMP WITH TIME ZONE NOT NULL,
  "run_id"     text NOT NULL,
  CONSTRAINT "queue_starts_pkey" PRIMARY KEY ("queue", "started_at", "run_id")
)`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    const s = schemaOf(queryRunner);
    await queryRunner.query(`DROP TABLE ${s}."queue_starts"`);
    await queryRunner.query(`DROP INDEX ${s}."runs_deduplication_idx"`);
    await queryRunner.query(`DROP INDEX ${s}."runs_queue_running_idx"`);
    await queryRunner.query(`ALTER TABLE ${s}."runs" DROP COLUMN "deduplication_key"`);
    await queryRunner.query(`ALTER TABLE ${s}."runs" DROP COLUMN "partition_key"`);
  }
}
