// A client that gets its report across a redeploy: it retries, with the same URL and idempotency
// key, when the server asks it to (503) or cannot be reached for a moment (the new server is still
// starting). A new key asks for a fresh report.
import { randomUUID } from 'node:crypto';
import { setTimeout as delay } from 'node:timers/promises';
import type { Report } from './build-report.workflow';

export async function fetchReport(
  url: string,
  log: (line: string) => void,
  idempotencyKey = randomUUID(),
  giveUpAfterMs = 120_000,
): Promise<Report> {
  const deadline = Date.now() + giveUpAfterMs;
  let unreachable = false;
  for (;;) {
    try {
      const response = await fetch(url, { headers: { 'idempotency-key': idempotencyKey } });
      unreachable = false;
      if (response.status === 200) return (await response.json()) as Report;
      if (response.status !== 503) throw new Error(`${url}: ${response.status} ${await response.text()}`);
      log(`client: 503 (${((await response.json()) as { error: string }).error}), retrying`);
    } catch (error) {
      if (!(error instanceof TypeError)) throw error; // fetch's TypeError: the server is not there
      if (!unreachable) log('client: no server on the other end yet, retrying until there is');
      unreachable = true;
    }
    if (Date.now() > deadline) throw new Error(`${url}: no report within ${giveUpAfterMs} ms`);
    await delay(250);
  }
}
