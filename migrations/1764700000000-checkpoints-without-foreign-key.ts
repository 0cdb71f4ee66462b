// Drops the foreign key from steps to runs: its check ran on every checkpoint insert (a lookup of the
// run row FOR KEY SHARE through an AFTER trigger, 8 us of a 23 us one-row insert measured with
// pgbench, docs/performance.md), yet proves nothing the insert does not prove already: every
// statement that writes a checkpoint takes its run_id from the fence, a FOR SHARE lock on the
// run's row, so no checkpoint of a missing run is ever written. What the key also did, delete a
// run's checkpoints with the run (retention, an operator's DELETE), a statement-level AFTER DELETE
// trigger now does, once per DELETE statement and never on inserts or updates. Old workers keep
// working: they relied on the key only for that cascade, which the trigger keeps.
import type { MigrationInterface, QueryRunner } from 'typeorm';
import { schemaOf } from './schema-of';

export class CheckpointsWithoutForeignKey1764700000000 implements MigrationInterface {
  name = 'CheckpointsWithoutForeignKey1764700000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const s = schemaOf(queryRunner);
    await queryRunner.query(`
CREATE FUNCTION ${s}."delete_checkpoints_of_deleted_runs"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  DELETE FROM ${s}."steps" s USING deleted_runs d WHERE s.run_id = d.id;
  RETURN NULL;
END
$$`);
    await queryRunner.query(`
CREATE TRIGGER "runs_delete_checkpoints" AFTER DELETE ON ${s}."runs"
REFERENCING OLD TABLE AS deleted_runs
FOR EACH STATEMENT EXECUTE FUNCTION ${s}."delete_checkpoints_of_deleted_runs"()`);
    await queryRunner.query(`ALTER TABLE ${s}."steps" DROP CONSTRAINT "steps_run_fk"`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    const s = schemaOf(queryRunner);
    // Checkpoints can only lose their run to a DELETE the trigger cleaned up after; any left over
    // (a run deleted with the trigger disabled) would fail the key, so they go first.
    await queryRunner.query(
      `DELETE FROM ${s}."steps" s WHERE NOT EXISTS (SELECT 1 FROM ${s}."runs" r WHERE r.id = s.run_id)`,
    );
    await queryRunner.query(
      `ALTER TABLE ${s}."steps" ADD CONSTRAINT "steps_run_fk" FOREIGN KEY ("run_id") REFERENCES ${s}."runs"("id") ON DELETE CASCADE ON UPDATE NO ACTION`,
    );
    await queryRunner.query(`DROP TRIGGER "runs_delete_checkpoints" ON ${s}."runs"`);
    await queryRunner.query(`DROP FUNCTION ${s}."delete_checkpoints_of_deleted_runs"()`);
  }
}
