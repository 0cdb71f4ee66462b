// Starts a postmaster this process owns: initdb when needed, a start that waits out a killed
// predecessor, errors that name the fix, a stop(), and a stop when this process exits. Never
// leaves a spawned program without an 'error' listener (an unhandled one kills the process).
import { spawn, type ChildProcess } from 'node:child_process';
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { EmbeddedPostgresError } from '../errors';
import { initialiseCluster } from './cluster-init';
import { inspectDataDir } from './data-dir-state';
import type { EmbeddedPostgresServer } from './embedded-postgres-server';
import { isAlive, signal } from './os-process';
import type { PostgresBinaries } from './postgres-binaries';
import { readPostmasterPid } from './postmaster-pid';
import { stopPostmaster } from './postmaster-stop';
import type { ServerAccount } from './server-account';
import { probeServer, serverUrl } from './server-connection';

// initdb plus crash recovery after a SIGKILL; a healthy start takes about 1 s.
export const startTimeoutMs = 60_000;

export interface ServerLaunch {
  dataDir: string;
  port: number;
  password: string;
  binaries: PostgresBinaries;
  account: ServerAccount;
  log: (line: string) => void;
}

export async function startServer(launch: ServerLaunch): Promise<EmbeddedPostgresServer> {
  const { dataDir, port, password, log } = launch;
  const state = await inspectDataDir(dataDir);
  if (state !== 'cluster') {
    if (state === 'interrupted') {
      log(`${dataDir} holds an interrupted initdb: removing it`);
      await rm(dataDir, { recursive: true, force: true });
    }
    log(`initialising a new PostgreSQL cluster in ${dataDir}`);
    await initialiseCluster(dataDir, password, launch.binaries, launch.account, log);
  }

  const pid = await startWithRetry(launch);
  // Until stop(): this process's exit (normal, process.exit, an uncaught error) stops the server.
  // Only SIGINT can be sent from an 'exit' listener (it must be synchronous); the server finishes
  // its shutdown after we are gone. A SIGKILLed owner leaves an orphan that the next start adopts.
  const stopOnExit = (): void => signal(pid, 'SIGINT');
  process.on('exit', stopOnExit);

  const probe = await probeServer(serverUrl(password, port), 5_000);
  if (!probe.ok) {
    process.off('exit', stopOnExit);
    await stopPostmaster(pid);
    throw new EmbeddedPostgresError(
      probe.authFailed
        ? `The cluster in ${dataDir} was created with a password other than the one in ${dataDir}.password. ` +
            `Delete ${dataDir} to re-create it, or restore the matching password file.`
        : `PostgreSQL started in ${dataDir} but does not answer on 127.0.0.1:${port}. If an earlier initdb ` +
            `was interrupted, delete ${dataDir} to re-create it; otherwise pass log to see PostgreSQL's output.`,
      { cause: probe.error, dataDir },
    );
  }
  log(`PostgreSQL ready on 127.0.0.1:${port} (data ${dataDir})`);

  let stopping: Promise<void> | undefined;
  return {
    url: serverUrl(password, port),
    port,
    dataDir,
    reused: false,
    stop: () =>
      (stopping ??= (async () => {
        process.off('exit', stopOnExit);
        await stopPostmaster(pid);
      })()),
  };
}

async function startWithRetry(launch: ServerLaunch): Promise<number> {
  // After a SIGKILLed server its backends take a moment to notice and exit; until then PostgreSQL
  // refuses to start ("pre-existing shared memory block is still in use").
  const retryUntil = Date.now() + 10_000;
  for (;;) {
    const outcome = await startOnce(launch);
    if (typeof outcome === 'number') return outcome;
    if (outcome.output.includes('still in use') && Date.now() < retryUntil) {
      launch.log('old PostgreSQL processes still hold shared memory: retrying');
      await delay(500);
      continue;
    }
    throw new EmbeddedPostgresError(startFailure(launch, outcome.output), {
      cause: outcome.cause,
      dataDir: launch.dataDir,
    });
  }
}

type Failed = { output: string; cause?: unknown };

// Ready means postmaster.pid names our child with status "ready": language-independent, and
// unlike a connection attempt it cannot be answered by another program listening on the port.
async function startOnce({ dataDir, port, binaries, account, log }: ServerLaunch): Promise<number | Failed> {
  const recent: string[] = [];
  const child = spawnPostmaster(binaries, account, dataDir, port);
  let exited = false;
  let spawnError: Error | undefined;
  child.on('error', (error) => (spawnError = error));
  child.on('exit', () => (exited = true));
  const onOutput = (chunk: Buffer): void => {
    for (const line of chunk.toString().split('\n')) {
      if (!line.trim()) continue;
      recent.push(line);
      if (recent.length > 20) recent.shift();
      log(line);
    }
  };
  child.stdout?.on('data', onOutput);
  child.stderr?.on('data', onOutput);

  const deadline = Date.now() + startTimeoutMs;
  for (;;) {
    await delay(50);
    if (spawnError) return { output: spawnError.message, cause: spawnError };
    if (exited || child.pid === undefined) {
      await delay(50); // let the last lines of output arrive
      return { output: recent.join('\n') };
    }
    const postmaster = await readPostmasterPid(dataDir);
    if (postmaster?.pid === child.pid && postmaster.status === 'ready') return child.pid;
    if (Date.now() > deadline) {
      if (isAlive(child.pid)) await stopPostmaster(child.pid);
      return { output: '' };
    }
  }
}

function spawnPostmaster(
  binaries: PostgresBinaries,
  account: ServerAccount,
  dataDir: string,
  port: number,
): ChildProcess {
  const program = path.join(binaries.prefix, 'bin', 'postgres');
  return spawn(
    program,
    [
      ...['-D', dataDir, '-p', String(port)],
      ...['-c', 'listen_addresses=127.0.0.1'],
      // No Unix socket: its path could be too long under a deep dataDir, or collide in /tmp.
      ...['-c', 'unix_socket_directories='],
      // Lets a later process tell an orphan (owner dead) from a server its owner still manages.
      ...['-c', `zart.owner_pid=${process.pid}`],
    ],
    {
      uid: account.uid,
      gid: account.gid,
      cwd: path.dirname(program),
      env: { ...process.env, LC_ALL: 'C' },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
}

function startFailure({ dataDir, port }: ServerLaunch, output: string): string {
  const tail = output.trim().split('\n').slice(-3).join(' | ') || 'no output';
  if (output.includes('Address already in use')) {
    return `Port ${port} is already in use, so embedded PostgreSQL cannot listen on it (${tail}). Pass another port or set ZART_EMBEDDED_PORT.`;
  }
  if (output.includes('incompatible with server')) {
    return `The cluster in ${dataDir} was made by another PostgreSQL major version (${tail}). Delete ${dataDir} to re-create it.`;
  }
  if (/No space left on device/i.test(output)) {
    return `PostgreSQL in ${dataDir} ran out of disk space (${tail}). Free some space there, or pass another dataDir.`;
  }
  if (/Permission denied/i.test(output)) {
    return `PostgreSQL has no permission to use ${dataDir} (${tail}). Make the folder and its parents accessible to the user PostgreSQL runs as, or pass another dataDir.`;
  }
  if (!output) {
    return `PostgreSQL in ${dataDir} did not start within ${startTimeoutMs / 1000} s. Pass log to startEmbeddedPostgres to see its output.`;
  }
  return `PostgreSQL in ${dataDir} failed to start: ${tail}. Fix the cause above, or delete ${dataDir} to start from scratch.`;
}
