// `zart events send`: sends an event to a run, as sendEvent() does from code.
import type { Command } from 'commander';
import type { CliContext } from '../cli-context';
import { UsageError } from '../cli-context';
import { printJson } from '../output';

export function registerEventCommands(program: Command, context: () => CliContext): void {
  program
    .command('events')
    .description('send events to runs')
    .command('send')
    .description('send an event to a run (buffered until the run waits for it)')
    .argument('<runId>', 'the run id')
    .argument('<name>', 'the event name')
    .argument('[payload]', 'the payload as JSON (default: none)')
    .action(async (runId: string, name: string, payload: string | undefined) => {
      const ctx = context();
      const value = payload === undefined ? undefined : parsePayload(payload);
      await ctx.withClient((client) => client.sendEvent(runId, name, value));
      if (ctx.json) printJson(ctx.io, { runId, name, sent: true });
      else ctx.io.out(`Sent event "${name}" to run ${runId}.\n`);
    });
}

function parsePayload(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw new UsageError(
      `The payload must be JSON (${(error as Error).message}); quote it for the shell, e.g. '{"approved":true}'.`,
    );
  }
}
