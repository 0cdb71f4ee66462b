// The content-pipeline sample, run as a user runs it: its first deployment gets a real SIGTERM
// halfway and a second one finishes. Checked from the database: every page published exactly once.
import { useTestDatabase } from '../support/test-zart';
import { runSample } from './sample-process';

const db = useTestDatabase();

describe('samples/content-pipeline', () => {
  it('publishes every page exactly once across a graceful redeploy halfway, and reports pages/s', async () => {
    const pages = 400;
    const outcome = await runSample(
      'samples/content-pipeline/main.ts',
      ['--pages', String(pages), '--batch-size', '50', '--parallel', '10', '--concurrency', '4'],
      db.url,
    );
    expect(outcome.stderr).not.toMatch(/Error/);
    expect(outcome.code).toBe(0);
    expect(outcome.stdout).toMatch(/SIGTERM to deployment 1, starting deployment 2/);
    expect(outcome.stdout).toMatch(/\d+ pages\/s/);
    expect(outcome.stdout).toMatch(/Every page was published exactly once/);

    const { rows } = await db.sql.query<{ page: number; times: number }>(
      'SELECT page, count(*)::int AS times FROM content_pipeline_pages GROUP BY page ORDER BY page',
    );
    expect(rows).toHaveLength(pages);
    expect(rows.filter((row) => row.times !== 1)).toEqual([]);

    // Both deployments published pages: the SIGTERM landed halfway, not before or after the work.
    const { rows: byProcess } = await db.sql.query<{ pages: number }>(
      'SELECT count(*)::int AS pages FROM content_pipeline_pages GROUP BY published_by',
    );
    expect(byProcess).toHaveLength(2);
    expect(byProcess.every((row) => row.pages > 0)).toBe(true);

    // The runs themselves: the site run and its 8 batches completed.
    const { rows: runs } = await db.sql.query<{ workflow: string; status: string; n: number }>(
      'SELECT workflow, status, count(*)::int AS n FROM zart.runs GROUP BY workflow, status ORDER BY workflow',
    );
    expect(runs).toEqual([
      { workflow: 'publish-batch', status: 'completed', n: 8 },
      { workflow: 'publish-site', status: 'completed', n: 1 },
    ]);
  });
});
