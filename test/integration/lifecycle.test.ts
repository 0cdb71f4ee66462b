// start() and shutdown() of one instance: concurrent calls share one start and one shutdown, bad
// options change nothing, a shut-down instance stays shut down, a failed start leaves nothing behind.
import { createServer, connect, type Server, type Socket } from 'node:net';
import { ConfigurationError, Workflow, Zart, ZartClient, step } from '../../src';
import { logged, silentLogger } from '../support/silent-logger';
import { useTestDatabase } from '../support/test-zart';

const db = useTestDatabase();

@Workflow({ name: 'lifecycle-echo' })
class Echo {
  async run(input: { text: string }): Promise<string> {
    return step('echo', () => input.text);
  }
}

function newZart(url = db.url): Zart {
  return new Zart({ connectionString: url, logger: silentLogger, worker: { pollInterval: '50ms' } });
}

async function workerRows(): Promise<number> {
  const { rows } = await db.sql.query<{ count: number }>(
    'SELECT count(*)::int AS count FROM zart.workers WHERE pid = $1',
    [process.pid],
  );
  return rows[0]!.count;
}

/** Rejects when `promise` has not settled within `ms`: a hang fails the test instead of the file. */
async function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not settle within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

async function expectStillWorks(zart: Zart): Promise<void> {
  const handle = await zart.startWorkflow(Echo, { text: 'still here' });
  expect(await handle.result({ timeout: '20s' })).toBe('still here');
}

function openSockets(): number {
  return process.getActiveResourcesInfo().filter((resource) => resource === 'TCPSocketWrap').length;
}

/** A TCP proxy to the test server that refuses connections until `open` is set. */
async function gate(target: URL): Promise<{ url: string; open(): void; close(): Promise<void> }> {
  let isOpen = false;
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    if (!isOpen) return void socket.destroy();
    const upstream = connect(Number(target.port || 5432), target.hostname);
    sockets.add(upstream);
    upstream.on('close', () => sockets.delete(upstream));
    socket.pipe(upstream).pipe(socket);
    socket.on('error', () => upstream.destroy());
    upstream.on('error', () => socket.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  const url = new URL(target.href);
  url.hostname = '127.0.0.1';
  url.port = String(port);
  return {
    url: url.href,
    open: () => void (isOpen = true),
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

describe('lifecycle', () => {
  beforeAll(async () => {
    await db.client(); // migrates the file's database
  });

  it('two concurrent start() calls share one pool and one worker', async () => {
    const zart = newZart();
    const before = await workerRows();
    await within(Promise.all([zart.start(), zart.start()]), 20_000, 'start()');
    expect(await workerRows()).toBe(before + 1);
    await expectStillWorks(zart);
    await zart.shutdown({ drain: 0 });
    expect(await workerRows()).toBe(before);
  });

  it('two concurrent shutdown() calls both settle after one shutdown', async () => {
    const zart = newZart();
    await zart.start();
    await within(Promise.all([zart.shutdown(), zart.shutdown({ drain: 0 })]), 20_000, 'shutdown()');
    await within(zart.shutdown(), 5_000, 'a third shutdown()');
  });

  it('shutdown() with a bad drain throws a ConfigurationError and stops nothing', async () => {
    const zart = newZart();
    await zart.start();
    try {
      await expect(zart.shutdown({ drain: 'abc' as never })).rejects.toThrow(ConfigurationError);
      await expect(zart.shutdown({ drain: true as never })).rejects.toThrow(
        /^shutdown\(\{ drain \}\) must be .*got true/,
      );
      await expect(zart.shutdown(null as never)).rejects.toThrow(/shutdown\(options\) takes an object/);
      await expectStillWorks(zart);
    } finally {
      await zart.shutdown({ drain: 0 });
    }
  });

  it('start() after shutdown() throws a ConfigurationError saying to create a new instance', async () => {
    const zart = newZart();
    await zart.start();
    await zart.shutdown({ drain: 0 });
    await expect(zart.start()).rejects.toThrow(ConfigurationError);
    await expect(zart.start()).rejects.toThrow(/cannot be started again\. Create a new instance/);
    const client = new ZartClient({ connectionString: db.url, logger: silentLogger });
    await client.shutdown();
    await expect(client.start()).rejects.toThrow(/cannot be started again/);
  });

  it('a failed start() leaves nothing behind, and a later start() tries again', async () => {
    const proxy = await gate(new URL(db.url));
    // A short connectTimeout: start() waits that long for a server that refuses connections.
    const zart = new Zart({ connectionString: proxy.url, connectTimeout: '300ms', logger: silentLogger });
    try {
      const sockets = openSockets();
      await expect(zart.start()).rejects.toThrow(ConfigurationError);
      await expect(zart.start()).rejects.toThrow(/could not connect to PostgreSQL at 127\.0\.0\.1:\d+/);
      await new Promise((resolve) => setImmediate(resolve));
      expect(openSockets()).toBeLessThanOrEqual(sockets);
      proxy.open();
      await zart.start();
      await expectStillWorks(zart);
    } finally {
      await zart.shutdown({ drain: 0 });
      await proxy.close();
    }
  });

  it('a wake-up due when shutdown() runs is sent before the pool closes, and none after', async () => {
    const client = new ZartClient({ connectionString: db.url, logger: silentLogger });
    await client.start();
    logged.length = 0;
    await client.startWorkflow(Echo, { text: 'x' });
    await client.shutdown();
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(logged.filter((entry) => entry.message.includes('wake-up notification failed'))).toEqual([]);
  });
});
