// Spawns TypeScript entry points as real child processes (ts-node, so decorator metadata is kept)
// and waits for lines they print, so tests can kill them at exact points.
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';

const root = join(__dirname, '..', '..');

export interface ChildHandle {
  readonly process: ChildProcess;
  /** Resolves when the child prints `line` (rejects if it exits first or after `timeoutMs`). */
  waitForLine(line: string, timeoutMs?: number): Promise<void>;
  /** Everything the child printed to stdout. */
  stdout(): string;
  /** Everything the child printed to stderr. */
  stderr(): string;
  /** Resolves with the exit code or signal. */
  exited: Promise<number | NodeJS.Signals | null>;
}

/** `preload`: more modules to require first (paths from the repository root), after ts-node. */
export function spawnTypeScript(entry: string, env: Record<string, string>, preload: string[] = []): ChildHandle {
  const requires = ['ts-node/register/transpile-only', ...preload.map((path) => join(root, path))];
  const child = spawn(process.execPath, [...requires.flatMap((path) => ['-r', path]), join(root, entry)], {
    cwd: root,
    env: { ...process.env, ...env, TS_NODE_PROJECT: join(root, 'tsconfig.json') },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  const waiters: Array<{ line: string; resolve: () => void }> = [];
  child.stdout.on('data', (chunk: Buffer) => {
    stdout += chunk.toString();
    for (const waiter of [...waiters]) {
      if (stdout.split('\n').includes(waiter.line)) {
        waiters.splice(waiters.indexOf(waiter), 1);
        waiter.resolve();
      }
    }
  });
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<number | NodeJS.Signals | null>((resolve) =>
    child.on('exit', (code, signal) => resolve(signal ?? code)),
  );
  return {
    process: child,
    stdout: () => stdout,
    stderr: () => stderr,
    exited,
    waitForLine(line, timeoutMs = 30_000) {
      if (stdout.split('\n').includes(line)) return Promise.resolve();
      return new Promise<void>((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`child did not print ${line} within ${timeoutMs} ms; stderr:\n${stderr}`)),
          timeoutMs,
        );
        void exited.then((status) => {
          clearTimeout(timer);
          reject(new Error(`child exited (${String(status)}) before printing ${line}; stderr:\n${stderr}`));
        });
        waiters.push({
          line,
          resolve: () => {
            clearTimeout(timer);
            resolve();
          },
        });
      });
    },
  };
}
