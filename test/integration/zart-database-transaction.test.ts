// ZartDatabase.transaction(): the connection of a transaction that is lost between two statements
// (a terminated backend, a network loss) fails the transaction with a connection error, is not
// returned to the pool, and never becomes an unhandled 'error' event that kills the process.
import { isConnectionError } from '../../src/storage/reconnect';
import type { ZartDatabase } from '../../src/storage/zart-database';
import { openZartDatabase, useTestDatabase } from '../support/test-zart';

const db = useTestDatabase();
let zartDb: ZartDatabase;

beforeAll(async () => {
  zartDb = await openZartDatabase(db.url, { poolSize: 2, migrate: false });
});

afterAll(async () => {
  await zartDb.close();
});

describe('a transaction whose connection is lost between two statements', () => {
  it('fails with a connection error, and the pool goes on with a new connection', async () => {
    const failure = await zartDb
      .transaction(async (query) => {
        const { rows } = await query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
        await db.sql.query('SELECT pg_terminate_backend($1)', [rows[0]!.pid]);
        // Idle in the transaction while the socket closes: the driver reports it as an event.
        await new Promise((resolve) => setTimeout(resolve, 200));
        await query('SELECT 1');
      })
      .catch((error: unknown) => error);

    expect(isConnectionError(failure)).toBe(true);
    const again = await zartDb.transaction((query) => query<{ one: number }>('SELECT 1 AS one'));
    expect(again.rows).toEqual([{ one: 1 }]);
  });
});
