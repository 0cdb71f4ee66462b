// Zart's own TypeORM DataSource (its entities, its migrations, its schema) and the pg pool behind
// it, which the hand-written statements in storage/sql/ use directly for one round trip each.
import { createHash } from 'node:crypto';
import type { Pool, PoolClient, QueryResultRow } from 'pg';
import { DataSource, MigrationExecutor, type DataSourceOptions } from 'typeorm';
import type { PostgresDriver } from 'typeorm/driver/postgres/PostgresDriver';
import { zartMigrations } from '../../migrations';
import { joinStepTransactions } from '../context/join-step-transactions';
import { ConfigurationError, DatabaseTimeoutError, describeCause } from '../errors';
import { zartEntities } from './entities';
import { guardPoolClients } from './guard-pool-clients';

/** Schema-qualified, quoted table names, for SQL text. */
export interface Tables {
  runs: string;
  steps: string;
  events: string;
  workers: string;
  queueStarts: string;
  schedules: string;
}

/** How Zart reaches PostgreSQL, and the bounds on its pool. */
export type DatabaseConnection = ({ kind: 'url'; url: string } | { kind: 'dataSource'; dataSource: DataSource }) & {
  poolSize: number;
  /** pg's connectionTimeoutMillis: opening a connection, and waiting for a free one. */
  connectTimeoutMs: number;
  /** PostgreSQL's statement_timeout of every connection of the pool; 0 is none. */
  statementTimeoutMs: number;
  /**
   * The application_name of Zart's own connections, whatever the application named its own:
   * `zart-worker` for an instance with a worker, `zart` for a client. Default `zart`.
   */
  applicationName?: string;
};

/** @internal */
export class ZartDatabase {
  readonly tables: Tables;
  private readonly compiled = new Map<(db: ZartDatabase) => unknown, unknown>();

  private constructor(
    readonly dataSource: DataSource,
    readonly schema: string,
    private readonly appDataSource: DataSource | undefined,
    private readonly statementTimeoutMs: number,
  ) {
    const q = (table: string): string => `"${schema}"."${table}"`;
    this.tables = {
      runs: q('runs'),
      steps: q('steps'),
      events: q('events'),
      workers: q('workers'),
      queueStarts: q('queue_starts'),
      schedules: q('schedules'),
    };
  }

  /** Builds and initialises the DataSource; the application's DataSource, if given, is only read. */
  static async open(connection: DatabaseConnection, schema: string): Promise<ZartDatabase> {
    const own = {
      schema,
      entities: zartEntities,
      migrations: zartMigrations,
      migrationsTableName: 'migrations',
      synchronize: false,
      migrationsRun: false,
      logging: false,
    } as const;
    // Bounds on Zart's own pool, whatever the application configured: a server that accepts TCP
    // but never answers must fail start() instead of hanging it, and a stuck statement must not
    // hold a connection forever. pg sends statement_timeout as a startup parameter.
    // pg_stat_activity tells Zart's connections from the application's by this name.
    const applicationName = connection.applicationName ?? 'zart';
    const bounds = {
      max: connection.poolSize,
      connectionTimeoutMillis: connection.connectTimeoutMs,
      statement_timeout: connection.statementTimeoutMs,
      application_name: applicationName,
    };
    let options: DataSourceOptions;
    if (connection.kind === 'url') {
      // An application_name in the connection string, set for Zart by its operator, still wins.
      options = { type: 'postgres', url: connection.url, extra: bounds, ...own };
    } else {
      const app = connection.dataSource.options;
      if (app.type !== 'postgres') {
        throw new ConfigurationError(
          `Zart needs a PostgreSQL DataSource, but the one given has type "${app.type}". Pass a postgres DataSource or a connectionString.`,
        );
      }
      // Only how to reach the server is taken from the application: its entities, naming
      // strategy, subscribers, synchronize or dropSchema must never touch Zart's schema.
      const { url, host, port, username, password, database, ssl } = app;
      const extra = app.extra as Record<string, unknown> | undefined;
      // The application's name for its connections, in any of the three places it may be given
      // (applicationName, the URL, extra), must not name Zart's: Zart's name replaces it in each.
      options = {
        type: 'postgres',
        ...defined({
          url: url && withApplicationName(url, applicationName),
          host,
          port,
          username,
          password,
          database,
          ssl,
        }),
        applicationName,
        extra: { ...extra, ...bounds },
        ...own,
      };
    }
    const dataSource = new DataSource(options);
    try {
      await dataSource.initialize();
    } catch (error) {
      // A failed initialize() leaves the pool it created behind: end it, so a failed start()
      // keeps no connection or timer and the process can still exit.
      const pool = (dataSource.driver as PostgresDriver).master as Pool | undefined;
      await pool?.end().catch(() => undefined);
      throw connectionFailure(error, options, connection.connectTimeoutMs);
    }
    // The application's repositories and manager join the transactions of transactional steps.
    if (connection.kind === 'dataSource') joinStepTransactions(connection.dataSource);
    guardPoolClients((dataSource.driver as PostgresDriver).master as Pool);
    return new ZartDatabase(
      dataSource,
      schema,
      connection.kind === 'dataSource' ? connection.dataSource : undefined,
      connection.statementTimeoutMs,
    );
  }

  /**
   * Where transactional steps run: the application's DataSource (so its entities resolve), else
   * Zart's. Asked at each step, so an application may initialise its DataSource after start().
   */
  transactionDataSource(): DataSource {
    if (!this.appDataSource) return this.dataSource;
    if (!this.appDataSource.isInitialized) {
      throw new ConfigurationError(
        'A transactional step runs on the DataSource passed to new Zart({ dataSource }), which is not initialised. ' +
          'Call dataSource.initialize() before workflows with transactional steps run.',
      );
    }
    // Zart's transactional steps take the application's clients the same way as its own.
    guardPoolClients((this.appDataSource.driver as PostgresDriver).master as Pool);
    return this.appDataSource;
  }

  /** The pg pool of the DataSource: statements in storage/sql/ run on it in one round trip. */
  get pool(): Pool {
    return (this.dataSource.driver as PostgresDriver).master as Pool;
  }

  /**
   * Runs one statement. A statement cancelled at statementTimeout becomes DatabaseTimeoutError:
   * every statement that can wait on a row lock is one of these (TypeORM's reads never wait).
   */
  query<R extends QueryResultRow>(
    sql: string,
    params: unknown[] = [],
    /** A prepared statement's name (parsed once per connection), from statementName(): for the hot path. */
    name?: string,
  ): Promise<{ rows: R[]; rowCount: number }> {
    return this.runOn(this.pool, sql, params, name);
  }

  /**
   * Runs `work` in one transaction on one connection: committed if it resolves, rolled back if it
   * throws. A connection that failed is discarded, not returned to the pool.
   */
  async transaction<T>(work: (query: TransactionQuery) => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    let broken: Error | undefined;
    // A checked-out client has no listener of the pool's: a connection lost between two statements
    // would otherwise be an unhandled 'error' event that kills the process.
    const onError = (error: Error): void => {
      broken ??= error;
    };
    client.on('error', onError);
    try {
      await client.query('BEGIN');
      const result = await work((sql, params = []) => this.runOn(client, sql, params));
      await client.query('COMMIT');
      return result;
    } catch (error) {
      broken ??= await rollBack(client, error);
      throw error;
    } finally {
      client.removeListener('error', onError);
      client.release(broken);
    }
  }

  // One statement on the pool or on a transaction's connection; see query().
  private async runOn<R extends QueryResultRow>(
    on: Pool | PoolClient,
    sql: string,
    params: unknown[],
    name?: string,
  ): Promise<{ rows: R[]; rowCount: number }> {
    try {
      const result = await on.query<R>(
        name === undefined ? { text: sql, values: params } : { name, text: sql, values: params },
      );
      return { rows: result.rows, rowCount: result.rowCount ?? 0 };
    } catch (error) {
      throw isStatementTimeout(error) ? new DatabaseTimeoutError(this.statementTimeoutMs, error) : error;
    }
  }

  /**
   * The name of a prepared statement of this schema: `<base>_<schema>`, or with a hash of the
   * schema when that is longer than PostgreSQL's 63-byte identifiers, which it would truncate, so
   * that two statements of a long schema name never share a name.
   */
  statementName(base: string): string {
    const name = `${base}_${this.schema}`;
    if (Buffer.byteLength(name) <= 63) return name;
    return `${base}_${createHash('sha256').update(this.schema).digest('hex').slice(0, 16)}`;
  }

  /** The SQL text of a statement for this schema, built once. */
  sql(build: (tables: Tables) => string): string {
    return this.compile((db) => build(db.tables), build);
  }

  /** Anything derived from this database once (statement text, entity metadata), then reused. */
  compile<T>(build: (db: ZartDatabase) => T, key: object = build): T {
    const cacheKey = key as (db: ZartDatabase) => unknown;
    if (!this.compiled.has(cacheKey)) this.compiled.set(cacheKey, build(this));
    return this.compiled.get(cacheKey) as T;
  }

  /**
   * Creates the schema and runs pending migrations under an advisory lock, so any number of
   * processes may start at once: the first migrates, the others wait and find nothing to do.
   */
  async migrate(): Promise<string[]> {
    const runner = this.dataSource.createQueryRunner();
    await runner.connect();
    const lockName = `zart.migrate:${this.schema}`;
    try {
      // Exempt from statementTimeout: waiting for another process's migration, or building an
      // index on a large table, may rightly take longer. RESET restores the pool's default before
      // the connection goes back to the pool.
      await runner.query('SET statement_timeout = 0');
      await runner.query('SELECT pg_advisory_lock(hashtext($1))', [lockName]);
      let migrated = false;
      try {
        await runner.query(`CREATE SCHEMA IF NOT EXISTS "${this.schema}"`);
        // On this connection, so the exemption above applies to the migrations too.
        const executor = new MigrationExecutor(this.dataSource, runner);
        executor.transaction = 'all';
        const applied = await executor.executePendingMigrations();
        migrated = true;
        return applied.map((migration) => migration.name);
      } finally {
        // After a failure the connection may be gone (and the lock with it): the unlock's own
        // error must not hide the one that explains what went wrong.
        await runner.query('SELECT pg_advisory_unlock(hashtext($1))', [lockName]).catch((error: unknown) => {
          if (migrated) throw error;
        });
      }
    } finally {
      await runner.query('RESET statement_timeout').catch(() => undefined);
      await runner.release();
    }
  }

  async close(): Promise<void> {
    if (this.dataSource.isInitialized) await this.dataSource.destroy();
  }
}

/** One statement inside ZartDatabase.transaction(). */
export type TransactionQuery = <R extends QueryResultRow>(
  sql: string,
  params?: unknown[],
) => Promise<{ rows: R[]; rowCount: number }>;

// Rolls back after a failure; returns the error to discard the connection with when it is unusable.
async function rollBack(client: PoolClient, failure: unknown): Promise<Error | undefined> {
  try {
    await client.query('ROLLBACK');
    return undefined;
  } catch {
    return failure instanceof Error ? failure : new Error('the connection failed during a transaction');
  }
}

// SQLSTATE 57014 is query_canceled; pg_cancel_backend() gives it too, with another message.
function isStatementTimeout(error: unknown): boolean {
  const { code, message } = (error ?? {}) as { code?: unknown; message?: unknown };
  return code === '57014' && typeof message === 'string' && message.includes('statement timeout');
}

/** The ConfigurationError of a failed connect: where to, and which option to check or raise. */
function connectionFailure(error: unknown, options: DataSourceOptions, connectTimeoutMs: number): ConfigurationError {
  const message = describeCause(error);
  const where = serverOf(options);
  if (/timeout/i.test(message)) {
    return new ConfigurationError(
      `Zart could not connect to PostgreSQL at ${where} within connectTimeout (${connectTimeoutMs} ms): ${message}. ` +
        'Check that the server is reachable and answering, or raise the connectTimeout option.',
      { cause: error },
    );
  }
  return new ConfigurationError(
    `Zart could not connect to PostgreSQL at ${where}: ${message}. ` +
      'Check connectionString / DATABASE_URL and that the server is running.',
    { cause: error },
  );
}

/** host:port of the server a connection option names, for error messages; never credentials. */
export function describeServer(connection: DatabaseConnection): string {
  return serverOf(
    connection.kind === 'url' ? { type: 'postgres', url: connection.url } : connection.dataSource.options,
  );
}

/** host:port of the server, never the credentials of the URL. */
function serverOf(options: DataSourceOptions): string {
  const { url, host, port } = options as { url?: string; host?: string; port?: number };
  if (url) {
    try {
      const parsed = new URL(url);
      return `${parsed.hostname || 'localhost'}:${parsed.port || 5432}`;
    } catch {
      return 'the server of the connection string';
    }
  }
  return `${host ?? 'localhost'}:${port ?? 5432}`;
}

// pg lets a connection string's parameters override the pool's options: replace the
// application's application_name there too. A URL that does not parse is passed on as it is.
function withApplicationName(url: string, applicationName: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return url;
  }
  if (!parsed.searchParams.has('application_name')) return url;
  parsed.searchParams.set('application_name', applicationName);
  return parsed.toString();
}

function defined<T extends object>(values: T): Partial<T> {
  return Object.fromEntries(Object.entries(values).filter(([, value]) => value !== undefined)) as Partial<T>;
}
