// Counts how often in a row a run was taken over from a dead worker without making progress, so a
// step that kills its process every time (out of memory, a native crash) fails the run instead of
// taking down worker after worker forever. Old workers keep working: both columns have defaults.
import type { MigrationInterface, QueryRunner } from 'typeorm';
import { schemaOf } from './schema-of';

export class CrashRecoveries1764200000000 implements MigrationInterface {
  name = 'CrashRecoveries1764200000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const s = schemaOf(queryRunner);
    await queryRunner.query(`ALTER TABLE ${s}."runs" ADD "recoveries" integer NOT NULL DEFAULT 0`);
    await queryRunner.query(`ALTER TABLE ${s}."runs" ADD "progress_mark" bigint`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    const s = schemaOf(queryRunner);
    await queryRunner.query(`ALTER TABLE ${s}."runs" DROP COLUMN "progress_mark"`);
    await queryRunner.query(`ALTER TABLE ${s}."runs" DROP COLUMN "recoveries"`);
  }
}
