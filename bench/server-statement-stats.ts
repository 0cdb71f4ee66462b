// BENCH_PG_STATS=1: what the server spent on each statement of W2, from pg_stat_statements (calls
// per step, mean execution time, blocks dirtied and WAL per call) and how many updates of zart's
// tables were HOT, read in the bench database after the workload. Skipped, with one line saying
// why, when the server was not started with shared_preload_libraries = 'pg_stat_statements'.
import { Client } from 'pg';

export interface ServerStatementRow {
  perStep: number;
  meanMs: number;
  blocksDirtiedPerCall: number;
  walBytesPerCall: number;
  statement: string;
}

export interface TableUpdates {
  table: string;
  updates: number;
  hotUpdates: number;
}

export class ServerStatementStats {
  private constructor(private readonly url: string) {}

  /** Clears the bench database's statement figures; null (and a line on stdout) without the extension. */
  static async start(url: string): Promise<ServerStatementStats | null> {
    const client = new Client({ connectionString: url });
    await client.connect();
    try {
      await client.query('CREATE EXTENSION IF NOT EXISTS pg_stat_statements');
      // Only this database's entries: others on a shared server keep theirs.
      await client.query(
        'SELECT pg_stat_statements_reset(0, (SELECT oid FROM pg_database WHERE datname = current_database()), 0)',
      );
      return new ServerStatementStats(url);
    } catch (error) {
      console.log(`BENCH_PG_STATS: pg_stat_statements is not available, skipped (${(error as Error).message})`);
      return null;
    } finally {
      await client.end();
    }
  }

  /** The statements that touched `schema` (zart's) or `rawTable` (the baseline's), per step of the same side's steps. */
  async read(
    schema: string,
    rawTable: string,
  ): Promise<{ zart: ServerStatementRow[]; raw: ServerStatementRow[]; tables: TableUpdates[] }> {
    const client = new Client({ connectionString: this.url });
    await client.connect();
    try {
      const rowsOf = async (mentions: string, stepsTable: string): Promise<ServerStatementRow[]> => {
        const { rows } = await client.query<ServerStatementRow>(
          `SELECT s.calls::float8 / nullif((SELECT count(*) FROM ${stepsTable}), 0) AS "perStep",
                  s.mean_exec_time AS "meanMs",
                  s.shared_blks_dirtied::float8 / s.calls AS "blocksDirtiedPerCall",
                  s.wal_bytes::float8 / s.calls AS "walBytesPerCall",
                  left(regexp_replace(s.query, '\\s+', ' ', 'g'), 90) AS statement
           FROM pg_stat_statements s
           WHERE s.dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
             AND s.toplevel AND s.calls > 0 AND strpos(s.query, $1) > 0
             AND s.query !~* '^\\s*(CREATE|ALTER|DROP|SELECT pg_|TRUNCATE)'
           ORDER BY s.total_exec_time DESC
           LIMIT 8`,
          [mentions],
        );
        return rows;
      };
      const { rows: tables } = await client.query<TableUpdates>(
        `SELECT relname AS table, n_tup_upd::int AS updates, n_tup_hot_upd::int AS "hotUpdates"
         FROM pg_stat_user_tables WHERE schemaname = $1 AND relname IN ('runs', 'steps') ORDER BY relname`,
        [schema],
      );
      return {
        zart: await rowsOf(`"${schema}".`, `"${schema}"."steps"`),
        raw: await rowsOf(rawTable, rawTable),
        tables,
      };
    } finally {
      await client.end();
    }
  }
}

/** The lines BENCH_PG_STATS prints. */
export function formatServerStatementStats(
  workload: string,
  stats: Awaited<ReturnType<ServerStatementStats['read']>>,
): string[] {
  const lines: string[] = [];
  for (const system of ['raw', 'zart'] as const) {
    if (stats[system].length === 0) continue;
    lines.push(
      `\n${workload} ${system}, server side (pg_stat_statements): per step, mean ms, dirtied blocks and WAL bytes per call`,
    );
    for (const row of stats[system]) {
      lines.push(
        `  ${row.perStep.toFixed(3).padStart(6)}  ${row.meanMs.toFixed(3).padStart(7)} ms  ${row.blocksDirtiedPerCall
          .toFixed(2)
          .padStart(6)} dirtied  ${Math.round(row.walBytesPerCall).toString().padStart(6)} B WAL  ${row.statement}`,
      );
    }
  }
  for (const t of stats.tables) {
    const share = t.updates === 0 ? '-' : `${((100 * t.hotUpdates) / t.updates).toFixed(0)}%`;
    lines.push(`${workload} zart ${t.table}: ${t.updates} updates, ${t.hotUpdates} HOT (${share})`);
  }
  return lines;
}
