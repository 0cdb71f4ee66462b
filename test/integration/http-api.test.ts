// The HTTP API of createZartHttpHandler() against a database a worker fills: access control (bearer
// tokens, the authorize hook, 'none'), validation of every parameter, 404s, the actions and what
// they write, the security headers (CSP, no CORS), CSRF refusals, and mounting in Nest (Express).
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import {
  ConfigurationError,
  createZartHttpHandler,
  step,
  startChild,
  waitForEvent,
  Workflow,
  type Zart,
  type ZartHttpAction,
  type ZartHttpHandlerOptions,
} from '../../src';
import { silentLogger } from '../support/silent-logger';
import { useTestDatabase } from '../support/test-zart';
import { waitFor } from '../support/wait-for';

const db = useTestDatabase();

const token = 'act-token-0123456789abcdef';
const readToken = 'read-token-0123456789abcdef';

@Workflow({ name: 'http-leaf' })
class Leaf {
  async run(input: { n: number }): Promise<number> {
    return step('double', () => input.n * 2);
  }
}

@Workflow({ name: 'http-order' })
class Order {
  async run(input: { sku: string }): Promise<string> {
    await step('reserve', () => `<script>alert("${input.sku}")</script>`);
    await (await startChild(Leaf, { n: 21 })).result();
    const approval = await waitForEvent<{ by: string }>('approved');
    return `approved by ${approval.by}`;
  }
}

@Workflow({ name: 'http-broken' })
class Broken {
  async run(): Promise<void> {
    await step('ok', () => 'x'.repeat(20_000));
    await step('boom', () => {
      throw new TypeError('card declined');
    });
  }
}

let zart: Zart;
const servers: Server[] = [];

async function serve(options: ZartHttpHandlerOptions, basePath = ''): Promise<string> {
  const handler = createZartHttpHandler(zart, { logger: silentLogger, basePath, ...options });
  const server = createServer((req, res) => handler(req, res));
  // Longer than any pause between two requests of a test on a loaded machine: fetch reuses its
  // connections, and one closed by the server just as it is reused fails with ECONNRESET.
  server.keepAliveTimeout = 120_000;
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}${basePath}`;
}

interface RunRow {
  [field: string]: any;
  id: string;
  workflow: string;
  status: string;
  key: string;
}
const rows = (list: unknown): RunRow[] => list as RunRow[];

interface Answer {
  status: number;
  headers: Headers;
  body: any;
}

async function call(url: string, init: RequestInit & { bearer?: string | null } = {}): Promise<Answer> {
  const { bearer = token, ...rest } = init;
  const headers = new Headers(rest.headers);
  if (bearer !== null) headers.set('Authorization', `Bearer ${bearer}`);
  const response = await fetch(url, { ...rest, headers, redirect: 'manual' });
  const text = await response.text();
  let body: unknown = text;
  if ((response.headers.get('content-type') ?? '').includes('json')) body = JSON.parse(text) as unknown;
  return { status: response.status, headers: response.headers, body };
}

function post(url: string, body: unknown, bearer: string | null = token): Promise<Answer> {
  return call(url, {
    method: 'POST',
    bearer,
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify(body),
  });
}

async function statusOf(id: string): Promise<string> {
  const { rows } = await db.sql.query<{ status: string }>('SELECT status FROM zart.runs WHERE id = $1', [id]);
  return rows[0]!.status;
}

let base: string;

describe('HTTP API', () => {
  beforeAll(async () => {
    zart = await db.zart();
    await zart.startWorkflow(Order, { sku: 'A-1' }, { id: 'http-order-1' });
    await zart.startWorkflow(Order, { sku: 'B-2' }, { id: 'http-order-2' });
    await zart.startWorkflow(Broken, undefined as never, { id: 'http-broken-1' });
    // Both orders parked on their event (not on their child, which wakes them again) and the
    // broken run failed: from here on nothing moves until a test acts.
    await waitFor(async () => {
      const { rows: parked } = await db.sql.query(
        `SELECT id FROM zart.runs WHERE status = 'waiting' AND waiting_for = 'event:approved'`,
      );
      return parked.length === 2 && (await statusOf('http-broken-1')) === 'failed';
    });
    base = await serve({ auth: { token, readToken } });
  });

  afterAll(async () => {
    for (const server of servers) {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it('refuses reads without a token or with an unknown one (401), and reads with either token', async () => {
    const none = await call(`${base}/api/runs`, { bearer: null });
    expect(none.status).toBe(401);
    expect(none.headers.get('www-authenticate')).toBe('Bearer realm="zart"');
    expect(none.body.error.message).toMatch(/Authorization: Bearer/);
    expect(JSON.stringify(none.body)).not.toMatch(/http-order/);
    expect((await call(`${base}/api/runs`, { bearer: 'not-the-token-0123456789' })).status).toBe(401);
    expect((await call(`${base}/api/runs/http-order-1`, { bearer: null })).status).toBe(401);
    expect(
      (await call(`${base}/api/runs`, { headers: { Authorization: `Basic ${token}` }, bearer: null })).status,
    ).toBe(401);
    expect((await call(`${base}/api/runs`, { bearer: readToken })).status).toBe(200);
    expect((await call(`${base}/api/runs`)).status).toBe(200);
    expect((await call(`${base}/api/access`, { bearer: readToken })).body).toEqual({ read: true, actions: [] });
    expect((await call(`${base}/api/access`)).body.actions).toEqual([
      'cancel',
      'resume',
      'fork',
      'sendEvent',
      'deleteFinishedRuns',
    ]);
  });

  it('refuses actions with the read token (403) and writes nothing', async () => {
    const refused = await post(`${base}/api/runs/http-order-2/cancel`, {}, readToken);
    expect(refused.status).toBe(403);
    expect(refused.body.error.message).toMatch(/may only read/);
    expect(await statusOf('http-order-2')).toBe('waiting');
    expect((await post(`${base}/api/runs/http-order-2/cancel`, {}, null)).status).toBe(401);
    expect(await statusOf('http-order-2')).toBe('waiting');
  });

  it('will not be created without auth, with a short token, or with unknown options', () => {
    const handler = createZartHttpHandler as (client: unknown, options: unknown) => unknown;
    expect(() => handler(zart, {})).toThrow(ConfigurationError);
    expect(() => handler(zart, {})).toThrow(/auth is required/);
    expect(() => handler(zart, { auth: { token: 'short' } })).toThrow(/at least 16 characters/);
    expect(() => handler(zart, { auth: {} })).toThrow(/neither token nor readToken/);
    expect(() => handler(zart, { auth: 'none', cors: true })).toThrow(/Unknown option "cors"/);
    expect(() => handler(zart, { auth: 'none', basePath: 'zart/' })).toThrow(/basePath/);
    expect(() => handler({}, { auth: 'none' })).toThrow(/Zart or ZartClient/);
  });

  it('lists runs newest first with filters and pages', async () => {
    const all = await call(`${base}/api/runs`);
    expect(
      rows(all.body.runs)
        .map((r) => r.id)
        .sort(),
    ).toEqual([
      'http-broken-1',
      'http-order-1',
      'http-order-1/zart.child#0',
      'http-order-2',
      'http-order-2/zart.child#0',
    ]);
    expect(all.body.next).toBeNull();
    // A list row has no values: they can be large.
    expect(all.body.runs[0]).not.toHaveProperty('input');
    const failed = await call(`${base}/api/runs?status=failed`);
    expect(failed.body.runs).toEqual([
      expect.objectContaining({
        id: 'http-broken-1',
        status: 'failed',
        error: expect.stringMatching(/^StepFailedError: Step "boom#0" .*TypeError: card declined/),
      }),
    ]);
    const orders = await call(`${base}/api/runs?workflow=http-order&status=waiting,running`);
    expect(
      rows(orders.body.runs)
        .map((r) => r.id)
        .sort(),
    ).toEqual(['http-order-1', 'http-order-2']);
    const children = await call(`${base}/api/runs?parent=http-order-1`);
    expect(rows(children.body.runs).map((r) => r.workflow)).toEqual(['http-leaf']);
    expect((await call(`${base}/api/runs?idPrefix=http-order-1`)).body.runs).toHaveLength(2);
    expect((await call(`${base}/api/runs?since=1h&queue=default`)).body.runs).toHaveLength(5);
    expect((await call(`${base}/api/runs?until=2000-01-01T00:00:00Z`)).body.runs).toHaveLength(0);

    const first = await call(`${base}/api/runs?limit=2`);
    expect(first.body.runs).toHaveLength(2);
    expect(first.body.next).toBe(first.body.runs[1].id);
    const second = await call(`${base}/api/runs?limit=2&after=${encodeURIComponent(String(first.body.next))}`);
    const third = await call(`${base}/api/runs?limit=2&after=${encodeURIComponent(String(second.body.next))}`);
    const paged = [...first.body.runs, ...second.body.runs, ...third.body.runs].map((r: { id: string }) => r.id);
    expect(paged).toEqual(rows(all.body.runs).map((r) => r.id));
    expect(third.body.next).toBeNull();
  });

  it('answers a bad parameter with 400 and a message that says what is accepted', async () => {
    const cases: Array<[string, RegExp]> = [
      ['limit=0', /"limit" must be a whole number from 1 to 1000, got "0"/],
      ['limit=2.5', /"limit" must be a whole number/],
      ['limit=5000', /from 1 to 1000/],
      ['status=done', /unknown status "done"; use one or more \(comma-separated\) of pending, running/],
      ['since=yesterday', /"since" must be a duration ago \(30m, 2h, 7d\) or an ISO 8601 time/],
      ['until=2026-13-45', /"until" must be/],
      ['workflow=', /"workflow" must not be empty/],
      ['colour=red', /Unknown query parameter "colour"; this path takes status, workflow/],
      ['limit=1&limit=2', /"limit" is given more than once/],
    ];
    for (const [query, message] of cases) {
      const answer = await call(`${base}/api/runs?${query}`).catch((error: Error) => {
        throw new Error(`${query}: ${error.message}`);
      });
      expect([query, answer.status]).toEqual([query, 400]);
      expect(answer.body.error).toEqual({ code: 'ZART_HTTP_BAD_REQUEST', message: expect.stringMatching(message) });
    }
    const afterUnknown = await call(`${base}/api/runs?after=no-such-run`);
    expect(afterUnknown.status).toBe(404);
    expect((await call(`${base}/api/runs/http-order-1?valueLimit=7`)).status).toBe(400);
    expect((await call(`${base}/api/workers?x=1`)).status).toBe(400);
  });

  it('shows a run with its steps, events and children, and 404s unknown runs and paths', async () => {
    const answer = await call(`${base}/api/runs/http-order-1`);
    expect(answer.status).toBe(200);
    const { run, steps, events, children } = answer.body;
    expect(run).toMatchObject({ id: 'http-order-1', workflow: 'http-order', status: 'waiting', input: { sku: 'A-1' } });
    expect(rows(steps).map((s) => [s.key, s.status])).toEqual([
      ['reserve#0', 'completed'],
      ['zart.child#0', 'completed'],
      ['zart.child-result:http-order-1/zart.child#0#0', 'completed'],
      ['zart.event:approved#0', 'waiting'],
    ]);
    // Values are returned as the JSON data they are: markup is a string like any other.
    expect(steps[0].output).toBe('<script>alert("A-1")</script>');
    expect(answer.headers.get('content-type')).toBe('application/json; charset=utf-8');
    expect(answer.headers.get('x-content-type-options')).toBe('nosniff');
    expect(events).toEqual([]);
    expect(children).toEqual([expect.objectContaining({ id: 'http-order-1/zart.child#0', status: 'completed' })]);

    // A child's id holds / and #: percent-encoded in the path.
    const child = await call(`${base}/api/runs/${encodeURIComponent('http-order-1/zart.child#0')}`);
    expect(child.body.run).toMatchObject({ parentId: 'http-order-1', output: 42 });

    const missing = await call(`${base}/api/runs/no-such-run`);
    expect(missing.status).toBe(404);
    expect(missing.body.error.code).toBe('ZART_RUN_NOT_FOUND');
    // An action without a JSON body type is refused before the run is looked up.
    expect((await call(`${base}/api/runs/no-such-run/cancel`, { method: 'POST' })).status).toBe(415);
    expect((await call(`${base}/api/nothing-here`)).status).toBe(404);
    expect((await call(`${base}/api/runs/x/values/secrets`)).status).toBe(404);
    expect((await call(`${base}/elsewhere`)).status).toBe(404);
    const wrongMethod = await call(`${base}/api/runs`, { method: 'DELETE' });
    expect(wrongMethod.status).toBe(405);
    expect(wrongMethod.headers.get('allow')).toBe('GET');
  });

  it('gives errors with their stacks, cuts long values when asked, and serves them whole on their own path', async () => {
    const full = await call(`${base}/api/runs/http-broken-1`);
    const boom = rows(full.body.steps).find((s) => s.key === 'boom#0')!;
    expect(boom.error).toMatchObject({ name: 'StepFailedError', stepKey: 'boom#0', attempts: 1 });
    expect(boom.error.cause).toMatchObject({ name: 'TypeError', message: 'card declined' });
    expect(boom.error.cause.stack).toMatch(/TypeError: card declined\n\s+at /);
    expect(full.body.run.error).toMatchObject({ name: 'StepFailedError' });
    expect(full.body.steps[0].output).toBe('x'.repeat(20_000));

    const cut = await call(`${base}/api/runs/http-broken-1?valueLimit=1000`);
    const ok = rows(cut.body.steps).find((s) => s.key === 'ok#0')!;
    expect(ok.output.$zartTruncated).toEqual({
      length: 20_002,
      preview: `"${'x'.repeat(999)}`,
      path: 'values/steps/ok%230/output',
    });
    const whole = await call(`${base}/api/runs/http-broken-1/${ok.output.$zartTruncated.path}`);
    expect(whole.body.value).toBe('x'.repeat(20_000));
    const input = await call(`${base}/api/runs/http-order-1/values/input`);
    expect(input.body).toEqual({ value: { sku: 'A-1' } });
    expect((await call(`${base}/api/runs/http-broken-1/values/steps/nope%230/output`)).status).toBe(404);
  });

  it('sends an event, which completes the run, and refuses a bad body with 400', async () => {
    const noName = await post(`${base}/api/runs/http-order-1/events`, { payload: { by: 'ada' } });
    expect(noName.status).toBe(400);
    expect(noName.body.error.message).toMatch(/needs "name" as a non-empty string/);
    const typo = await post(`${base}/api/runs/http-order-1/events`, { name: 'approved', paylod: {} });
    expect(typo.status).toBe(400);
    expect(typo.body.error.message).toMatch(/Unknown body field "paylod"; this action takes name, payload/);
    const notJson = await call(`${base}/api/runs/http-order-1/events`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: '{"name":',
    });
    expect(notJson.status).toBe(400);
    expect(notJson.body.error.message).toMatch(/not valid JSON/);
    const array = await post(`${base}/api/runs/http-order-1/events`, ['approved']);
    expect(array.status).toBe(400);

    const sent = await post(`${base}/api/runs/http-order-1/events`, { name: 'approved', payload: { by: 'ada' } });
    expect(sent).toMatchObject({ status: 200, body: { runId: 'http-order-1', name: 'approved', sent: true } });
    await expect(zart.getHandle('http-order-1').result({ timeout: '30s' })).resolves.toBe('approved by ada');
    const events = (await call(`${base}/api/runs/http-order-1`)).body.events;
    expect(events).toEqual([
      expect.objectContaining({ name: 'approved', payload: { by: 'ada' }, consumedBy: 'zart.event:approved#0' }),
    ]);
    const finished = await post(`${base}/api/runs/http-order-1/events`, { name: 'approved' });
    expect(finished.status).toBe(409);
    expect(finished.body.error.code).toBe('ZART_INVALID_RUN_STATE');
  });

  it('cancels, resumes and forks runs, answering 409 for a run in the wrong state', async () => {
    const cancelled = await post(`${base}/api/runs/http-order-2/cancel`, {});
    expect(cancelled).toMatchObject({ status: 200, body: { id: 'http-order-2', cancelled: true } });
    expect(await statusOf('http-order-2')).toBe('cancelled');
    const again = await post(`${base}/api/runs/http-order-2/cancel`, {});
    expect(again.status).toBe(409);
    expect(again.body.error.message).toMatch(/cancel/);
    expect((await post(`${base}/api/runs/http-order-2/cancel`, { force: true })).status).toBe(400);
    expect((await post(`${base}/api/runs/no-such-run/cancel`, {})).status).toBe(404);

    const resumed = await post(`${base}/api/runs/http-broken-1/resume`, {});
    expect(resumed).toMatchObject({ status: 200, body: { id: 'http-broken-1', resumed: true } });
    await waitFor(async () => (await statusOf('http-broken-1')) === 'failed');
    expect((await post(`${base}/api/runs/http-order-1/resume`, {})).status).toBe(409);

    const badStep = await post(`${base}/api/runs/http-broken-1/fork`, { fromStep: 'nope#0' });
    expect(badStep.status).toBe(400);
    expect(badStep.body.error.message).toMatch(/has no step "nope#0" to fork from; its steps are: ok#0, boom#0/);
    expect((await post(`${base}/api/runs/http-broken-1/fork`, {})).status).toBe(400);
    const forked = await post(`${base}/api/runs/http-broken-1/fork`, { fromStep: 'boom#0', id: 'http-broken-1-fork' });
    expect(forked).toMatchObject({
      status: 201,
      body: { id: 'http-broken-1-fork', forkedFrom: 'http-broken-1', fromStep: 'boom#0' },
    });
    expect(
      (await post(`${base}/api/runs/http-broken-1/fork`, { fromStep: 'boom#0', id: 'http-broken-1-fork' })).status,
    ).toBe(409);
    await waitFor(async () => (await statusOf('http-broken-1-fork')) === 'failed');
  });

  it('lists workers and deletes finished runs by age', async () => {
    const workers = await call(`${base}/api/workers`);
    expect(workers.body.workers).toEqual([expect.objectContaining({ pid: process.pid })]);
    const bad = await post(`${base}/api/retention`, { olderThan: 'a while' });
    expect(bad.status).toBe(400);
    expect(bad.body.error.message).toMatch(/"olderThan" must be a duration such as 12h or 30d/);
    expect((await post(`${base}/api/retention`, { olderThan: '1d', batchSize: 0 })).status).toBe(400);
    expect((await post(`${base}/api/retention`, { olderThan: '1d' }, readToken)).status).toBe(403);
    const kept = await post(`${base}/api/retention`, { olderThan: '1d' });
    expect(kept.body).toEqual({ deleted: 0 });
  });

  it('refuses cross-site and non-JSON posts, and never sends CORS headers', async () => {
    const form = await call(`${base}/api/runs/http-order-2/resume`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: 'x=1',
    });
    expect(form.status).toBe(415);
    const plain = await call(`${base}/api/runs/http-order-2/resume`, {
      method: 'POST',
      headers: { 'Content-Type': 'text/plain' },
      body: '{}',
    });
    expect(plain.status).toBe(415);
    const crossSite = await call(`${base}/api/runs/http-order-2/resume`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', 'Sec-Fetch-Site': 'cross-site', Origin: 'https://evil.example' },
      body: '{}',
    });
    expect(crossSite.status).toBe(403);
    expect(crossSite.body.error.code).toBe('ZART_HTTP_CROSS_SITE');
    expect(await statusOf('http-order-2')).toBe('cancelled');

    const preflight = await call(`${base}/api/runs/http-order-2/resume`, {
      method: 'OPTIONS',
      headers: { Origin: 'https://evil.example', 'Access-Control-Request-Method': 'POST' },
    });
    expect(preflight.status).toBe(405);
    for (const answer of [
      preflight,
      crossSite,
      await call(`${base}/api/runs`, { headers: { Origin: 'https://evil.example' } }),
    ]) {
      expect([...answer.headers.keys()].filter((name) => name.startsWith('access-control-'))).toEqual([]);
    }
  });

  it('serves the page and its files without data, with a strict Content-Security-Policy', async () => {
    const page = await call(`${base}/`, { bearer: null });
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
    const csp = page.headers.get('content-security-policy')!;
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("script-src 'self'");
    expect(csp).not.toMatch(/unsafe-inline|unsafe-eval/);
    expect(csp).toContain("frame-ancestors 'none'");
    expect(page.body).not.toMatch(/http-order/);
    expect(page.body).toContain('<script type="module" src="dashboard.js"></script>');
    const script = await call(`${base}/dashboard.js`, { bearer: null });
    expect(script.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    // The page's modules put data on the page as text only.
    for (const module of [
      'dashboard.js',
      'api.js',
      'page.js',
      'values.js',
      'timeline.js',
      'run-page.js',
      'actions.js',
    ]) {
      const source = await call(`${base}/${module}`, { bearer: null });
      expect([module, source.status]).toEqual([module, 200]);
      expect(source.body).not.toMatch(/innerHTML|insertAdjacentHTML|outerHTML|document\.write|eval\(/);
    }
    const again = await call(`${base}/dashboard.js`, {
      bearer: null,
      headers: { 'If-None-Match': script.headers.get('etag')! },
    });
    expect(again.status).toBe(304);
    expect((await call(`${base}/dashboard.css`, { bearer: null })).status).toBe(200);
    expect((await call(`${base}/dashboard.js`, { method: 'POST', bearer: null })).status).toBe(405);
  });

  it('answers under a basePath on a bare server, redirecting the bare prefix to the page', async () => {
    const mounted = await serve({ auth: { token } }, '/ops/zart');
    expect((await call(`${mounted}/api/runs?limit=1`)).body.runs).toHaveLength(1);
    const bare = await call(mounted, { bearer: null });
    expect(bare.status).toBe(308);
    expect(bare.headers.get('location')).toBe('zart/');
    expect((await call(`${mounted}/`, { bearer: null })).status).toBe(200);
    expect((await call(mounted.replace('/ops/zart', '/ops/zartx/api/runs'))).status).toBe(404);
  });

  it("asks the authorize hook for each request's action, and 'none' lets everything through", async () => {
    const asked: ZartHttpAction[] = [];
    const hooked = await serve({
      auth: {
        authorize: (request: IncomingMessage, action: ZartHttpAction) => {
          asked.push(action);
          return request.headers['x-user'] === 'ops' && action !== 'deleteFinishedRuns';
        },
      },
    });
    expect((await call(`${hooked}/api/runs`, { bearer: null })).status).toBe(403);
    expect((await call(`${hooked}/api/runs`, { bearer: null, headers: { 'X-User': 'ops' } })).status).toBe(200);
    const retention = await call(`${hooked}/api/retention`, {
      method: 'POST',
      bearer: null,
      headers: { 'X-User': 'ops', 'Content-Type': 'application/json' },
      body: '{"olderThan":"1d"}',
    });
    expect(retention.status).toBe(403);
    expect(asked).toEqual(['read', 'read', 'deleteFinishedRuns']);

    const open = await serve({ auth: 'none' });
    expect((await call(`${open}/api/runs`, { bearer: null })).status).toBe(200);
    expect((await call(`${open}/api/access`, { bearer: null })).body.actions).toContain('cancel');
  });

  it('serves /metrics from the given source behind the read token, or publicly when asked', async () => {
    const metrics = async (): Promise<{ contentType: string; body: string }> => ({
      contentType: 'text/plain; version=0.0.4',
      body: 'zart_runs_started_total 3\n',
    });
    const guarded = await serve({ auth: { token, readToken }, metrics });
    expect((await call(`${guarded}/metrics`, { bearer: null })).status).toBe(401);
    const scraped = await call(`${guarded}/metrics`, { bearer: readToken });
    expect(scraped.status).toBe(200);
    expect(scraped.headers.get('content-type')).toBe('text/plain; version=0.0.4');
    expect(scraped.body).toBe('zart_runs_started_total 3\n');
    const open = await serve({ auth: { token }, metrics, publicMetrics: true });
    expect((await call(`${open}/metrics`, { bearer: null })).status).toBe(200);
    expect((await call(`${open}/api/runs`, { bearer: null })).status).toBe(401);
    // Without a source, /metrics is not the handler's.
    expect((await call(`${base}/metrics`)).status).toBe(404);
  });

  it('refuses a body over maxBodyBytes with 413', async () => {
    const small = await serve({ auth: { token }, maxBodyBytes: 64 });
    const big = await post(`${small}/api/runs/http-order-2/events`, { name: 'approved', payload: 'x'.repeat(500) });
    expect(big.status).toBe(413);
    expect(big.body.error.message).toMatch(/larger than 64 bytes; raise the handler's maxBodyBytes/);
  });

  it('mounts in a Nest (Express) app with app.use, where the body parser has read the body already', async () => {
    @Module({})
    class AppModule {}
    const app = await NestFactory.create(AppModule, { logger: false });
    app.use('/zart', createZartHttpHandler(zart, { auth: { token }, logger: silentLogger }));
    await app.listen(0, '127.0.0.1');
    try {
      const url = `${await app.getUrl()}/zart`.replace('[::1]', '127.0.0.1');
      expect((await call(`${url}/api/runs?workflow=http-leaf`)).body.runs).toHaveLength(2);
      const redirect = await call(url, { bearer: null });
      expect(redirect.status).toBe(308);
      expect(redirect.headers.get('location')).toBe('zart/');
      expect((await call(`${url}/`, { bearer: null })).body).toContain('dashboard.js');
      await zart.startWorkflow(Order, { sku: 'C-3' }, { id: 'http-order-3' });
      await waitFor(async () => (await statusOf('http-order-3')) === 'waiting');
      const sent = await post(`${url}/api/runs/http-order-3/events`, { name: 'approved', payload: { by: 'nest' } });
      expect(sent.status).toBe(200);
      await expect(zart.getHandle('http-order-3').result({ timeout: '30s' })).resolves.toBe('approved by nest');
      // Outside the handler's paths, Nest answers.
      expect((await call(`${await app.getUrl()}/other`)).status).toBe(404);
    } finally {
      await app.close();
    }
  });
});
