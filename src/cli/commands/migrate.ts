// `zart migrate`: applies Zart's migrations (the ones start() applies), for teams that migrate
// before they deploy.
import type { Command } from 'commander';
import { resolveOptions } from '../../options/resolve-options';
import { ZartDatabase } from '../../storage/zart-database';
import type { CliContext } from '../cli-context';
import { printJson } from '../output';

export function registerMigrateCommand(program: Command, context: () => CliContext): void {
  program
    .command('migrate')
    .description('apply pending migrations to the database')
    .action(async () => {
      const ctx = context();
      const options = resolveOptions(ctx.connection(), false);
      const db = await ZartDatabase.open(options.connection, options.schema);
      let applied: string[];
      try {
        applied = await db.migrate();
      } finally {
        await db.close();
      }
      if (ctx.json) printJson(ctx.io, { applied });
      else ctx.io.out(applied.length ? `Applied ${applied.join(', ')}\n` : 'Schema is up to date.\n');
    });
}
