// Creates the databases a bench run works in, fresh each time, and drops them afterwards (and any
// left behind by a run that was killed), so `npm run bench` can be run again and again.
import { Client } from 'pg';

export class BenchDatabases {
  private constructor(
    private readonly admin: Client,
    private readonly serverUrl: string,
    private readonly names: readonly string[],
  ) {}

  /** Connects to `serverUrl` (any database on the server) and recreates each of `names` empty. */
  static async create(serverUrl: string, names: readonly string[]): Promise<BenchDatabases> {
    const admin = new Client({ connectionString: serverUrl, application_name: 'zart-bench-admin' });
    await admin.connect();
    const databases = new BenchDatabases(admin, serverUrl, names);
    try {
      for (const name of names) {
        await databases.dropOne(name);
        await admin.query(`CREATE DATABASE ${admin.escapeIdentifier(name)}`);
      }
    } catch (error) {
      await databases.drop();
      throw error;
    }
    return databases;
  }

  /** The URL of database `name` on the same server, with the same credentials. */
  url(name: string): string {
    if (!this.names.includes(name)) throw new Error(`${name} is not one of the bench databases`);
    const parsed = new URL(this.serverUrl);
    parsed.pathname = `/${encodeURIComponent(name)}`;
    return parsed.toString();
  }

  /** Drops every bench database, ending any session still in it (a killed child's pool). */
  async drop(): Promise<void> {
    try {
      for (const name of this.names) await this.dropOne(name);
    } finally {
      await this.admin.end();
    }
  }

  /** Leaves the databases in place (to look into them); the next `create` drops them. */
  async close(): Promise<void> {
    await this.admin.end();
  }

  private async dropOne(name: string): Promise<void> {
    // WITH (FORCE) (PostgreSQL 13+) terminates sessions a SIGKILLed child left open.
    await this.admin.query(`DROP DATABASE IF EXISTS ${this.admin.escapeIdentifier(name)} WITH (FORCE)`);
  }
}
