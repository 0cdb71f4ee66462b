// Batched children (startChildren): runs.batch_key names the parent's checkpoint of the call that
// started the run, and a partial index holds the unfinished runs of each batch, so a finishing
// child finds out cheaply whether it is the last of its batch (the only one that wakes the parent).
// Old workers keep working: the column is nullable and they never start batches; a batch started
// by a new worker and finished by an old one still ends, by the parent's periodic recheck.
import type { MigrationInterface, QueryRunner } from 'typeorm';
import { schemaOf } from './schema-of';

export class ChildBatches1764630000000 implements MigrationInterface {
  name = 'ChildBatches1764630000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const s = schemaOf(queryRunner);
    await queryRunner.query(`ALTER TABLE ${s}."runs" ADD "batch_key" text`);
    await queryRunner.query(
      `CREATE INDEX "runs_batch_unfinished_idx" ON ${s}."runs" ("parent_id", "batch_key", "status") ` +
        `WHERE batch_key IS NOT NULL AND status IN ('pending', 'running', 'waiting')`,
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    const s = schemaOf(queryRunner);
    await queryRunner.query(`DROP INDEX ${s}."runs_batch_unfinished_idx"`);
    await queryRunner.query(`ALTER TABLE ${s}."runs" DROP COLUMN "batch_key"`);
  }
}
