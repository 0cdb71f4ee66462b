// Reads postmaster.pid, the file PostgreSQL keeps in its data folder while it runs: which pid holds
// the folder and which port it listens on.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { ignoreMissing } from './errno';

export interface PostmasterPid {
  pid: number;
  port: number;
  /** "starting", "ready", "stopping" or "standby"; empty while the postmaster starts. */
  status: string;
}

export function postmasterPidPath(dataDir: string): string {
  return path.join(dataDir, 'postmaster.pid');
}

export async function readPostmasterPid(dataDir: string): Promise<PostmasterPid | undefined> {
  const text = await readFile(postmasterPidPath(dataDir), 'utf8').catch(ignoreMissing);
  // Lines: pid, data dir, start time, port, socket dir, listen address, shmem key, status.
  const lines = text?.split('\n') ?? [];
  const pid = Number(lines[0]);
  const port = Number(lines[3]);
  if (!Number.isInteger(pid) || pid <= 0) return undefined;
  return { pid, port, status: lines[7]?.trim() ?? '' };
}
