import { DataSource, type DataSourceOptions } from 'typeorm';
import { Zart, ZartClient } from '../../src';
import { silentLogger } from '../support/silent-logger';
import { useTestDatabase } from '../support/test-zart';

const db = useTestDatabase();

/** application_name of every other client connection to the test database, with how many have it. */
async function connectionNames(): Promise<Record<string, number>> {
  const { rows } = await db.sql.query<{ name: string; count: string }>(
    `SELECT application_name AS name, count(*) AS count FROM pg_stat_activity
     WHERE datname = current_database() AND pid <> pg_backend_pid() AND backend_type = 'client backend'
     GROUP BY 1`,
  );
  return Object.fromEntries(rows.map((row) => [row.name, Number(row.count)]));
}

async function noOtherConnections(): Promise<void> {
  while (Object.keys(await connectionNames()).length > 0) await new Promise((resolve) => setTimeout(resolve, 20));
}

describe('the application_name of Zart’s own connections', () => {
  afterEach(noOtherConnections);

  it('is zart-worker for an instance with a worker, zart for a client', async () => {
    const zart = new Zart({ connectionString: db.url, logger: silentLogger, schema: 'names_url' });
    const client = new ZartClient({ connectionString: db.url, logger: silentLogger, schema: 'names_url' });
    await zart.start();
    await client.start();
    try {
      await client.listRuns();
      expect(Object.keys(await connectionNames()).sort()).toEqual(['zart', 'zart-worker']);
    } finally {
      await client.shutdown();
      await zart.shutdown({ drain: 0 });
    }
  });

  it.each<[string, (url: string) => Partial<DataSourceOptions>, string]>([
    ['unnamed', (url) => ({ url }), ''],
    ['applicationName', (url) => ({ url, applicationName: 'orders-api' }), 'orders-api'],
    ['a URL parameter', (url) => ({ url: `${url}?application_name=orders-api` }), 'orders-api'],
    ['extra.application_name', (url) => ({ url, extra: { application_name: 'orders-api' } }), 'orders-api'],
  ])(
    'stays Zart’s with the application’s DataSource (%s), whose connections keep their name',
    async (_, options, appName) => {
      const app = new DataSource({ type: 'postgres', ...options(db.url) } as DataSourceOptions);
      await app.initialize();
      const zart = new Zart({ dataSource: app, logger: silentLogger, schema: 'names_ds' });
      await zart.start();
      try {
        await app.query('SELECT 1');
        const names = await connectionNames();
        expect(names['zart-worker']).toBeGreaterThan(0);
        // The application's pool holds one idle connection after its query: only it has the app's name.
        expect(names).toEqual({ 'zart-worker': names['zart-worker'], [appName]: 1 });
      } finally {
        await zart.shutdown({ drain: 0 });
        await app.destroy();
      }
    },
  );
});
