// Classifies a data folder before a start: absent or empty, a cluster, or the remains of an
// interrupted initdb (safe to wipe); anything else is refused.
import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { ConfigurationError } from '../errors';
import { ignoreMissing } from './errno';

// Entries initdb creates; a folder holding only these, without global/pg_control, is an interrupted initdb.
const initdbEntry = /^(PG_VERSION|base|global|pg_\w+(\.conf)?|postgresql(\.auto)?\.conf)$/;

export type DataDirState = 'missing' | 'cluster' | 'interrupted';

export async function inspectDataDir(dataDir: string): Promise<DataDirState> {
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
