// The OS account PostgreSQL runs as, and whether that account can reach a path. PostgreSQL refuses
// to run as root, so a root process runs it as the `postgres` user (created when missing); any
// other user runs it as itself. Never changes permissions of folders it did not create.
import { execFileSync } from 'node:child_process';
import { statSync } from 'node:fs';
import path from 'node:path';
import { EmbeddedPostgresError } from '../errors';
import { errorCode } from './errno';

export interface ServerAccount {
  uid: number;
  gid: number;
  /** Every group of the account, for permission checks. */
  groups: readonly number[];
  /** True when it is not the current process's user (we run as root, PostgreSQL as `postgres`). */
  switched: boolean;
}

export const serverAccountName = 'postgres';

export function serverAccount(): ServerAccount {
  const uid = process.getuid?.();
  const gid = process.getgid?.();
  if (uid === undefined || gid === undefined) {
    throw new EmbeddedPostgresError(
      `Embedded PostgreSQL runs on Linux and macOS only, not on ${process.platform}. Set DATABASE_URL to use your own PostgreSQL server.`,
    );
  }
  if (uid !== 0) return { uid, gid, groups: process.getgroups?.() ?? [gid], switched: false };
  if (!lookUp(['-u'])) createAccount();
  const ids = (flag: string): number[] => (lookUp([flag]) ?? '').split(/\s+/).filter(Boolean).map(Number);
  return { uid: ids('-u')[0]!, gid: ids('-g')[0]!, groups: ids('-G'), switched: true };
}

function lookUp(flags: string[]): string | undefined {
  try {
    return execFileSync('id', [...flags, serverAccountName], { stdio: ['ignore', 'pipe', 'ignore'] })
      .toString()
      .trim();
  } catch {
    return undefined;
  }
}

function createAccount(): void {
  // A system account without home or login, as distribution packages of PostgreSQL create it.
  const attempts: Array<[string, string[]]> = [
    ['useradd', ['--system', '--user-group', '--no-create-home', '--shell', '/usr/sbin/nologin', serverAccountName]],
    ['adduser', ['-S', '-D', '-H', serverAccountName]], // BusyBox (Alpine)
  ];
  let lastError: unknown;
  for (const [tool, args] of attempts) {
    try {
      execFileSync(tool, args, { stdio: ['ignore', 'ignore', 'pipe'] });
      if (lookUp(['-u'])) return;
    } catch (error) {
      lastError = error;
      if (errorCode(error) !== 'ENOENT') break;
    }
  }
  throw new EmbeddedPostgresError(
    `Running as root, embedded PostgreSQL must run as an OS user "${serverAccountName}" (PostgreSQL refuses root), ` +
      'and creating that user failed. Create it (useradd --system --user-group postgres), run as a non-root user, ' +
      'or set DATABASE_URL to use your own PostgreSQL server.',
    { cause: lastError },
  );
}

/**
 * Whether `account` may search (enter) every existing folder above `target`, which opening or
 * executing `target` requires. Missing folders count as reachable: whoever creates them decides.
 */
export function canReach(target: string, account: ServerAccount): boolean {
  if (!account.switched) return true;
  for (let folder = path.dirname(path.resolve(target)); ; folder = path.dirname(folder)) {
    const info = statSync(folder, { throwIfNoEntry: false });
    if (info && !permits(info, account, 0o1)) return false;
    if (folder === path.dirname(folder)) return true;
  }
}

// The classic owner/group/other check for one permission bit (0o4 read, 0o2 write, 0o1 execute).
// ACLs are not consulted: a folder they open for the account is wrongly seen as closed, which
// only costs a relocation, never a failure.
function permits(info: { uid: number; gid: number; mode: number }, account: ServerAccount, bit: number): boolean {
  if (info.uid === account.uid) return (info.mode & (bit << 6)) !== 0;
  if (info.gid === account.gid || account.groups.includes(info.gid)) return (info.mode & (bit << 3)) !== 0;
  return (info.mode & bit) !== 0;
}
