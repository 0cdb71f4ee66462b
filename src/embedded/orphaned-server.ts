// Finds the server a data folder's postmaster.pid names: adopts a live one (typically orphaned by
// a killed owner), clears a stale file, and stops an adopted server once its owner is gone.
import { rm } from 'node:fs/promises';
import { setTimeout as delay } from 'node:timers/promises';
import { ConfigurationError } from '../errors';
import { isAlive, procStat, runsInDataDir } from './os-process';
import { stopPostmaster } from './postmaster-stop';
import { postmasterPidPath, readPostmasterPid } from './postmaster-pid';
import { probeServer, serverUrl } from './server-connection';
import { startTimeoutMs } from './server-launch';

export interface RunningServer {
  pid: number;
  port: number;
  /** Pid of the process that started it, recorded in the `zart.owner_pid` setting. */
  ownerPid: number | undefined;
}

// postmaster.pid outlives a SIGKILLed owner *and* a killed server. A live postgres there is
// adopted; a dead pid (or one the OS gave to another program) is removed so the start succeeds.
export async function findRunningServer(
  dataDir: string,
  password: string,
  log: (line: string) => void,
): Promise<RunningServer | undefined> {
  const deadline = Date.now() + startTimeoutMs;
  for (;;) {
    const postmaster = await readPostmasterPid(dataDir);
    if (!postmaster) return undefined;
    if (!isAlive(postmaster.pid) || !runsInDataDir(postmaster.pid, dataDir)) {
      log(`removing stale postmaster.pid of ${dataDir}: pid ${postmaster.pid} is not running PostgreSQL`);
      await rm(postmasterPidPath(dataDir), { force: true });
      return undefined;
    }
    // Alive: it may still be recovering or shutting down, so ask until it answers or exits.
    const probe = await probeServer(serverUrl(password, postmaster.port), 1_000);
    if (probe.ok) return { pid: postmaster.pid, port: postmaster.port, ownerPid: probe.ownerPid };
    if (probe.authFailed) {
      throw new ConfigurationError(
        `PostgreSQL (pid ${postmaster.pid}) running in ${dataDir} rejected the password in ${dataDir}.password. ` +
          `Stop it (kill -INT ${postmaster.pid}), or delete ${dataDir} and ${dataDir}.password to start from scratch.`,
        { cause: probe.error },
      );
    }
    if (Date.now() > deadline) {
      throw new ConfigurationError(
        `PostgreSQL (pid ${postmaster.pid}) holds ${dataDir} but did not answer on port ${postmaster.port} ` +
          `within ${startTimeoutMs / 1000} s. Stop it (kill -INT ${postmaster.pid}) and try again.`,
        { cause: probe.error },
      );
    }
    await delay(200);
  }
}

export async function stopReused(running: RunningServer, log: (line: string) => void): Promise<void> {
  if (ownedByLiveProcess(running)) {
    log(`leaving PostgreSQL (pid ${running.pid}) running: process ${String(running.ownerPid)} started it and stops it`);
    return;
  }
  await stopPostmaster(running.pid);
}

// The starting process is alive and still the server's parent (not a recycled pid).
function ownedByLiveProcess(running: RunningServer): boolean {
  if (running.ownerPid === undefined || !isAlive(running.ownerPid)) return false;
  const parent = procStat(running.pid)?.parent;
  return parent === undefined || parent === running.ownerPid;
}
