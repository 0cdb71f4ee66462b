// The HTTP endpoint (node:http, no framework): GET /reports/<yyyy-mm> answers with the report,
// built by a durable run whose id is the period and the request's Idempotency-Key header. On SIGTERM the server stops taking requests, asks
// the clients still waiting to come back (503 + Retry-After), and hands the run back at its next
// step boundary; whichever server answers the client's retry continues the same run.
import { createServer, type ServerResponse } from 'node:http';
import { Pool } from 'pg';
import { Zart } from 'zart';
import { BuildReport } from './build-report.workflow';
import { ReportServices, createCallLogTable } from './report-services';

export interface ReportServerOptions {
  databaseUrl: string;
  port: number;
  serviceDelayMs: number;
  log: (line: string) => void;
}

export interface ReportServer {
  port: number;
  /** The graceful part of a redeploy. */
  stop(): Promise<void>;
}

export async function startReportServer(options: ReportServerOptions): Promise<ReportServer> {
  const callLog = new Pool({ connectionString: options.databaseUrl, max: 4 });
  await callLog.query(createCallLogTable);
  const zart = new Zart({
    connectionString: options.databaseUrl,
    resolve: () => new BuildReport(new ReportServices(callLog, options.serviceDelayMs)),
  });
  await zart.start();
  const waiting = new Set<ServerResponse>();
  let stopping = false;

  const server = createServer((request, response) => {
    const period = /^\/reports\/(\d{4}-\d{2})$/.exec(request.url ?? '')?.[1];
    if (request.method !== 'GET' || !period) {
      return respond(response, 404, { error: 'GET /reports/<yyyy-mm>, e.g. /reports/2026-11' });
    }
    const key = request.headers['idempotency-key'];
    if (key !== undefined && (typeof key !== 'string' || !/^[\w-]{1,100}$/.test(key))) {
      return respond(response, 400, { error: 'Idempotency-Key: up to 100 letters, digits, _ or -' });
    }
    options.log(`GET /reports/${period}${key ? ` (Idempotency-Key ${key})` : ''}`);
    waiting.add(response);
    // The run id makes the request idempotent: a retry with the same key, on this server or another,
    // joins the run already under way instead of starting a second one. Without a key, the report of
    // a period is built once and then served from the run's stored output.
    zart
      .startWorkflow(BuildReport, { period }, { id: key ? `report-${period}-${key}` : `report-${period}` })
      .then((handle) => handle.result())
      .then(
        (report) => respond(response, 200, report),
        (error: unknown) =>
          stopping
            ? respond(response, 503, { error: 'server restarting, try again' })
            : respond(response, 500, { error: error instanceof Error ? error.message : String(error) }),
      )
      .finally(() => waiting.delete(response));
  });
  await new Promise<void>((resolve) => server.listen(options.port, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : options.port;

  return {
    port,
    async stop() {
      stopping = true;
      server.close();
      // These clients' runs go on elsewhere: tell them to retry rather than cut them off.
      for (const response of waiting) respond(response, 503, { error: 'server restarting, try again' });
      server.closeAllConnections();
      // Steps in flight finish and checkpoint; each run is handed back at its next step boundary.
      await zart.shutdown();
      await callLog.end();
    },
  };
}

function respond(response: ServerResponse, status: number, body: unknown): void {
  if (response.headersSent) return;
  response.writeHead(status, {
    'content-type': 'application/json',
    connection: 'close',
    ...(status === 503 ? { 'retry-after': '1' } : {}),
  });
  response.end(JSON.stringify(body));
}
