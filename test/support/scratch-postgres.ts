// A private PostgreSQL server for tests that stop or restart the server, which the shared test
// server must never be. Started like every embedded server (src/embedded), in a throw-away folder.
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startEmbeddedPostgres, type EmbeddedPostgresServer } from '../../src/embedded/embedded-postgres-server';

export interface ScratchPostgres {
  url: string;
  /** Stops the server and starts it again, after `downMs` with no server listening. */
  restart(downMs?: number): Promise<void>;
  stop(): Promise<void>;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port')),
      );
    });
  });
}

export async function startScratchPostgres(): Promise<ScratchPostgres> {
  const root = mkdtempSync(join(tmpdir(), 'zart-scratch-pg-'));
  // As root the server runs as the postgres OS user, which must be able to enter this folder.
  chmodSync(root, 0o755);
  const options = { dataDir: join(root, 'data'), port: await freePort() };
  let server: EmbeddedPostgresServer = await startEmbeddedPostgres(options);
  return {
    url: server.url,
    restart: async (downMs = 0) => {
      await server.stop();
      if (downMs > 0) await new Promise((resolve) => setTimeout(resolve, downMs));
      server = await startEmbeddedPostgres(options);
    },
    stop: async () => {
      try {
        await server.stop();
      } finally {
        rmSync(root, { recursive: true, force: true });
      }
    },
  };
}
