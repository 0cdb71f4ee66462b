// A throw-away npm project in the temporary folder, as a consumer of zart would have: files
// written, dependencies installed from the registry (and the packed zart tarball), commands run.
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);

/** The TypeScript these checks compile with: the line the repository itself builds with. */
export const typescriptVersion = '~5.9.3';

export interface CommandResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface ScratchProject {
  readonly dir: string;
  write(files: Record<string, string>): void;
  /** Runs a command in the project; never throws for a non-zero exit (the result says). */
  run(command: string, args: string[], env?: Record<string, string | undefined>): Promise<CommandResult>;
  /** Runs a command and throws with its output when it fails. */
  mustRun(command: string, args: string[], env?: Record<string, string | undefined>): Promise<CommandResult>;
  remove(): void;
}

export function createScratchProject(prefix: string, files: Record<string, string> = {}): ScratchProject {
  const project = projectAt(mkdtempSync(join(tmpdir(), `zart-${prefix}-`)));
  project.write(files);
  return project;
}

/** A project in an existing folder (one a command created, such as `zart init`'s). */
export function projectAt(dir: string): ScratchProject {
  const project: ScratchProject = {
    dir,
    write(more) {
      for (const [file, content] of Object.entries(more)) {
        mkdirSync(dirname(join(dir, file)), { recursive: true });
        writeFileSync(join(dir, file), content);
      }
    },
    async run(command, args, env = {}) {
      try {
        const { stdout, stderr } = await execFileAsync(command, args, {
          cwd: dir,
          env: withEnv(env),
          maxBuffer: 64 * 1024 * 1024,
          timeout: 10 * 60_000,
        });
        return { code: 0, stdout, stderr };
      } catch (error) {
        const failed = error as { code?: unknown; stdout?: string; stderr?: string };
        return {
          code: typeof failed.code === 'number' ? failed.code : 1,
          stdout: failed.stdout ?? '',
          stderr: failed.stderr ?? String(error),
        };
      }
    },
    async mustRun(command, args, env) {
      const result = await project.run(command, args, env);
      if (result.code !== 0) {
        throw new Error(
          `${command} ${args.join(' ')} exited with ${result.code} in ${dir}\n${result.stdout}\n${result.stderr}`,
        );
      }
      return result;
    },
    remove() {
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return project;
}

// `undefined` removes a variable: a check can run a program as if DATABASE_URL were not set.
function withEnv(changes: Record<string, string | undefined>): NodeJS.ProcessEnv {
  const env = { ...process.env };
  for (const [name, value] of Object.entries(changes)) {
    if (value === undefined) delete env[name];
    else env[name] = value;
  }
  return env;
}

/** `npm install` flags for scratch projects: quiet, and from the local cache when it has the package. */
export const quietInstall = ['--no-audit', '--no-fund', '--prefer-offline', '--loglevel=error'];

/**
 * Installs what an application on zart has: the packed tarball, class-validator, TypeScript and
 * Node's types, plus `more`. Without optional dependencies: the checks bring their own PostgreSQL.
 */
export async function installConsumerPackages(
  project: ScratchProject,
  tarball: string,
  more: string[] = [],
): Promise<void> {
  await project.mustRun('npm', [
    'install',
    ...quietInstall,
    '--omit=optional',
    tarball,
    'class-validator',
    `typescript@${typescriptVersion}`,
    '@types/node@20',
    ...more,
  ]);
}
