// `zart retention`: deletes finished runs older than a bound, as deleteFinishedRuns() does.
import type { Command } from 'commander';
import type { Duration } from '../../duration/parse-duration';
import type { CliContext } from '../cli-context';
import { UsageError } from '../cli-context';
import { printJson } from '../output';

export function registerRetentionCommand(program: Command, context: () => CliContext): void {
  program
    .command('retention')
    .description('delete runs that finished (completed, failed, cancelled) longer ago than --older-than')
    .requiredOption('--older-than <duration>', 'e.g. 30d, 12h')
    .option('--batch-size <n>', 'runs deleted per statement', '1000')
    .action(async (flags: { olderThan: string; batchSize: string }) => {
      const ctx = context();
      const batchSize = Number(flags.batchSize);
      if (!Number.isInteger(batchSize) || batchSize < 1) {
        throw new UsageError(`--batch-size must be a positive whole number, got "${flags.batchSize}".`);
      }
      const deleted = await ctx.withClient((client) =>
        client.deleteFinishedRuns({ olderThan: flags.olderThan as Duration, batchSize }),
      );
      if (ctx.json) printJson(ctx.io, { deleted });
      else ctx.io.out(`Deleted ${deleted} finished run${deleted === 1 ? '' : 's'} older than ${flags.olderThan}.\n`);
    });
}
