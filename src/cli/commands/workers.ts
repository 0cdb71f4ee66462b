// `zart workers`: the live worker processes, from their heartbeats.
import type { Command } from 'commander';
import type { CliContext } from '../cli-context';
import { formatDuration, formatTime, printJson, printTable } from '../output';

export function registerWorkerCommands(program: Command, context: () => CliContext): void {
  program
    .command('workers')
    .description('list live worker processes (heartbeat within the last minute)')
    .action(async () => {
      const ctx = context();
      const workers = await ctx.withClient((client) => client.listWorkers());
      if (ctx.json) return printJson(ctx.io, { workers });
      if (workers.length === 0) return void ctx.io.out('No live workers.\n');
      const now = Date.now();
      printTable(ctx.io, workers, [
        { header: 'ID', cell: (w) => w.id },
        { header: 'HOST', cell: (w) => w.host },
        { header: 'PID', cell: (w) => String(w.pid), right: true },
        { header: 'VERSION', cell: (w) => w.version },
        { header: 'STARTED', cell: (w) => formatTime(w.startedAt) },
        {
          header: 'LAST SEEN',
          cell: (w) => `${formatDuration(Math.max(0, now - w.heartbeatAt.getTime()))} ago`,
          right: true,
        },
      ]);
    });
}
