// The report endpoint across a redeploy. This program starts the HTTP server in a child process,
// asks it for a report, and while the report is being built redeploys: SIGTERM to the server, a new
// server on the same port. The client retries and gets its report; the services' call logs show
// that no part was asked for twice.
//
//   npm run sample:report                        the demo above
//   node dist/samples/report/main.js serve --port 8787    just the server (try: curl localhost:8787/reports/2026-11)
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { setTimeout as delay } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { Client } from 'pg';
import { resolveDatabaseUrl } from 'zart/testing';
import { fetchReport } from './report-client';
import { startReportServer } from './report-server';

const say = (line: string): void => console.log(line);

async function demo(serviceDelayMs: number): Promise<void> {
  const database = await resolveDatabaseUrl({ database: 'zart_report' });
  const sql = new Client({ connectionString: database.url });
  const servers: ChildProcess[] = [];
  try {
    await sql.connect();
    const port = await freePort();
    const period = new Date().toISOString().slice(0, 7);
    const url = `http://127.0.0.1:${port}/reports/${period}`;

    servers.push(await startServer(1, database.url, port, serviceDelayMs));
    say(`Client: GET ${url}`);
    const report = fetchReport(url, say);

    // Redeploy while the report is being built: as soon as the first service is being asked.
    while ((await calls(sql, period, servers)).length === 0) await delay(50);
    say('Redeploying: SIGTERM to server 1 while it waits for the sales service.');
    servers[0]!.kill('SIGTERM');
    await new Promise((resolve) => servers[0]!.once('exit', resolve));
    servers.push(await startServer(2, database.url, port, serviceDelayMs));

    const { revenue, products } = await report;
    say(`\nClient got its report for ${period}: revenue ${revenue}`);
    for (const product of products) {
      say(`  ${product.name.padEnd(6)} ${product.supportTickets} support tickets, ${product.pageViews} page views`);
    }
    say('\nThe services were asked once for each part:');
    for (const call of await calls(sql, period, servers)) {
      const server = servers.findIndex((child) => child.pid === call.caller_pid) + 1;
      say(`  ${call.service.padEnd(10)} asked by server ${server} (pid ${call.caller_pid})`);
    }
    servers[1]!.kill('SIGTERM');
    await new Promise((resolve) => servers[1]!.once('exit', resolve));
  } finally {
    for (const server of servers) server.kill('SIGKILL');
    await sql.end();
    await database.close();
  }
}

// The calls this demo's servers made (earlier demos may have asked for the same period).
async function calls(
  sql: Client,
  period: string,
  servers: ChildProcess[],
): Promise<Array<{ service: string; caller_pid: number }>> {
  const { rows } = await sql.query<{ service: string; caller_pid: number }>(
    'SELECT service, caller_pid FROM report_service_calls WHERE period = $1 AND caller_pid = ANY($2) ORDER BY started_at',
    [period, servers.map((server) => server.pid)],
  );
  return rows;
}

// The server is this same program in another process, so that SIGTERM hits a real server.
async function startServer(number: number, url: string, port: number, serviceDelayMs: number): Promise<ChildProcess> {
  const child = spawn(
    process.execPath,
    [
      ...process.execArgv,
      __filename,
      'serve',
      `--port=${port}`,
      `--service-delay=${serviceDelayMs}`,
      `--name=server ${number}`,
    ],
    { env: { ...process.env, DATABASE_URL: url }, stdio: ['ignore', 'pipe', 'inherit'] },
  );
  child.stdout.pipe(process.stdout);
  await new Promise<void>((resolve, reject) => {
    child.stdout.on('data', (chunk: Buffer) => chunk.toString().includes('listening on') && resolve());
    child.once('exit', (code) => reject(new Error(`server ${number} exited (${code}) before listening`)));
  });
  return child;
}

async function serve(port: number, serviceDelayMs: number, name: string): Promise<void> {
  const log = (line: string): void => console.log(`  ${name} (pid ${process.pid}): ${line}`);
  const database = await resolveDatabaseUrl({ database: 'zart_report' });
  const server = await startReportServer({ databaseUrl: database.url, port, serviceDelayMs, log });
  log(`listening on http://127.0.0.1:${server.port}`);
  process.once('SIGTERM', () => {
    log('SIGTERM: asking waiting clients to retry, finishing the step in flight, handing the run back');
    void server.stop().then(async () => {
      log('stopped');
      await database.close();
      process.exit(0);
    });
  });
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer().listen(0, '127.0.0.1', () => {
      const address = probe.address();
      probe.close(() =>
        typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port')),
      );
    });
  });
}

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    port: { type: 'string', default: '8787' },
    'service-delay': { type: 'string', default: '1500' },
    name: { type: 'string', default: 'server' },
  },
});
const serviceDelayMs = Number(values['service-delay']);
(positionals[0] === 'serve' ? serve(Number(values.port), serviceDelayMs, values.name) : demo(serviceDelayMs)).catch(
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
