// One request and its response as the HTTP API sees them: the security headers every response
// carries, JSON answers and errors, and a request body read with a size limit. Knows nothing of
// runs; the routes do.
import type { IncomingMessage, ServerResponse } from 'node:http';

/** A failure the client caused or may retry: its status and a sentence saying what to change. */
export class HttpProblem extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = 'HttpProblem';
  }
}

// A strict policy: the page loads its own script and styles and talks to its own origin; no inline
// script or style, no framing, no form posts, no plugins. Data is inserted with textContent, so
// even a policy bypass would find no markup built from stored values.
const contentSecurityPolicy = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

/** Headers on every response, data or page. No Access-Control-* header is ever sent: same origin only. */
export function setSecurityHeaders(res: ServerResponse): void {
  res.setHeader('Content-Security-Policy', contentSecurityPolicy);
  res.setHeader('X-Content-Type-Options', 'nosniff');
  res.setHeader('X-Frame-Options', 'DENY');
  res.setHeader('Referrer-Policy', 'no-referrer');
  res.setHeader('Cross-Origin-Opener-Policy', 'same-origin');
  res.setHeader('Cross-Origin-Resource-Policy', 'same-origin');
}

/** Answers with `body` as JSON; API answers are never cached (they hold run data). */
export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const text = JSON.stringify(body);
  res.statusCode = status;
  for (const [name, value] of Object.entries(headers)) res.setHeader(name, value);
  res.setHeader('Content-Type', 'application/json; charset=utf-8');
  res.setHeader('Cache-Control', 'no-store');
  res.setHeader('Content-Length', Buffer.byteLength(text));
  res.end(text);
}

/** Answers with a problem: `{ error: { code, message } }`. */
export function sendProblem(res: ServerResponse, problem: HttpProblem): void {
  sendJson(res, problem.status, { error: { code: problem.code, message: problem.message } }, problem.headers);
}

export function badRequest(message: string): HttpProblem {
  return new HttpProblem(400, 'ZART_HTTP_BAD_REQUEST', message);
}

export function notFound(message: string): HttpProblem {
  return new HttpProblem(404, 'ZART_HTTP_NOT_FOUND', message);
}

export function methodNotAllowed(allowed: string[]): HttpProblem {
  return new HttpProblem(405, 'ZART_HTTP_METHOD_NOT_ALLOWED', `This path answers ${allowed.join(' and ')} only.`, {
    Allow: allowed.join(', '),
  });
}

/**
 * Refuses what a cross-site page could make a browser send: a form post (only JSON is accepted,
 * and a cross-origin JSON POST needs a CORS preflight this handler never grants), and any request
 * the browser marks as coming from another site.
 */
export function checkSameSiteJsonPost(req: IncomingMessage): void {
  const site = req.headers['sec-fetch-site'];
  if (site !== undefined && site !== 'same-origin' && site !== 'none') {
    throw new HttpProblem(
      403,
      'ZART_HTTP_CROSS_SITE',
      "Actions are accepted from the dashboard's own origin only; this request came from another site.",
    );
  }
  const type = req.headers['content-type'] ?? '';
  if (!/^application\/json\s*(;|$)/i.test(type)) {
    throw new HttpProblem(
      415,
      'ZART_HTTP_UNSUPPORTED_MEDIA_TYPE',
      `Actions take a JSON body: send Content-Type: application/json (got ${type === '' ? 'none' : JSON.stringify(type)}).`,
    );
  }
}

/**
 * The request's JSON body as an object (`{}` when empty). A body a framework has parsed already
 * (Express's json(), Nest's default body parser) is taken from `req.body`: the stream is consumed.
 */
export async function readJsonObject(req: IncomingMessage, maxBytes: number): Promise<Record<string, unknown>> {
  const parsed = (req as IncomingMessage & { body?: unknown }).body;
  let value: unknown;
  if (parsed !== undefined && !Buffer.isBuffer(parsed) && typeof parsed !== 'string') {
    value = parsed;
  } else {
    const text = parsed !== undefined ? String(parsed) : await readText(req, maxBytes);
    if (text.trim() === '') return {};
    try {
      value = JSON.parse(text) as unknown;
    } catch (error) {
      throw badRequest(`The request body is not valid JSON: ${(error as Error).message}.`);
    }
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw badRequest('The request body must be a JSON object, e.g. {"name":"approved","payload":{"by":"ada"}}.');
  }
  return value as Record<string, unknown>;
}

async function readText(req: IncomingMessage, maxBytes: number): Promise<string> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > maxBytes) throw tooLarge(maxBytes);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > maxBytes) {
      // Stop reading: the rest is not wanted. The answer is sent before the stream ends.
      req.pause();
      throw tooLarge(maxBytes);
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function tooLarge(maxBytes: number): HttpProblem {
  return new HttpProblem(
    413,
    'ZART_HTTP_BODY_TOO_LARGE',
    `The request body is larger than ${maxBytes} bytes; raise the handler's maxBodyBytes option to accept it.`,
  );
}
