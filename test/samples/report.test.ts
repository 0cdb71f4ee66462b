// The report sample, run as a user runs it: the HTTP server is redeployed (SIGTERM, a new process
// on the same port) while a report is being built. The client still gets its report, and each
// service was asked once for its part, some by the first server and the rest by the second.
import { useTestDatabase } from '../support/test-zart';
import { runSample } from './sample-process';

const db = useTestDatabase();

describe('samples/report', () => {
  it('answers the request across a redeploy of the server, asking no service twice', async () => {
    const outcome = await runSample('samples/report/main.ts', ['--service-delay', '800'], db.url);
    expect(outcome.stderr).not.toMatch(/Error/);
    expect(outcome.code).toBe(0);
    expect(outcome.stdout).toMatch(/SIGTERM to server 1/);
    expect(outcome.stdout).toMatch(/client: 503/);
    expect(outcome.stdout).toMatch(/Client got its report for \d{4}-\d{2}: revenue [\d.]+ EUR/);
    expect(outcome.stdout).toMatch(/lamp +3 support tickets, 12000 page views/);

    const { rows } = await db.sql.query<{ service: string; caller_pid: number }>(
      'SELECT service, caller_pid FROM report_service_calls ORDER BY service',
    );
    expect(rows.map((row) => row.service)).toEqual(['analytics', 'sales', 'support']);
    const pid = Object.fromEntries(rows.map((row) => [row.service, row.caller_pid]));
    // Sales was under way at the SIGTERM: server 1 finished it; server 2 asked the other two.
    expect(pid.sales).not.toBe(pid.support);
    expect(pid.support).toBe(pid.analytics);

    const { rows: runs } = await db.sql.query<{ status: string }>(
      "SELECT status FROM zart.runs WHERE workflow = 'monthly-report'",
    );
    expect(runs).toEqual([{ status: 'completed' }]);
  });
});
