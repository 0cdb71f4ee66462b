// The superuser password of an embedded cluster, kept in `<dataDir>.password`.
import { randomBytes } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { ignoreMissing } from './errno';

// A random password kept beside (not inside) the data folder so it exists before initdb and
// survives a wipe: with trust or a well-known password any local OS user could log in as
// superuser and run programs as the postgres OS user.
export async function readOrCreatePassword(file: string): Promise<string> {
  const existing = await readFile(file, 'utf8').catch(ignoreMissing);
  if (existing?.trim()) return existing.trim();
  const password = randomBytes(18).toString('base64url');
  await writeFile(file, `${password}\n`, { mode: 0o600 });
  return password;
}
