// A TCP proxy between worker processes and PostgreSQL whose added delay a test changes while
// connections are open (the chaos suite's latency fault). It never alters, drops or reorders
// bytes: a delayed chunk is written after every chunk that arrived before it, in each direction.
import { createConnection, createServer, type Server, type Socket } from 'node:net';

export interface LatencyProxy {
  /** The port on 127.0.0.1 that clients connect to instead of the server's. */
  readonly port: number;
  /** Delay added to every chunk from now on, in each direction (0: none). */
  setDelay(ms: number): void;
  /** Connections opened through the proxy so far. */
  connections(): number;
  /** Stops listening and closes every connection. */
  close(): Promise<void>;
}

/** Starts a proxy to `target` (a PostgreSQL server on this machine) on a free port. */
export async function startLatencyProxy(target: { host: string; port: number }): Promise<LatencyProxy> {
  let delayMs = 0;
  let opened = 0;
  const sockets = new Set<Socket>();

  // Chunks are due at max(arrival + delay, previous due time): lowering the delay never lets a
  // later chunk overtake an earlier one.
  const pipe = (from: Socket, to: Socket): void => {
    let lastDue = 0;
    from.on('data', (chunk: Buffer) => {
      const due = Math.max(Date.now() + delayMs, lastDue);
      lastDue = due;
      const wait = due - Date.now();
      if (wait <= 0 && delayMs === 0) {
        if (!to.destroyed) to.write(chunk);
        return;
      }
      setTimeout(() => {
        if (!to.destroyed) to.write(chunk);
      }, wait);
    });
  };

  const server: Server = createServer((client) => {
    opened++;
    const upstream = createConnection(target);
    sockets.add(client);
    sockets.add(upstream);
    pipe(client, upstream);
    pipe(upstream, client);
    // A server restart closes upstream; a SIGKILLed worker closes client: either way both go, as
    // they would on a direct connection (PostgreSQL then rolls back the backend's transaction).
    const closeBoth = (): void => {
      // Let bytes already scheduled reach their side first, then close.
      setTimeout(() => {
        client.destroy();
        upstream.destroy();
        sockets.delete(client);
        sockets.delete(upstream);
      }, delayMs);
    };
    client.on('close', closeBoth);
    upstream.on('close', closeBoth);
    client.on('error', closeBoth);
    upstream.on('error', closeBoth);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (typeof address !== 'object' || address === null) throw new Error('latency proxy: no port');

  return {
    port: address.port,
    setDelay: (ms) => (delayMs = Math.max(0, ms)),
    connections: () => opened,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
