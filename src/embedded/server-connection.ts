// How Zart connects to an embedded server, and the probe that tells whether one answers, rejects
// the password, or is not ready yet.
import { Client } from 'pg';

export const superuser = 'postgres';

export function serverUrl(password: string, port: number): string {
  return `postgres://${superuser}:${encodeURIComponent(password)}@127.0.0.1:${port}/postgres`;
}

export type Probe = { ok: true; ownerPid: number | undefined } | { ok: false; authFailed: boolean; error: unknown };

export async function probeServer(url: string, timeoutMs: number): Promise<Probe> {
  const client = new Client({ connectionString: url, connectionTimeoutMillis: timeoutMs });
  client.on('error', () => undefined);
  try {
    await client.connect();
    const result = await client.query<{ owner: string | null }>(
      "SELECT current_setting('zart.owner_pid', true) AS owner",
    );
    const ownerPid = Number(result.rows[0]?.owner);
    return { ok: true, ownerPid: Number.isInteger(ownerPid) && ownerPid > 0 ? ownerPid : undefined };
  } catch (error) {
    // 28P01 invalid_password, 28000 invalid_authorization_specification.
    const code = (error as { code?: unknown }).code;
    return { ok: false, authFailed: code === '28P01' || code === '28000', error };
  } finally {
    await client.end().catch(() => undefined);
  }
}
