// listRuns() pages newest first with `after`: every run shows up on exactly one page, runs created
// within one millisecond too (the column keeps microseconds, a JavaScript Date milliseconds).
import { Workflow } from '../../src';
import { useTestDatabase } from '../support/test-zart';

const db = useTestDatabase();

@Workflow({ name: 'list-runs-page' })
class Page {
  async run(): Promise<void> {}
}

it('pages with after through runs created microseconds apart, each on one page', async () => {
  const client = await db.client();
  const ids = ['page-a', 'page-b', 'page-c', 'page-d'];
  for (const id of ids) await client.startWorkflow(Page, undefined as never, { id });
  // Within one millisecond, as runs started in one statement are; page-d is the newest.
  await db.sql.query(
    `UPDATE zart.runs SET created_at = timestamptz '2026-01-01 00:00:00.123000+00' + (ord * interval '1 microsecond')
     FROM unnest($1::text[]) WITH ORDINALITY AS r(id, ord) WHERE runs.id = r.id`,
    [ids],
  );

  const seen: string[] = [];
  let after: string | undefined;
  for (let page = 0; page < ids.length + 1; page++) {
    const runs = await client.listRuns({ workflow: 'list-runs-page', limit: 1, ...(after ? { after } : {}) });
    if (runs.length === 0) break;
    seen.push(runs[0]!.id);
    after = runs[0]!.id;
  }
  expect(seen).toEqual(['page-d', 'page-c', 'page-b', 'page-a']);
});
