// createZartHttpHandler(): one Node request handler serving the JSON API, the dashboard and
// (optionally) /metrics. It has the (req, res, next) shape that Express, Nest (app.use), Fastify's
// middie and a bare http.createServer all accept, and needs no framework of its own.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { ZartClient } from '../client/zart-client';
import {
  ConfigurationError,
  InvalidRunStateError,
  RunIdConflictError,
  RunNotFoundError,
  SerializationError,
  ShutdownError,
  ValidationError,
  ZartError,
} from '../errors';
import { showValue } from '../options/show-value';
import { apiRoutes, findRoute } from './api-routes';
import { checkAccess, isAllowed } from './check-access';
import { loadDashboardAssets, type DashboardAsset } from './dashboard-assets';
import {
  badRequest,
  checkSameSiteJsonPost,
  HttpProblem,
  methodNotAllowed,
  notFound,
  readJsonObject,
  sendJson,
  sendProblem,
  setSecurityHeaders,
} from './http-exchange';
import {
  resolveHttpHandlerOptions,
  type ResolvedZartHttpHandlerOptions,
  type ZartHttpHandlerOptions,
} from './http-handler-options';

/** A Node request handler; `next` (Express, middie) receives the requests outside its paths. */
export type ZartHttpHandler = (req: IncomingMessage, res: ServerResponse, next?: (error?: unknown) => void) => void;

/**
 * The HTTP API and dashboard over `client` (a `ZartClient` or `Zart`, started by the app).
 * Mount it with `app.use('/zart', handler)` (Express, Nest, Fastify with middie) or call it from
 * `http.createServer` with `basePath`. `auth` is required: see ZartHttpAuth.
 */
export function createZartHttpHandler(client: ZartClient, options: ZartHttpHandlerOptions): ZartHttpHandler {
  if (!(client instanceof ZartClient)) {
    throw new ConfigurationError(
      `createZartHttpHandler(client, options) needs a Zart or ZartClient instance, got ${showValue(client)}.`,
    );
  }
  const resolved = resolveHttpHandlerOptions(options);
  const assets = loadDashboardAssets();
  return (req, res, next) => {
    handle(client, resolved, assets, req, res, next).catch((error: unknown) => {
      fail(resolved, req, res, error);
    });
  };
}

async function handle(
  client: ZartClient,
  options: ResolvedZartHttpHandlerOptions,
  assets: Map<string, DashboardAsset>,
  req: IncomingMessage,
  res: ServerResponse,
  next: ((error?: unknown) => void) | undefined,
): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://zart.invalid');
  const { basePath } = options;
  if (basePath !== '' && url.pathname !== basePath && !url.pathname.startsWith(`${basePath}/`)) {
    return passOn(res, next);
  }
  const rest = url.pathname.slice(basePath.length);
  setSecurityHeaders(res);
  // The page links its script, styles and API relatively, so it must be served at a path ending in /.
  const original = new URL((req as IncomingMessage & { originalUrl?: string }).originalUrl ?? req.url ?? '/', url);
  if ((rest === '' || rest === '/') && !original.pathname.endsWith('/')) {
    const last = original.pathname.slice(original.pathname.lastIndexOf('/') + 1);
    res.writeHead(308, { Location: `${last}/${original.search}`, 'Content-Length': 0 }).end();
    return;
  }
  let segments: string[];
  try {
    segments = rest.split('/').slice(1).map(decodeURIComponent);
  } catch {
    throw badRequest('The path holds a malformed percent-encoding.');
  }
  const method = req.method ?? 'GET';

  const asset = segments.length === 1 ? assets.get(segments[0]!) : undefined;
  if (asset) {
    if (method !== 'GET' && method !== 'HEAD') throw methodNotAllowed(['GET', 'HEAD']);
    return sendAsset(req, res, asset);
  }
  if (segments.length === 1 && segments[0] === 'metrics' && options.metrics) {
    if (method !== 'GET' && method !== 'HEAD') throw methodNotAllowed(['GET', 'HEAD']);
    await checkAccess(req, 'metrics', options);
    const { contentType, body } = await options.metrics();
    res.writeHead(200, { 'Content-Type': contentType, 'Cache-Control': 'no-store' }).end(body);
    return;
  }
  const found = findRoute(apiRoutes, method, segments);
  if (found === null) {
    if (segments[0] !== 'api') return passOn(res, next);
    throw notFound(`There is no API path ${url.pathname}; see the HTTP API section of docs/operations.md.`);
  }
  if ('allowed' in found) throw methodNotAllowed(found.allowed);
  const { route, params } = found;
  await checkAccess(req, route.action, options);
  if (route.method === 'POST') checkSameSiteJsonPost(req);
  const answer = await route.answer(client, {
    params,
    query: url.searchParams,
    req,
    body: () => readJsonObject(req, options.maxBodyBytes),
    allowed: (action) => isAllowed(req, action, options),
  });
  sendJson(res, answer.status, answer.body);
}

function sendAsset(req: IncomingMessage, res: ServerResponse, asset: DashboardAsset): void {
  const headers = { ETag: asset.etag, 'Cache-Control': 'no-cache' };
  if (req.headers['if-none-match'] === asset.etag) {
    res.writeHead(304, headers).end();
    return;
  }
  res
    .writeHead(200, { ...headers, 'Content-Type': asset.contentType, 'Content-Length': asset.body.length })
    .end(asset.body);
}

// Outside the handler's paths: the framework's next handler, or a 404 for a bare server.
function passOn(res: ServerResponse, next: ((error?: unknown) => void) | undefined): void {
  if (next) return next();
  setSecurityHeaders(res);
  sendProblem(res, notFound('Not found.'));
}

function fail(
  options: ResolvedZartHttpHandlerOptions,
  req: IncomingMessage,
  res: ServerResponse,
  error: unknown,
): void {
  const problem = asProblem(error);
  if (!problem) {
    options.logger.error('zart HTTP API: request failed', {
      method: req.method,
      path: req.url?.split('?')[0],
      error: error instanceof Error ? (error.stack ?? error.message) : String(error),
    });
  }
  if (res.headersSent) {
    res.destroy();
    return;
  }
  sendProblem(
    res,
    problem ?? new HttpProblem(500, 'ZART_HTTP_INTERNAL', 'The request failed; the server log has the details.'),
  );
}

// Zart's own errors say what went wrong in the caller's terms: they become 4xx answers with their
// message; anything else is the server's problem and is logged, not shown.
function asProblem(error: unknown): HttpProblem | null {
  if (error instanceof HttpProblem) return error;
  if (!(error instanceof ZartError)) return null;
  if (error instanceof RunNotFoundError) return new HttpProblem(404, error.code, error.message);
  if (error instanceof InvalidRunStateError || error instanceof RunIdConflictError) {
    return new HttpProblem(409, error.code, error.message);
  }
  if (error instanceof ShutdownError) return new HttpProblem(503, error.code, error.message);
  if (error instanceof ValidationError || error instanceof SerializationError || error instanceof ConfigurationError) {
    return new HttpProblem(400, error.code, error.message);
  }
  return null;
}
