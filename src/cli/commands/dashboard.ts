// `zart dashboard`: serves the HTTP API and the dashboard standalone on a port until SIGINT or
// SIGTERM, then closes its connections and the database pool and exits 0. Without a token it makes
// one up for this process and prints it in the URL's fragment (which browsers never send).
import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { Command } from 'commander';
import { ConfigurationError } from '../../errors';
import { createZartHttpHandler } from '../../http/create-zart-http-handler';
import type { ZartHttpAuth } from '../../http/http-handler-options';
import type { CliContext } from '../cli-context';
import { UsageError } from '../cli-context';
import { printJson } from '../output';

interface DashboardFlags {
  port: string;
  host: string;
  token?: string;
  readToken?: string;
  insecureNoAuth?: boolean;
}

export function registerDashboardCommand(program: Command, context: () => CliContext): void {
  program
    .command('dashboard')
    .description('serve the web dashboard and the HTTP API until stopped (Ctrl+C, SIGTERM)')
    .option('--port <n>', 'port to listen on (0: any free port)', '8080')
    .option('--host <address>', 'address to listen on; 0.0.0.0 for every interface', '127.0.0.1')
    .option('--token <token>', 'bearer token for reads and actions (default: ZART_DASHBOARD_TOKEN, else a new one)')
    .option('--read-token <token>', 'bearer token for reads only (default: ZART_DASHBOARD_READ_TOKEN)')
    .option('--insecure-no-auth', 'serve without any token: anyone who can reach the port may read and act')
    .action(async (flags: DashboardFlags) => serveDashboard(context(), flags));
}

async function serveDashboard(ctx: CliContext, flags: DashboardFlags): Promise<void> {
  const port = Number(flags.port);
  if (!/^\d+$/.test(flags.port) || port > 65535) {
    throw new UsageError(`--port must be a whole number from 0 to 65535, got "${flags.port}".`);
  }
  const token = flags.token ?? (process.env.ZART_DASHBOARD_TOKEN || undefined);
  const readToken = flags.readToken ?? (process.env.ZART_DASHBOARD_READ_TOKEN || undefined);
  if (flags.insecureNoAuth && (token !== undefined || readToken !== undefined)) {
    throw new UsageError('--insecure-no-auth and a token exclude each other; pass one or the other.');
  }
  const generated = !flags.insecureNoAuth && token === undefined && readToken === undefined;
  const auth: ZartHttpAuth = flags.insecureNoAuth
    ? 'none'
    : generated
      ? { token: randomBytes(24).toString('base64url') }
      : { ...(token === undefined ? {} : { token }), ...(readToken === undefined ? {} : { readToken }) };

  await ctx.withClient(async (client) => {
    const handler = createZartHttpHandler(client, {
      auth,
      logger: {
        debug: () => undefined,
        info: () => undefined,
        warn: (message) => ctx.io.err(`zart: warning: ${message}\n`),
        error: (message, fields) => ctx.io.err(`zart: error: ${message} ${JSON.stringify(fields ?? {})}\n`),
      },
    });
    const server = createServer((req, res) => handler(req, res));
    const address = await listen(server, port, flags.host);
    const shownHost = flags.host.includes(':') ? `[${flags.host}]` : flags.host;
    const url = `http://${shownHost}:${address}/`;
    const link = generated && typeof auth === 'object' && 'token' in auth ? `${url}#token=${auth.token}` : url;
    if (ctx.json) {
      printJson(ctx.io, { url, ...(generated ? { link } : {}), auth: flags.insecureNoAuth ? 'none' : 'token' });
    } else {
      ctx.io.out(`zart dashboard: ${link}\n`);
      if (generated)
        ctx.io.out('(a token made up for this process; pass --token or set ZART_DASHBOARD_TOKEN to choose one)\n');
      if (flags.insecureNoAuth)
        ctx.io.out('Warning: no access control: anyone who can reach this port may read and act.\n');
      ctx.io.out('Press Ctrl+C to stop.\n');
    }
    const signal = await stopSignal();
    await close(server);
    if (!ctx.json) ctx.io.out(`zart dashboard: stopped (${signal}).\n`);
  });
}

function listen(server: Server, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) => {
      reject(
        error.code === 'EADDRINUSE'
          ? new ConfigurationError(`Port ${port} on ${host} is in use; pass another --port.`)
          : new ConfigurationError(`Cannot listen on ${host}:${port}: ${error.message}. Check --host and --port.`),
      );
    });
    server.listen(port, host, () => {
      const address = server.address();
      resolve(typeof address === 'object' && address !== null ? address.port : port);
    });
  });
}

function stopSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    const stop = (signal: NodeJS.Signals): void => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      resolve(signal);
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
}

// Stops accepting, ends idle keep-alive connections, and cuts the rest: the dashboard's requests
// are short reads and single actions, nothing worth waiting for at shutdown.
function close(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeIdleConnections();
    server.closeAllConnections();
  });
}
