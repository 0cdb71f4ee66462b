// Stops a postmaster by pid, as PostgreSQL documents: SIGINT (fast shutdown: sessions are ended,
// a checkpoint is written), then SIGQUIT (immediate shutdown) if it does not exit in time.
import { EmbeddedPostgresError } from '../errors';
import { signal, waitForExit } from './os-process';

export async function stopPostmaster(pid: number): Promise<void> {
  signal(pid, 'SIGINT');
  if (await waitForExit(pid, 30_000)) return;
  signal(pid, 'SIGQUIT');
  if (await waitForExit(pid, 5_000)) return;
  throw new EmbeddedPostgresError(
    `PostgreSQL (pid ${pid}) did not stop after SIGINT and SIGQUIT. Stop it with kill -KILL ${pid}.`,
  );
}
