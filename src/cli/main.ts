#!/usr/bin/env node
// The `zart` command line: inspect and operate runs (runs, events, workers, schedules, retention),
// serve the dashboard, migrate the schema, and create a project (init, which parses its own
// arguments: it needs no database).
// Exit codes: 0 done, 1 failed (the message says why), 2 wrong usage, 3 no such run (or schedule).
import { Command, CommanderError } from 'commander';
import { RunNotFoundError, ScheduleNotFoundError, ZartError } from '../errors';
import { zartVersion } from '../options/zart-version';
import { cliContext, UsageError, type CliContext, type GlobalOptions } from './cli-context';
import { registerDashboardCommand } from './commands/dashboard';
import { registerEventCommands } from './commands/events';
import { initCommand } from './init-command';
import { registerMigrateCommand } from './commands/migrate';
import { registerRetentionCommand } from './commands/retention';
import { registerRunsCommands } from './commands/runs';
import { registerWorkerCommands } from './commands/workers';
import { registerScheduleCommands } from './commands/schedules';
import type { CliIo } from './output';

export const exitCodes = { ok: 0, failed: 1, usage: 2, notFound: 3 } as const;

function buildProgram(io: CliIo): { program: Command; context: () => CliContext } {
  let globals: GlobalOptions = {};
  const program = new Command('zart')
    .description('Operate zart: inspect and act on workflow runs, migrate the schema.')
    .version(zartVersion, '-v, --version', 'print the zart version')
    .option('--database-url <url>', 'postgres:// URL (default: DATABASE_URL)')
    .option('--schema <name>', "schema of zart's tables (default: zart)")
    .option('--json', 'print machine-readable JSON')
    .showHelpAfterError('(run with --help for usage)')
    .configureOutput({ writeOut: io.out, writeErr: io.err })
    .exitOverride()
    .addHelpText(
      'after',
      '\nTo create a project: zart init [directory] [--module commonjs|esm] (see zart init --help).\n',
    );
  // Every command's options are parsed before its action: the globals may follow the command.
  program.hook('preAction', (_program, action) => {
    globals = action.optsWithGlobals<GlobalOptions>();
  });
  const context = (): CliContext => cliContext(io, globals);
  registerRunsCommands(program, context);
  registerEventCommands(program, context);
  registerWorkerCommands(program, context);
  registerRetentionCommand(program, context);
  registerMigrateCommand(program, context);
  registerDashboardCommand(program, context);
  registerScheduleCommands(program, context);
  // Subcommands report their usage errors through the program's output and exit code.
  for (const command of allCommands(program)) {
    command.configureOutput({ writeOut: io.out, writeErr: io.err }).exitOverride().showHelpAfterError();
  }
  return { program, context };
}

function allCommands(command: Command): Command[] {
  return command.commands.flatMap((sub) => [sub, ...allCommands(sub)]);
}

/** Runs the CLI with `argv` (without node and the script); resolves with the exit code. */
export async function main(argv: string[], io: CliIo = processIo()): Promise<number> {
  const { program } = buildProgram(io);
  if (argv[0] === 'init') {
    try {
      return initCommand(argv.slice(1), io.out);
    } catch (error) {
      return reportFailure(io, error);
    }
  }
  if (argv.length === 0) {
    io.err(program.helpInformation());
    return exitCodes.usage;
  }
  try {
    await program.parseAsync(argv, { from: 'user' });
    return exitCodes.ok;
  } catch (error) {
    return reportFailure(io, error);
  }
}

function reportFailure(io: CliIo, error: unknown): number {
  if (error instanceof CommanderError) {
    // Help and --version end with exit code 0; commander has printed the rest already.
    return error.exitCode === 0 ? exitCodes.ok : exitCodes.usage;
  }
  if (error instanceof UsageError) {
    io.err(`zart: ${error.message}\n(run with --help for usage)\n`);
    return exitCodes.usage;
  }
  if (error instanceof RunNotFoundError || error instanceof ScheduleNotFoundError) {
    io.err(`zart: ${error.message}\n`);
    return exitCodes.notFound;
  }
  if (error instanceof ZartError) {
    io.err(`zart: ${error.message}\n`);
    return exitCodes.failed;
  }
  if ((error as { code?: unknown } | null)?.code === '42P01') {
    io.err(
      "zart: this database has no zart tables in that schema. Run `zart migrate` (or start the app once), or pass --schema if zart's tables live elsewhere.\n",
    );
    return exitCodes.failed;
  }
  // Not one of zart's errors: unexpected, so the stack is worth having.
  io.err(`zart: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  return exitCodes.failed;
}

function processIo(): CliIo {
  return {
    out: (text) => void process.stdout.write(text),
    err: (text) => void process.stderr.write(text),
    colour: process.stdout.isTTY === true && !process.env.NO_COLOR,
  };
}

if (require.main === module) {
  void main(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
  });
}
