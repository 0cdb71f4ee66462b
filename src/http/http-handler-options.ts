// The options of createZartHttpHandler(): who may read and act (bearer tokens, the app's own hook,
// or explicitly nobody checked), where the handler is mounted, and what it serves besides the API.
// Checked once, when the handler is created: a bad option is a ConfigurationError, never a 500 later.
import type { IncomingMessage } from 'node:http';
import { ConfigurationError } from '../errors';
import { consoleLogger, type ZartLogger } from '../logging/zart-logger';
import { showValue } from '../options/show-value';
import { unknownKeys } from '../options/unknown-keys';

/**
 * What a request asks to do: `read` (the runs, their steps, events and workers), one of the
 * actions, or `metrics` (GET /metrics).
 */
export type ZartHttpAction = 'read' | 'cancel' | 'resume' | 'fork' | 'sendEvent' | 'deleteFinishedRuns' | 'metrics';

/** Every ZartHttpAction that changes something. */
export const changingActions = ['cancel', 'resume', 'fork', 'sendEvent', 'deleteFinishedRuns'] as const;

/** Bearer tokens: `token` may read and act; `readToken` may only read. At least one. */
export interface ZartHttpTokens {
  /** Grants reads and every action (sent as `Authorization: Bearer <token>`). */
  token?: string | undefined;
  /** Grants reads only: the dashboard shows runs but its action buttons are refused. */
  readToken?: string | undefined;
}

/** The app's own access control: allow (true) or deny (false) each request. */
export interface ZartHttpAuthorizer {
  authorize: (request: IncomingMessage, action: ZartHttpAction) => boolean | Promise<boolean>;
}

/**
 * Who may use the handler. `'none'` serves everything to anyone who can reach it: only for a
 * server bound to a trusted network, and only when said so.
 */
export type ZartHttpAuth = ZartHttpTokens | ZartHttpAuthorizer | 'none';

/** What GET /metrics serves, e.g. from prom-client: `{ contentType: register.contentType, body: await register.metrics() }`. */
export type ZartMetricsSource = () => Promise<{ contentType: string; body: string }>;

/** Options of `createZartHttpHandler()`. */
export interface ZartHttpHandlerOptions {
  /** Required: bearer tokens, an `authorize` hook, or `'none'` (no access control at all). */
  auth: ZartHttpAuth;
  /**
   * The path prefix the handler answers under when it sees whole URLs (a bare `http.createServer`),
   * e.g. `'/zart'`. Leave it out where the framework strips the mount path (Express, Nest and
   * Fastify's middie `use('/zart', handler)`). Default: `''`.
   */
  basePath?: string | undefined;
  /** Serve GET /metrics from this source (behind the read access unless `publicMetrics`). */
  metrics?: ZartMetricsSource | undefined;
  /** Serve /metrics without access control (for a scraper on a private network). Default false. */
  publicMetrics?: boolean | undefined;
  /** The largest request body accepted, in bytes (413 beyond). Default 1 MiB. */
  maxBodyBytes?: number | undefined;
  /** Where failures (500s) are logged. Default: the console. */
  logger?: ZartLogger | undefined;
}

/** The options, checked and with their defaults. */
export interface ResolvedZartHttpHandlerOptions {
  auth:
    | { kind: 'tokens'; token: string | null; readToken: string | null }
    | ({ kind: 'hook' } & ZartHttpAuthorizer)
    | { kind: 'none' };
  basePath: string;
  metrics: ZartMetricsSource | null;
  publicMetrics: boolean;
  maxBodyBytes: number;
  logger: ZartLogger;
}

const minimumTokenLength = 16;

export function resolveHttpHandlerOptions(options: ZartHttpHandlerOptions): ResolvedZartHttpHandlerOptions {
  const where = 'createZartHttpHandler(client, options)';
  if (typeof options !== 'object' || options === null) {
    throw new ConfigurationError(
      `${where} needs options with \`auth\`, got ${showValue(options)}. Pass e.g. { auth: { token: process.env.ZART_DASHBOARD_TOKEN } }.`,
    );
  }
  const problems: string[] = [];
  unknownKeys(options, ['auth', 'basePath', 'metrics', 'publicMetrics', 'maxBodyBytes', 'logger'], where, problems);
  if (problems.length > 0) throw new ConfigurationError(problems.join(' '));
  const basePath = options.basePath ?? '';
  if (typeof basePath !== 'string' || (basePath !== '' && !/^\/[^?#]*[^/?#]$/.test(basePath))) {
    throw new ConfigurationError(
      `${where}: basePath must be '' or a path that starts with / and does not end with one, such as '/zart', got ${showValue(basePath)}.`,
    );
  }
  if (options.metrics !== undefined && typeof options.metrics !== 'function') {
    throw new ConfigurationError(
      `${where}: metrics must be a function resolving to { contentType, body }, got ${showValue(options.metrics)}.`,
    );
  }
  const maxBodyBytes = options.maxBodyBytes ?? 1024 * 1024;
  if (!Number.isInteger(maxBodyBytes) || maxBodyBytes < 1) {
    throw new ConfigurationError(
      `${where}: maxBodyBytes must be a positive whole number, got ${showValue(maxBodyBytes)}.`,
    );
  }
  return {
    auth: resolveAuth(options.auth, where),
    basePath,
    metrics: options.metrics ?? null,
    publicMetrics: options.publicMetrics === true,
    maxBodyBytes,
    logger: options.logger ?? consoleLogger,
  };
}

function resolveAuth(auth: unknown, where: string): ResolvedZartHttpHandlerOptions['auth'] {
  const howTo =
    "Pass { token } (reads and actions) and/or { readToken } (reads only), { authorize: (request, action) => boolean } for the app's own access control, or 'none' to serve without any (trusted networks only).";
  if (auth === 'none') return { kind: 'none' };
  if (typeof auth !== 'object' || auth === null) {
    throw new ConfigurationError(
      `${where}: auth is required and must say who may read and act, got ${showValue(auth)}. ${howTo}`,
    );
  }
  if ('authorize' in auth) {
    const { authorize } = auth as Partial<ZartHttpAuthorizer>;
    if (typeof authorize !== 'function' || Object.keys(auth).length !== 1) {
      throw new ConfigurationError(`${where}: auth.authorize must be a function and the only key of auth. ${howTo}`);
    }
    return { kind: 'hook', authorize };
  }
  const problems: string[] = [];
  unknownKeys(auth, ['token', 'readToken'], `${where} { auth }`, problems);
  if (problems.length > 0) throw new ConfigurationError(`${problems.join(' ')} ${howTo}`);
  const { token, readToken } = auth as ZartHttpTokens;
  if (token === undefined && readToken === undefined) {
    throw new ConfigurationError(`${where}: auth has neither token nor readToken. ${howTo}`);
  }
  for (const [name, value] of [
    ['token', token],
    ['readToken', readToken],
  ] as const) {
    if (value !== undefined && (typeof value !== 'string' || value.length < minimumTokenLength || /\s/.test(value))) {
      throw new ConfigurationError(
        `${where}: auth.${name} must be a string of at least ${minimumTokenLength} characters without spaces, got ${typeof value === 'string' ? `${value.length} characters` : showValue(value)}. Generate one with \`openssl rand -hex 32\`.`,
      );
    }
  }
  if (token !== undefined && token === readToken) {
    throw new ConfigurationError(
      `${where}: auth.token and auth.readToken are the same; use two different tokens, or token alone.`,
    );
  }
  return { kind: 'tokens', token: token ?? null, readToken: readToken ?? null };
}
