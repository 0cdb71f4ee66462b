import { useCrashHarness } from '../support/crash-harness';
import { useTestDatabase } from '../support/test-zart';
import { waitFor } from '../support/wait-for';
import { VersionedOrder } from './fixtures/versioned-order.workflow';

const db = useTestDatabase();
const { startWorker, stop } = useCrashHarness(db);

describe('a rolling deploy: workers of two code versions share one database', () => {
  it('runs each run on workers of its version; runs of a version no worker serves wait visibly until moved', async () => {
    const v1 = await startWorker({ ZART_CODE_VERSION: 'v1' });
    await startWorker({ ZART_CODE_VERSION: 'v2' });
    // Runs record the version of the code that starts them.
    const oldCode = await db.client({ version: 'v1' });
    const newCode = await db.client({ version: 'v2' });
    const ids = { v1: ['roll-1a', 'roll-1b', 'roll-1c'], v2: ['roll-2a', 'roll-2b', 'roll-2c'] };
    for (const id of ids.v1) await oldCode.startWorkflow(VersionedOrder, id, { id });
    for (const id of ids.v2) await newCode.startWorkflow(VersionedOrder, id, { id });
    expect((await newCode.getRun('roll-1a')).version).toBe('v1');
    const waiting = async (list: string[]): Promise<boolean> =>
      (await Promise.all(list.map(async (id) => (await newCode.getRun(id)).status))).every((s) => s === 'waiting');
    await waitFor(() => waiting([...ids.v1, ...ids.v2]));

    // Two runs of each version finish while both versions are deployed: each on its own version.
    for (const id of [ids.v1[0]!, ids.v1[1]!, ids.v2[0]!, ids.v2[1]!]) await newCode.sendEvent(id, 'go');
    expect(await newCode.getHandle('roll-1a').result({ timeout: '60s' })).toEqual([
      'v1 took roll-1a',
      'v1 shipped roll-1a',
    ]);
    expect(await newCode.getHandle('roll-1b').result({ timeout: '60s' })).toEqual([
      'v1 took roll-1b',
      'v1 shipped roll-1b',
    ]);
    expect(await newCode.getHandle('roll-2a').result({ timeout: '60s' })).toEqual([
      'v2 took roll-2a',
      'v2 shipped roll-2a',
      'v2 surveyed roll-2a',
    ]);
    await newCode.getHandle('roll-2b').result({ timeout: '60s' });
    expect(await newCode.listRuns({ unserved: true })).toEqual([]);

    // The last v1 worker goes: its run waits, visibly, and no v2 worker replays it.
    await stop(v1);
    await newCode.sendEvent('roll-1c', 'go');
    await newCode.sendEvent('roll-2c', 'go');
    await newCode.getHandle('roll-2c').result({ timeout: '60s' });
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    expect((await newCode.getRun('roll-1c')).status).not.toBe('completed');
    expect((await newCode.getSteps('roll-1c')).map((s) => s.name)).toEqual(['take', 'zart.event:go']);
    expect((await newCode.listRuns({ unserved: true })).map((run) => [run.id, run.version])).toEqual([
      ['roll-1c', 'v1'],
    ]);

    // An operator moves it to v2 (whose code replays v1 histories): a v2 worker finishes it.
    await newCode.moveRun('roll-1c', { version: 'v2' });
    expect(await newCode.getHandle('roll-1c').result({ timeout: '60s' })).toEqual([
      'v1 took roll-1c',
      'v2 shipped roll-1c',
      'v2 surveyed roll-1c',
    ]);
    expect(await newCode.listRuns({ unserved: true })).toEqual([]);
  }, 180_000);

  it('lets a worker replay the versions it declares compatible', async () => {
    const client = await db.client({ version: 'v0' });
    await client.startWorkflow(VersionedOrder, 'roll-0', { id: 'roll-0' });
    await client.sendEvent('roll-0', 'go');
    await startWorker({ ZART_CODE_VERSION: 'v2', ZART_COMPATIBLE_VERSIONS: 'v0' });
    expect(await client.getHandle('roll-0').result({ timeout: '60s' })).toEqual([
      'v2 took roll-0',
      'v2 shipped roll-0',
      'v2 surveyed roll-0',
    ]);
  }, 120_000);
});
