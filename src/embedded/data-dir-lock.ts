// The lock file `<dataDir>.lock` that lets one process at a time initialise and start a data
// folder, and breaks the lock a dead holder left behind.
import { randomBytes } from 'node:crypto';
import { link, open, readFile, rename, stat, unlink } from 'node:fs/promises';
import { setTimeout as delay } from 'node:timers/promises';
import { ConfigurationError } from '../errors';
import { errorCode, ignoreMissing } from './errno';
import { isAlive } from './os-process';

// Waiting for another process that initialises or starts the same folder.
const lockTimeoutMs = 90_000;
// A lock file younger than this may still be waiting for its holder to write its pid.
const lockWriteGraceMs = 10_000;

// The lock is a file created with O_EXCL that holds "<pid> <token>"; a holder that died leaves it
// behind, so a lock whose pid is gone is broken. Breaking renames the file away first and checks it
// took the stale one, so two processes that both saw it stale cannot delete each other's fresh lock.
// (A third process arriving within that rename window could still slip in, as with PostgreSQL's own
// postmaster.pid; the server's shared-memory interlock still prevents two postmasters on one folder.)
export async function acquireLock(lockPath: string, log: (line: string) => void): Promise<() => Promise<void>> {
  const token = `${process.pid} ${randomBytes(8).toString('hex')}`;
  const deadline = Date.now() + lockTimeoutMs;
  let announced = false;
  for (;;) {
    try {
      const handle = await open(lockPath, 'wx');
      try {
        await handle.writeFile(token);
      } finally {
        await handle.close();
      }
      return async () => {
        await unlink(lockPath).catch(ignoreMissing);
      };
    } catch (error) {
      if (errorCode(error) !== 'EEXIST') {
        throw new ConfigurationError(`Cannot create the lock file ${lockPath}. Make its folder writable.`, {
          cause: error,
        });
      }
    }
    const holder = await readFile(lockPath, 'utf8').catch(ignoreMissing);
    if (holder === undefined) continue;
    if (await isStaleLock(lockPath, holder)) {
      log(`breaking the stale lock ${lockPath} (${holder || 'empty'})`);
      await breakLock(lockPath, holder);
      continue;
    }
    if (Date.now() > deadline) {
      throw new ConfigurationError(
        `Process ${holder.split(' ')[0] ?? '?'} did not finish starting PostgreSQL within ${lockTimeoutMs / 1000} s ` +
          `(it holds ${lockPath}). Stop it, or delete ${lockPath} if no such process is running.`,
      );
    }
    if (!announced) log(`waiting for process ${holder.split(' ')[0] ?? '?'} to start PostgreSQL (${lockPath})`);
    announced = true;
    await delay(100);
  }
}

async function isStaleLock(lockPath: string, holder: string): Promise<boolean> {
  const pid = Number(holder.split(' ')[0]);
  if (Number.isInteger(pid) && pid > 0) return !isAlive(pid);
  // Empty or garbled: its creator may not have written yet; only an old one is stale.
  const info = await stat(lockPath).catch(ignoreMissing);
  return info !== undefined && Date.now() - info.mtimeMs > lockWriteGraceMs;
}

async function breakLock(lockPath: string, staleHolder: string): Promise<void> {
  const aside = `${lockPath}.${process.pid}.${randomBytes(4).toString('hex')}`;
  try {
    await rename(lockPath, aside);
  } catch (error) {
    if (errorCode(error) === 'ENOENT') return; // another process broke it first
    throw error;
  }
  const taken = await readFile(aside, 'utf8').catch(ignoreMissing);
  if (taken !== staleHolder) {
    // We moved a fresh lock of the process that broke the stale one before us: put it back.
    await link(aside, lockPath).catch((error: unknown) => {
      if (errorCode(error) !== 'EEXIST') throw error;
    });
  }
  await unlink(aside).catch(ignoreMissing);
}
