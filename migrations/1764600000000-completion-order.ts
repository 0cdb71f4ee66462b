// Replay in completion order: steps.completion_seq numbers the order in which a run's calls
// completed (a final checkpoint takes the next number when it is written), so a replay delivers
// stored results in that order and the calls that concurrent branches make next get the same keys
// and positions as the first time (engine/completion-order.ts). NULL: written before this column
// (or by an older worker), or not final; a history with a final row without a number replays by
// key as before. Old workers keep working: the column is nullable and they leave it NULL.
import type { MigrationInterface, QueryRunner } from 'typeorm';
import { schemaOf } from './schema-of';

export class CompletionOrder1764600000000 implements MigrationInterface {
  name = 'CompletionOrder1764600000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const s = schemaOf(queryRunner);
    await queryRunner.query(`ALTER TABLE ${s}."steps" ADD "completion_seq" integer`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    const s = schemaOf(queryRunner);
    await queryRunner.query(`ALTER TABLE ${s}."steps" DROP COLUMN "completion_seq"`);
  }
}
