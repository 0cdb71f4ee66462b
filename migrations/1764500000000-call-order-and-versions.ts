// Replay checks by call order: steps.sequential says whether a checkpoint's position (seq) is
// checked on replay (true), was made while other durable calls of its run were in flight (false),
// or predates this column (NULL: not checked, so histories written before keep replaying). Old
// workers keep working: the column is nullable and rows they write are simply not checked.
// workers.versions lists the code versions a worker replays (NULL: every run), so runs that no
// live worker serves can be found; old workers leave it NULL and count as serving every run.
import type { MigrationInterface, QueryRunner } from 'typeorm';
import { schemaOf } from './schema-of';

export class CallOrderAndVersions1764500000000 implements MigrationInterface {
  name = 'CallOrderAndVersions1764500000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const s = schemaOf(queryRunner);
    await queryRunner.query(`ALTER TABLE ${s}."steps" ADD "sequential" boolean`);
    await queryRunner.query(`ALTER TABLE ${s}."workers" ADD "versions" text array`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    const s = schemaOf(queryRunner);
    await queryRunner.query(`ALTER TABLE ${s}."workers" DROP COLUMN "versions"`);
    await queryRunner.query(`ALTER TABLE ${s}."steps" DROP COLUMN "sequential"`);
  }
}
