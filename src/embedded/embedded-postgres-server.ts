// Starts a local PostgreSQL in a data folder for demos and tests, or adopts the one a killed owner
// left running there. Development only: one superuser, 127.0.0.1 only, never a production database.
import path from 'node:path';
import { acquireLock } from './data-dir-lock';
import { placeDataDir } from './data-dir-location';
import { resolvePort } from './embedded-port';
import { findRunningServer, stopReused } from './orphaned-server';
import { readOrCreatePassword } from './password-file';
import { preparePostgresBinaries } from './postgres-binaries';
import { serverAccount } from './server-account';
import { serverUrl } from './server-connection';
import { startServer } from './server-launch';

/** Options of `startEmbeddedPostgres`. */
export interface EmbeddedPostgresOptions {
  /**
   * Folder of the cluster. Default `<cwd>/.zart/postgres`. Running as root, PostgreSQL runs as the
   * `postgres` OS user; if that user cannot enter the folders above it, the cluster is kept in
   * `<tmpdir>/zart-embedded-postgres-data-<hash of this path>/` instead (and `log` says so).
   */
  dataDir?: string | undefined;
  /** TCP port on 127.0.0.1. Default `ZART_EMBEDDED_PORT`, else 54329. */
  port?: number | undefined;
  /** Receives PostgreSQL's output and Zart's decisions, one line at a time. Default: silent. */
  log?: ((line: string) => void) | undefined;
}

/** A running embedded server. */
export interface EmbeddedPostgresServer {
  /** `postgres://` URL (with password) of the `postgres` database. */
  url: string;
  port: number;
  /** Where the cluster actually is: `dataDir`, or its stand-in when the server's OS user cannot reach it. */
  dataDir: string;
  /** True when the server was already running in `dataDir` (left by a process that died). */
  reused: boolean;
  /**
   * Stops the server. A reused server whose starting process is still alive is left to that
   * process, which stops it when it exits.
   */
  stop(): Promise<void>;
}

/**
 * Starts PostgreSQL in `dataDir`, initialising it on first use, or adopts the server already
 * running there. Concurrent calls on one folder (also from other processes) start one server.
 */
export async function startEmbeddedPostgres(options: EmbeddedPostgresOptions = {}): Promise<EmbeddedPostgresServer> {
  const requested = path.resolve(options.dataDir ?? path.join(process.cwd(), '.zart', 'postgres'));
  const port = resolvePort(options.port);
  const log = options.log ?? (() => undefined);
  const account = serverAccount();
  const dataDir = await placeDataDir(requested, account, log);

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
    const binaries = await preparePostgresBinaries(account, log);
    return await startServer({ dataDir, port, password, binaries, account, log });
  } finally {
    await releaseLock();
  }
}
