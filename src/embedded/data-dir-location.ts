// Where the cluster lives: the requested data folder, or, when the server's OS user cannot reach
// it (root running a project in a 0700 folder), a stable folder per requested path in the
// temporary folder. Never changes the permissions of the caller's folders to make room.
import { createHash } from 'node:crypto';
import { chmod, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { EmbeddedPostgresError } from '../errors';
import { ensureOwnedFolder } from './owned-folder';
import { canReach, serverAccountName, type ServerAccount } from './server-account';

export async function placeDataDir(
  requested: string,
  account: ServerAccount,
  log: (line: string) => void,
): Promise<string> {
  if (canReach(requested, account)) {
    await createParents(requested, account);
    return requested;
  }
  // Keyed by the requested path, so every run of one project finds the same cluster again.
  const key = createHash('sha256').update(requested).digest('hex').slice(0, 16);
  const home = path.join(tmpdir(), `zart-embedded-postgres-data-${key}`);
  const relocated = path.join(home, path.basename(requested));
  if (!canReach(relocated, account)) {
    throw new EmbeddedPostgresError(
      `The "${serverAccountName}" OS user, which runs embedded PostgreSQL because this process runs as root, can ` +
        `reach neither ${requested} nor ${relocated}. Let it enter the parent folders (chmod o+x), set TMPDIR to ` +
        'a folder every user may enter, or set DATABASE_URL to use your own server.',
      { dataDir: requested },
    );
  }
  await ensureOwnedFolder(home);
  log(
    `the "${serverAccountName}" OS user cannot enter the folders above ${requested}: ` +
      `keeping this cluster in ${relocated} instead`,
  );
  return relocated;
}

// Folders we create above the data folder get 0755 explicitly: with a umask of 077 they would be
// 0700, and the server's OS user could not enter the folder we just judged reachable.
async function createParents(dataDir: string, account: ServerAccount): Promise<void> {
  const parent = path.dirname(dataDir);
  const first = await mkdir(parent, { recursive: true });
  if (first === undefined || !account.switched) return;
  for (let folder = parent; folder.length >= first.length; folder = path.dirname(folder)) {
    await chmod(folder, 0o755);
  }
}
