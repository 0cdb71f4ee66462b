// Other processes seen by pid: whether they live, where they run, and signals to them. Pids outlive
// their owners in lock and postmaster.pid files, and the OS recycles them, hence the /proc checks.
import { readFileSync, readlinkSync, realpathSync } from 'node:fs';
import { setTimeout as delay } from 'node:timers/promises';
import { errorCode } from './errno';

export function signal(pid: number, name: NodeJS.Signals): void {
  try {
    process.kill(pid, name);
  } catch (error) {
    if (errorCode(error) !== 'ESRCH') throw error;
  }
}

export async function waitForExit(pid: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (isAlive(pid)) {
    if (Date.now() > deadline) return false;
    await delay(50);
  }
  return true;
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (error) {
    return errorCode(error) === 'EPERM';
  }
  // An orphan whose new parent never reaps it stays a zombie, and signal 0 still reaches zombies.
  return procStat(pid)?.state !== 'Z';
}

// A recycled pid may belong to any program, even another cluster's backend: PostgreSQL processes
// run with the data folder as working directory, so compare that.
export function runsInDataDir(pid: number, dataDir: string): boolean {
  try {
    return readlinkSync(`/proc/${pid}/cwd`) === realpathSync(dataDir);
  } catch (error) {
    // EACCES: another user's process, so not the server we (as that user) started.
    // No /proc (macOS): trust the pid; PostgreSQL itself refuses a second postmaster.
    return errorCode(error) !== 'EACCES';
  }
}

export function procStat(pid: number): { state: string; parent: number } | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // "pid (comm) state ppid ...": comm may hold spaces and parentheses, so split after the last ')'.
    const [state, parent] = text.slice(text.lastIndexOf(')') + 2).split(' ');
    return state === undefined ? undefined : { state, parent: Number(parent) };
  } catch {
    return undefined;
  }
}
