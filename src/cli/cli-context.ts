// What every CLI command shares: the global options, the output, and a ZartClient opened on the
// database for the command's work and closed after it. The CLI never migrates on the side: only
// `zart migrate` changes the schema.
import { ZartClient } from '../client/zart-client';
import type { ZartLogger } from '../logging/zart-logger';
import type { CliIo } from './output';

export interface GlobalOptions {
  databaseUrl?: string;
  schema?: string;
  json?: boolean;
}

/** A command's view of the invocation. */
export interface CliContext {
  io: CliIo;
  json: boolean;
  /** Opens a client, runs `work`, closes the client. */
  withClient<T>(work: (client: ZartClient) => Promise<T>): Promise<T>;
  /** The connection options for code that opens the database itself (migrate). */
  connection(): { connectionString?: string; schema?: string };
}

/** Thrown for a wrong invocation that commander cannot see (no database given): exit code 2. */
export class UsageError extends Error {}

export function cliContext(io: CliIo, options: GlobalOptions): CliContext {
  const connection = (): { connectionString?: string; schema?: string } => {
    const url = options.databaseUrl ?? process.env.DATABASE_URL;
    if (!url) throw new UsageError('No database: pass --database-url <url> or set DATABASE_URL.');
    return { connectionString: url, ...(options.schema === undefined ? {} : { schema: options.schema }) };
  };
  // Warnings (a retried connection) go to stderr; routine information does not clutter the output.
  const logger: ZartLogger = {
    debug: () => undefined,
    info: () => undefined,
    warn: (message) => io.err(`zart: warning: ${message}\n`),
    error: (message) => io.err(`zart: error: ${message}\n`),
  };
  return {
    io,
    json: options.json === true,
    connection,
    async withClient(work) {
      const client = new ZartClient({ ...connection(), migrate: false, logger });
      await client.start();
      try {
        return await work(client);
      } finally {
        await client.shutdown();
      }
    },
  };
}
