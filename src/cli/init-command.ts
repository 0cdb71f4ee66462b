// `zart init [directory] [--module commonjs|esm]`: writes a new project from the template into a
// missing or empty folder, then says what to run. Installs nothing itself, so it works offline
// and leaves the choice of package manager to the user.
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { ConfigurationError } from '../errors';
import { projectTemplate, type ProjectModule } from './project-template';

export const initUsage = `Usage: zart init [directory] [--module commonjs|esm]

Creates a project with a workflow, a test and the embedded PostgreSQL default.

Options:
  --module           commonjs (default, as npm init) or esm ("type": "module")
  --name             package name (default: the directory's name)
  -h, --help         show this help
`;

/** What `zart init` did: the folder and the files written in it. */
export interface InitResult {
  directory: string;
  module: ProjectModule;
  files: string[];
}

/** Runs `zart init` with the arguments after `init`; returns the exit code. */
export function initCommand(argv: string[], out: (text: string) => void, cwd = process.cwd()): number {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      module: { type: 'string', default: 'commonjs' },
      name: { type: 'string' },
      json: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    out(initUsage);
    return 0;
  }
  if (positionals.length > 1) {
    throw new ConfigurationError(
      `zart init takes one directory, got ${positionals.length}: ${positionals.join(' ')}. Quote a path with spaces.`,
    );
  }
  const result = initProject({
    directory: path.resolve(cwd, positionals[0] ?? '.'),
    module: parseModule(values.module),
    name: values.name,
  });
  if (values.json) {
    out(`${JSON.stringify(result)}\n`);
    return 0;
  }
  const relative = path.relative(cwd, result.directory) || '.';
  out(
    `Created a ${result.module === 'esm' ? 'ESM' : 'CommonJS'} zart project in ${relative}:\n` +
      result.files.map((file) => `  ${file}\n`).join('') +
      `\nNext:\n${relative === '.' ? '' : `  cd ${relative}\n`}  npm install\n  npm start   # runs the welcome workflow\n  npm test\n`,
  );
  return 0;
}

/** Writes the template into `directory`, which must be missing or empty. */
export function initProject(options: {
  directory: string;
  module: ProjectModule;
  name?: string | undefined;
}): InitResult {
  const { directory, module } = options;
  if (existsSync(directory) && readdirSync(directory).length > 0) {
    throw new ConfigurationError(
      `zart init writes into an empty folder, and ${directory} is not empty. Pass a new folder name (zart init my-app), or empty this one.`,
    );
  }
  const name = options.name ?? packageName(path.basename(directory));
  const files = projectTemplate({ name, module });
  for (const [file, content] of Object.entries(files)) {
    const target = path.join(directory, file);
    mkdirSync(path.dirname(target), { recursive: true });
    writeFileSync(target, content, { flag: 'wx' });
  }
  return { directory, module, files: Object.keys(files) };
}

function parseModule(value: string): ProjectModule {
  if (value === 'commonjs' || value === 'cjs') return 'commonjs';
  if (value === 'esm' || value === 'module') return 'esm';
  throw new ConfigurationError(`zart init --module takes commonjs or esm, got "${value}".`);
}

// npm names: lower case, no spaces, at most 214 characters.
function packageName(folder: string): string {
  const name = folder
    .toLowerCase()
    .replace(/[^a-z0-9._-]+/g, '-')
    .replace(/^[._-]+|-+$/g, '')
    .slice(0, 214);
  return name || 'zart-app';
}
