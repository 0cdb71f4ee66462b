// `zart schedules`: the cron schedules with their next and last tick; `schedules pause|resume
// <name>` stops and restarts one (ticks that come while it is paused start nothing).
import type { Command } from 'commander';
import type { ScheduleInfo } from '../../schedules/schedule-options';
import type { CliContext } from '../cli-context';
import { formatTime, paint, printJson, printTable, type CliIo } from '../output';

export function registerScheduleCommands(program: Command, context: () => CliContext): void {
  const schedules = program
    .command('schedules')
    .description('list cron schedules: cron, time zone, next and last tick, paused, overlap and catch-up policies')
    .action(async () => {
      const ctx = context();
      const list = await ctx.withClient((client) => client.listSchedules());
      if (ctx.json) return printJson(ctx.io, { schedules: list });
      if (list.length === 0) return void ctx.io.out('No schedules.\n');
      printTable(ctx.io, list, [
        { header: 'NAME', cell: (s) => s.name },
        { header: 'WORKFLOW', cell: (s) => s.workflow },
        { header: 'CRON', cell: (s) => s.cron },
        { header: 'TIMEZONE', cell: (s) => s.timezone },
        { header: 'NEXT TICK', cell: (s) => formatTime(s.nextTickAt) },
        { header: 'LAST TICK', cell: (s) => formatTime(s.lastTickAt) },
        {
          header: 'STATE',
          cell: (s) => (s.paused ? 'paused' : 'active'),
          colour: (s) => (s.paused ? 'yellow' : 'green'),
        },
        { header: 'OVERLAP', cell: (s) => s.overlap },
        { header: 'CATCH-UP', cell: (s) => s.catchUp },
      ]);
    });
  schedules
    .command('pause')
    .description('stop a schedule: its ticks start no run until it is resumed')
    .argument('<name>', 'the schedule')
    .action(async (name: string) => {
      const ctx = context();
      const schedule = await ctx.withClient((client) => client.pauseSchedule(name));
      report(ctx, schedule, 'paused');
    });
  schedules
    .command('resume')
    .description('restart a paused schedule from its next tick (ticks missed while paused are not run)')
    .argument('<name>', 'the schedule')
    .action(async (name: string) => {
      const ctx = context();
      const schedule = await ctx.withClient((client) => client.resumeSchedule(name));
      report(ctx, schedule, 'resumed');
    });
}

function report(ctx: CliContext, schedule: ScheduleInfo, what: 'paused' | 'resumed'): void {
  if (ctx.json) return printJson(ctx.io, { schedule });
  const io: CliIo = ctx.io;
  const next = schedule.nextTickAt ? `; next tick ${formatTime(schedule.nextTickAt)}` : '';
  io.out(`Schedule ${paint(io, 'bold', schedule.name)} ${what}${next}.\n`);
}
