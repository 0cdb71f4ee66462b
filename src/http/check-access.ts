// Decides whether a request may do what it asks (read, an action, metrics) under the configured
// auth: bearer tokens compared in constant time, or the app's own hook. Throws the 401/403 problem.
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { HttpProblem } from './http-exchange';
import type { ResolvedZartHttpHandlerOptions, ZartHttpAction } from './http-handler-options';

/** Whether the request may do `action`; the hook's own failure propagates (a 500, logged). */
export async function isAllowed(
  req: IncomingMessage,
  action: ZartHttpAction,
  options: ResolvedZartHttpHandlerOptions,
): Promise<boolean> {
  const { auth } = options;
  if (auth.kind === 'none') return true;
  if (action === 'metrics' && options.publicMetrics) return true;
  if (auth.kind === 'hook') return (await auth.authorize(req, action)) === true;
  const presented = bearerToken(req);
  if (presented === null) return false;
  if (auth.token !== null && sameToken(presented, auth.token)) return true;
  const readOnly = action === 'read' || action === 'metrics';
  return readOnly && auth.readToken !== null && sameToken(presented, auth.readToken);
}

/** Throws 401 (no or unknown credentials) or 403 (known, but not for this action) unless allowed. */
export async function checkAccess(
  req: IncomingMessage,
  action: ZartHttpAction,
  options: ResolvedZartHttpHandlerOptions,
): Promise<void> {
  if (await isAllowed(req, action, options)) return;
  const { auth } = options;
  if (auth.kind === 'tokens') {
    const presented = bearerToken(req);
    const known = presented !== null && [auth.token, auth.readToken].some((t) => t !== null && sameToken(presented, t));
    if (!known) {
      throw new HttpProblem(
        401,
        'ZART_HTTP_UNAUTHORIZED',
        presented === null
          ? 'Send the dashboard token as Authorization: Bearer <token>.'
          : 'The bearer token is not one this server accepts.',
        { 'WWW-Authenticate': 'Bearer realm="zart"' },
      );
    }
  }
  throw new HttpProblem(
    403,
    'ZART_HTTP_FORBIDDEN',
    auth.kind === 'tokens'
      ? `This token may only read; "${action}" needs the token that may act.`
      : `Not allowed to ${action === 'read' ? 'read runs' : action} here.`,
  );
}

function bearerToken(req: IncomingMessage): string | null {
  const header = req.headers.authorization;
  const match = header === undefined ? null : /^Bearer\s+(\S+)\s*$/i.exec(header);
  return match?.[1] ?? null;
}

// Digests first: timingSafeEqual needs equal lengths, and the length of a token is no secret worth
// leaking either.
function sameToken(presented: string, expected: string): boolean {
  const digest = (text: string): Buffer => createHash('sha256').update(text).digest();
  return timingSafeEqual(digest(presented), digest(expected));
}
