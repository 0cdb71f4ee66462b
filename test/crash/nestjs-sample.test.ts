// The Nest sample (samples/nestjs) as a user runs it: a real process driven over HTTP. SIGTERM in
// the middle of an order is a graceful redeploy (the run is handed back and the next process
// finishes it, no step executed twice), and a reservation over the stock rolls back what it wrote
// through injected repositories; SIGKILL is a crash (the next process resumes the run after
// its lease, and the transactional step still ran exactly once).
import { createServer } from 'node:net';
import request from 'supertest';
import { spawnTypeScript, type ChildHandle } from '../support/child-process';
import { useTestDatabase } from '../support/test-zart';
import { waitFor } from '../support/wait-for';

const db = useTestDatabase();
const spawned: ChildHandle[] = [];

afterEach(async () => {
  const children = spawned.splice(0);
  for (const child of children) child.process.kill('SIGKILL');
  await Promise.all(children.map((child) => child.exited));
});

interface OrderView {
  order: { id: string; status: string; trackingId: string | null };
  history: string[];
  run: string;
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

async function startSample(): Promise<{ child: ChildHandle; url: string }> {
  const port = await freePort();
  const child = spawnTypeScript(
    'samples/nestjs/main.ts',
    {
      DATABASE_URL: db.url,
      PORT: String(port),
      ORDERS_SIMULATED_LATENCY: '700',
      ZART_LEASE: '2s',
      NO_COLOR: '1',
    },
    ['test/support/zart-from-source.ts'],
  );
  spawned.push(child);
  const url = `http://127.0.0.1:${port}`;
  // ts-node compiles the sample and zart on start: slow on a loaded two-core machine.
  await child.waitForLine(`Orders service listening on ${url}`, 120_000);
  return { child, url };
}

async function placeOrder(url: string, quantity = 2): Promise<string> {
  const response = await request(url).post('/orders').send({ item: 'teapot', quantity });
  expect(response.status).toBe(201);
  return (response.body as { id: string }).id;
}

async function viewOrder(url: string, id: string): Promise<OrderView> {
  const response = await request(url).get(`/orders/${id}`);
  expect(response.status).toBe(200);
  return response.body as OrderView;
}

async function eventsOf(id: string): Promise<Array<{ event: string; pid: number }>> {
  const { rows } = await db.sql.query<{ event: string; pid: number }>(
    'SELECT event, pid FROM order_events WHERE "orderId" = $1 ORDER BY seq',
    [id],
  );
  return rows;
}

const kinds = ['stock-reserved', 'charged', 'shipped', 'order complete'];
const kindOf = (event: string): string => event.split(':')[0]!;

it('SIGTERM mid-order hands the run back; the next process finishes it without repeating a step', async () => {
  const first = await startSample();
  // A bad order is refused with a 400 (ZartExceptionFilter) and leaves nothing behind.
  const refused = await request(first.url).post('/orders').send({ item: 'teapot', quantity: -1 });
  expect(refused.status).toBe(400);
  expect(refused.body).toMatchObject({ code: 'ZART_VALIDATION_FAILED' });
  expect((await db.sql.query('SELECT 1 FROM orders WHERE quantity = -1')).rows).toHaveLength(0);

  // An order over the stock: the transactional reservation wrote through injected repositories,
  // then threw; both writes rolled back with it, and the order was rejected.
  const tooLarge = await placeOrder(first.url, 50);
  await waitFor(async () => (await viewOrder(first.url, tooLarge)).order.status === 'rejected', 60_000);
  expect((await viewOrder(first.url, tooLarge)).history).toEqual(['rejected: Only 10 x teapot in stock, 50 ordered.']);

  const id = await placeOrder(first.url);
  await waitFor(async () => (await eventsOf(id)).length > 0, 60_000);
  first.child.process.kill('SIGTERM');
  await first.child.exited;
  // Handed back, not left to a lease: no owner, and not finished.
  const { rows } = await db.sql.query<{ status: string; lease_owner: string | null }>(
    'SELECT status, lease_owner FROM zart.runs WHERE id = $1',
    [`fulfil-${id}`],
  );
  expect(rows[0]).toEqual({ status: 'pending', lease_owner: null });

  const second = await startSample();
  // The order is marked shipped by a step before the run's last one: wait for the run's end too.
  await waitFor(async () => (await viewOrder(second.url, id)).run === 'completed', 60_000);
  const view = await viewOrder(second.url, id);
  expect(view.order.status).toBe('shipped');
  expect(view.history.map(kindOf)).toEqual(kinds);
  const events = await eventsOf(id);
  expect(events[0]!.pid).toBe(first.child.process.pid);
  expect(events[events.length - 1]!.pid).toBe(second.child.process.pid);
});

it('SIGKILL mid-order: the next process resumes the run, and the transactional step ran once', async () => {
  const first = await startSample();
  const id = await placeOrder(first.url);
  await waitFor(async () => (await eventsOf(id)).length > 0, 60_000);
  first.child.process.kill('SIGKILL');
  await first.child.exited;

  const second = await startSample();
  // The order is marked shipped by a step before the run's last one: wait for the run's end too.
  await waitFor(async () => (await viewOrder(second.url, id)).run === 'completed', 60_000);
  const view = await viewOrder(second.url, id);
  expect(view.order.status).toBe('shipped');
  // At least once for plain steps (one may have been cut short by the kill); exactly once for the
  // transactional one, whose history row commits with its checkpoint.
  expect(new Set(view.history.map(kindOf))).toEqual(new Set(kinds));
  expect(view.history.filter((event) => kindOf(event) === 'stock-reserved')).toHaveLength(1);
});
