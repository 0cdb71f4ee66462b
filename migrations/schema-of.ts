// Migrations create tables in the schema of the DataSource Zart builds (its `schema` option).
import type { QueryRunner } from 'typeorm';

/** The quoted schema name the migration writes into. */
export function schemaOf(queryRunner: QueryRunner): string {
  const options = queryRunner.connection.options as { schema?: string };
  return `"${(options.schema ?? 'zart').replace(/"/g, '""')}"`;
}
