// Child process of the embedded PostgreSQL tests: owns a server so a test can SIGKILL it (leaving
// an orphan) or ask it to stop. Prints one JSON line when ready; a line "stop" on stdin stops it.
import { startEmbeddedPostgres } from '../../src/embedded/embedded-postgres-server';

async function main(): Promise<void> {
  const [dataDir, port] = process.argv.slice(2);
  // ZART_EMBEDDED_LOG=1 shows PostgreSQL's output and Zart's decisions when a test fails.
  const log = process.env.ZART_EMBEDDED_LOG ? (line: string) => process.stderr.write(`${line}\n`) : undefined;
  const server = await startEmbeddedPostgres({ dataDir, port: Number(port), log });
  const { url, reused } = server;
  process.stdout.write(`${JSON.stringify({ ready: true, url, port: server.port, reused, pid: process.pid })}\n`);

  process.stdin.setEncoding('utf8');
  for await (const chunk of process.stdin) {
    if (String(chunk).includes('stop')) {
      await server.stop();
      process.stdout.write(`${JSON.stringify({ stopped: true })}\n`);
      break;
    }
  }
  // stdin closed (the test runner died) or stopped: exiting stops a server this process started.
  process.exit(0);
}

main().catch((error: unknown) => {
  const { name, message } = error instanceof Error ? error : { name: 'unknown', message: String(error) };
  process.stdout.write(`${JSON.stringify({ error: message, name })}\n`);
  process.exit(1);
});
