// Finds a PostgreSQL for samples and demos: DATABASE_URL, else a local server on 5432, else an
// embedded one. Never for production code paths: it guesses, and it may start a server.
import { Client } from 'pg';
import { EmbeddedPostgresError } from '../errors';
import { startEmbeddedPostgres, type EmbeddedPostgresOptions } from './embedded-postgres-server';

/** Options of `resolveDatabaseUrl`. */
export interface ResolveDatabaseUrlOptions {
  /** Database created (if missing) on a local or embedded server. Default `zart_demo`. */
  database?: string | undefined;
  /** Receives one line per decision (and the embedded server's output). Default: silent. */
  log?: ((line: string) => void) | undefined;
  /**
   * Whether to try a server on 127.0.0.1:5432 before the embedded one. Default: true, unless the
   * environment variable `ZART_SKIP_LOCAL_POSTGRES` is `1` or `true`.
   */
  probeLocal?: boolean | undefined;
  /** Where and on which port the embedded server runs (defaults as in `startEmbeddedPostgres`). */
  embedded?: Pick<EmbeddedPostgresOptions, 'dataDir' | 'port'> | undefined;
}

/** Where the URL came from, and how to let go of it. */
export interface ResolvedDatabaseUrl {
  url: string;
  source: 'env' | 'local' | 'embedded';
  /** The embedded server's data folder (it may differ from the one asked for: see `startEmbeddedPostgres`). */
  dataDir?: string;
  /** Stops the embedded server this call started or adopted; a no-op for `env` and `local`. */
  close(): Promise<void>;
}

const localServerUrl = 'postgres://postgres@127.0.0.1:5432/postgres';
// Long enough for a local handshake, short enough that a demo without one starts promptly.
const localProbeTimeoutMs = 500;

/** Picks `DATABASE_URL`, else a local server on 127.0.0.1:5432, else embedded PostgreSQL. */
export async function resolveDatabaseUrl(options: ResolveDatabaseUrlOptions = {}): Promise<ResolvedDatabaseUrl> {
  const database = options.database ?? 'zart_demo';
  const log = options.log ?? (() => undefined);
  const noop = (): Promise<void> => Promise.resolve();

  const fromEnv = process.env.DATABASE_URL?.trim();
  if (fromEnv) {
    log('using DATABASE_URL');
    return { url: fromEnv, source: 'env', close: noop };
  }

  if (options.probeLocal ?? !skipLocalFromEnv()) {
    const local = await tryLocalServer(database, log);
    if (local) return local;
  }

  const server = await startEmbeddedPostgres({ ...options.embedded, log });
  try {
    const client = new Client({ connectionString: server.url });
    await client.connect();
    try {
      await ensureDatabase(client, database);
    } finally {
      await client.end();
    }
  } catch (error) {
    await server.stop();
    throw new EmbeddedPostgresError(
      `Cannot create database "${database}" on embedded PostgreSQL in ${server.dataDir}. ` +
        'Pass another database name, or delete that folder to start from scratch.',
      { cause: error, dataDir: server.dataDir },
    );
  }
  log(`using embedded PostgreSQL on port ${server.port}, database "${database}"`);
  // A reused server is usually an orphan of a killed demo: stopping it leaves nothing running.
  return {
    url: withDatabase(server.url, database),
    source: 'embedded',
    dataDir: server.dataDir,
    close: () => server.stop(),
  };
}

// ZART_SKIP_LOCAL_POSTGRES=1 goes straight to the embedded server, e.g. to try it on a machine whose
// own PostgreSQL answers on 5432.
function skipLocalFromEnv(): boolean {
  return ['1', 'true'].includes(process.env.ZART_SKIP_LOCAL_POSTGRES?.trim().toLowerCase() ?? '');
}

async function tryLocalServer(database: string, log: (line: string) => void): Promise<ResolvedDatabaseUrl | undefined> {
  const local = new Client({ connectionString: localServerUrl, connectionTimeoutMillis: localProbeTimeoutMs });
  local.on('error', () => undefined);
  try {
    await local.connect();
    await ensureDatabase(local, database);
    log(`using the local PostgreSQL on 127.0.0.1:5432, database "${database}"`);
    return { url: withDatabase(localServerUrl, database), source: 'local', close: () => Promise.resolve() };
  } catch (error) {
    log(`no usable PostgreSQL on 127.0.0.1:5432 (${error instanceof Error ? error.message : String(error)})`);
  } finally {
    await local.end().catch(() => undefined);
  }
  return undefined;
}

async function ensureDatabase(client: Client, database: string): Promise<void> {
  const exists = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [database]);
  if (exists.rowCount) return;
  try {
    await client.query(`CREATE DATABASE ${client.escapeIdentifier(database)}`);
  } catch (error) {
    // Two demos starting at once: 42P04 duplicate_database, or 23505 on pg_database's unique index.
    const code = (error as { code?: unknown }).code;
    if (code !== '42P04' && code !== '23505') throw error;
  }
}

function withDatabase(url: string, database: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${encodeURIComponent(database)}`;
  return parsed.toString();
}
