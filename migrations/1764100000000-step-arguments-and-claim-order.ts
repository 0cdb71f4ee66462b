// Adds steps.args_hash (replays compare a decorated step's arguments), rebuilds the claim index in
// the order the claim reads it (priority DESC, then age) so a claim walks it without sorting, and
// indexes finished runs by finish time for retention. Old workers keep working: the column is nullable.
import type { MigrationInterface, QueryRunner } from 'typeorm';
import { schemaOf } from './schema-of';

export class StepArgumentsAndClaimOrder1764100000000 implements MigrationInterface {
  name = 'StepArgumentsAndClaimOrder1764100000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const s = schemaOf(queryRunner);
    await queryRunner.query(`ALTER TABLE ${s}."steps" ADD "args_hash" text`);
    await queryRunner.query(`DROP INDEX ${s}."runs_claimable_idx"`);
    await queryRunner.query(
      `CREATE INDEX "runs_claimable_idx" ON ${s}."runs" ("queue", "priority" DESC, "available_at") WHERE status IN ('pending', 'waiting')`,
    );
    await queryRunner.query(
      `CREATE INDEX "runs_finished_idx" ON ${s}."runs" ("finished_at") WHERE status IN ('completed', 'failed', 'cancelled')`,
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    const s = schemaOf(queryRunner);
    await queryRunner.query(`DROP INDEX ${s}."runs_finished_idx"`);
    await queryRunner.query(`DROP INDEX ${s}."runs_claimable_idx"`);
    await queryRunner.query(
      `CREATE INDEX "runs_claimable_idx" ON ${s}."runs" ("queue", "priority", "available_at") WHERE status IN ('pending', 'waiting')`,
    );
    await queryRunner.query(`ALTER TABLE ${s}."steps" DROP COLUMN "args_hash"`);
  }
}
