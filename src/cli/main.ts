#!/usr/bin/env node
// The `zart` command line: `zart migrate`, which applies Zart's migrations to a database (the same
// ones start() applies), for teams that migrate before they deploy; `zart init`, which creates a
// new project (see init-command.ts).
import { parseArgs } from 'node:util';
import { ZartError } from '../errors';
import { initCommand } from './init-command';
import { resolveOptions } from '../options/resolve-options';
import { ZartDatabase } from '../storage/zart-database';

const usage = `Usage: zart <command> [options]

Commands:
  migrate            apply pending migrations to the database
  init [directory]   create a project: a workflow, a test, the embedded PostgreSQL
                     default (--module commonjs|esm; zart init --help)

Options:
  --database-url     postgres:// URL (default: DATABASE_URL)
  --schema           schema of Zart's tables (default: zart)
  --json             print machine-readable JSON
  -h, --help         show this help
`;

export async function main(argv: string[]): Promise<number> {
  // init has options of its own, and needs no database.
  if (argv[0] === 'init') return initCommand(argv.slice(1), (text) => process.stdout.write(text));
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      'database-url': { type: 'string' },
      schema: { type: 'string' },
      json: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  const [command] = positionals;
  if (values.help || command === undefined) {
    process.stdout.write(usage);
    return command === undefined && !values.help ? 2 : 0;
  }
  if (command !== 'migrate') {
    process.stderr.write(`zart: unknown command "${command}".\n\n${usage}`);
    return 2;
  }
  const options = resolveOptions(
    {
      ...(values['database-url'] ? { connectionString: values['database-url'] } : {}),
      ...(values.schema ? { schema: values.schema } : {}),
    },
    false,
  );
  const db = await ZartDatabase.open(options.connection, options.schema);
  let applied: string[];
  try {
    applied = await db.migrate();
  } finally {
    await db.close();
  }
  if (values.json) process.stdout.write(`${JSON.stringify({ applied })}\n`);
  else process.stdout.write(applied.length ? `Applied ${applied.join(', ')}\n` : 'Schema is up to date.\n');
  return 0;
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (error: unknown) => {
      // Zart's errors already say what to do; anything else is unexpected and gets its stack.
      process.stderr.write(
        `zart: ${error instanceof ZartError ? error.message : String((error as Error).stack ?? error)}\n`,
      );
      process.exit(1);
    },
  );
}
