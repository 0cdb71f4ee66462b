import { useTestDatabase } from '../support/test-zart';
import { useCrashHarness } from '../support/crash-harness';
import { EventWaits } from './fixtures/event-waits.workflow';

const db = useTestDatabase();
const { startWorker, spawnWorker, kill } = useCrashHarness(db);

describe('a worker SIGKILLed after consuming an event', () => {
  it('replays the consumed payload; the next wait takes the next event, each exactly once', async () => {
    const client = await db.client();
    const doomed = await startWorker({ ZART_HANG_AT_STEP: 'between' });
    await client.startWorkflow(EventWaits, undefined as never, { id: 'events-crash' });
    await client.sendEvent('events-crash', 'go', 'first');
    await doomed.waitForLine('IN_BETWEEN', 20_000);
    await kill(doomed);
    await client.sendEvent('events-crash', 'go', 'second'); // sent while no worker runs: buffered

    spawnWorker();
    const result = await client.getHandle<string[]>('events-crash').result({ timeout: '60s' });
    expect(result).toEqual(['first', 'second']);
    const { rows } = await db.sql.query(
      "SELECT payload->>'json' AS payload, consumed_by_key FROM zart.events WHERE run_id = 'events-crash' ORDER BY id",
    );
    expect(rows).toEqual([
      { payload: 'first', consumed_by_key: 'zart.event:go#0' },
      { payload: 'second', consumed_by_key: 'zart.event:go#1' },
    ]);
  }, 120_000);
});
