// Folders Zart keeps in the shared temporary folder (the binary cache, relocated data folders):
// created world-readable but writable only by us, and trusted afterwards only if still so. Another
// local user who created the name first could otherwise plant binaries that the server would run.
import { chmod, lstat, mkdir } from 'node:fs/promises';
import { EmbeddedPostgresError } from '../errors';
import { errorCode } from './errno';

export async function ensureOwnedFolder(folder: string): Promise<void> {
  try {
    await mkdir(folder);
    // Explicitly, not through mkdir's mode: a umask of 077 (hardened root shells) would close it
    // to the server's OS user.
    await chmod(folder, 0o755);
  } catch (error) {
    if (errorCode(error) !== 'EEXIST') {
      throw new EmbeddedPostgresError(
        `Cannot create ${folder} for embedded PostgreSQL. Set TMPDIR to a writable folder, or set DATABASE_URL to use your own server.`,
        { cause: error },
      );
    }
  }
  await assertOwnedFolder(folder);
}

export async function assertOwnedFolder(folder: string): Promise<void> {
  const info = await lstat(folder);
  if (!info.isDirectory() || info.uid !== process.getuid?.() || (info.mode & 0o022) !== 0) {
    throw new EmbeddedPostgresError(
      `${folder} is not a folder that only this user (uid ${String(process.getuid?.())}) may write to, so embedded ` +
        'PostgreSQL will not use it. Delete it (rm -rf), or set TMPDIR to another folder.',
    );
  }
}
