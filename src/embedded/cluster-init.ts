// Creates a cluster with initdb in an empty data folder owned by the server's OS user, with the
// superuser password from the password file. Reports failures with the fix (disk full, permissions).
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chown, mkdir, unlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { EmbeddedPostgresError } from '../errors';
import { ignoreMissing } from './errno';
import type { PostgresBinaries } from './postgres-binaries';
import type { ServerAccount } from './server-account';
import { superuser } from './server-connection';

export async function initialiseCluster(
  dataDir: string,
  password: string,
  binaries: PostgresBinaries,
  account: ServerAccount,
  log: (line: string) => void,
): Promise<void> {
  await mkdir(dataDir, { recursive: true, mode: 0o700 });
  await chown(dataDir, account.uid, account.gid);
  // initdb reads the password from a file, which the server's account must be able to read; beside
  // the data folder, never in a shared folder, and readable only by that account.
  const passwordFile = `${dataDir}.pwfile-${randomBytes(4).toString('hex')}`;
  await writeFile(passwordFile, `${password}\n`, { mode: 0o600 });
  try {
    await chown(passwordFile, account.uid, account.gid);
    const args = [
      `--pgdata=${dataDir}`,
      `--username=${superuser}`,
      `--pwfile=${passwordFile}`,
      '--auth=scram-sha-256',
      '--encoding=UTF8',
      '--locale=C',
    ];
    const result = await runProgram(path.join(binaries.prefix, 'bin', 'initdb'), args, account, log);
    if (result.code !== 0) {
      throw new EmbeddedPostgresError(initdbFailure(dataDir, result.output, account), { dataDir });
    }
  } finally {
    await unlink(passwordFile).catch(ignoreMissing);
  }
}

function initdbFailure(dataDir: string, output: string, account: ServerAccount): string {
  const tail = output.trim().split('\n').slice(-3).join(' | ') || 'no output';
  if (/No space left on device|could not extend file/i.test(output)) {
    return `initdb ran out of disk space in ${dataDir} (${tail}). Free some space there, or pass another dataDir.`;
  }
  if (/Permission denied/i.test(output)) {
    return (
      `initdb has no permission in ${dataDir} (${tail}). ` +
      (account.switched
        ? 'It runs as the "postgres" OS user: let it enter every parent folder (chmod o+x) and write the folder, or pass another dataDir.'
        : 'Make the folder writable, or pass another dataDir.')
    );
  }
  return `initdb failed in ${dataDir} (${tail}). Fix the cause above, or delete ${dataDir} and try again.`;
}

export interface ProgramResult {
  code: number | null;
  output: string;
}

/** Runs a PostgreSQL program to completion as the server's account, in C locale (parsable messages). */
export function runProgram(
  program: string,
  args: string[],
  account: ServerAccount,
  log: (line: string) => void,
): Promise<ProgramResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(program, args, {
      uid: account.uid,
      gid: account.gid,
      // Its own folder: the caller's working directory may be closed to the server's account.
      cwd: path.dirname(program),
      env: { ...process.env, LC_ALL: 'C' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    const collect = (chunk: Buffer): void => {
      const text = chunk.toString();
      output += text;
      for (const line of text.split('\n')) if (line.trim()) log(line);
    };
    child.stdout.on('data', collect);
    child.stderr.on('data', collect);
    // Without this listener a spawn failure (EACCES, ENOENT) is an unhandled 'error' event.
    child.on('error', (error) => {
      reject(
        new EmbeddedPostgresError(
          `Cannot run ${program}: ${error.message}. Delete ${path.dirname(path.dirname(program))} so it is copied ` +
            'again, or set DATABASE_URL to use your own PostgreSQL server.',
          { cause: error },
        ),
      );
    });
    child.on('close', (code) => resolve({ code, output }));
  });
}
