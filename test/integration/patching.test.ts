import { Workflow, deprecatePatch, patched, step, type ZartClient } from '../../src';
import { useTestDatabase } from '../support/test-zart';
import { waitFor } from '../support/wait-for';

const db = useTestDatabase();

// The code as it is deployed, one version after the other: 1 before the change, 2 with
// patched('notify'), 3 with deprecatePatch('notify'), 4 with the patch call removed.
let deployed = 1;
// The first execution of a run blocks at its end, so the run is replayed by the next deploy.
let holding = true;
const notified: string[] = [];

@Workflow({ name: 'patched-order' })
class PatchedOrder {
  async run(order: string): Promise<string[]> {
    const done = [await step('reserve', () => `reserved ${order}`)];
    if (deployed === 2 ? await patched('notify') : deployed >= 3) {
      if (deployed === 3) await deprecatePatch('notify');
      done.push(
        await step('notify', () => {
          notified.push(order);
          return `notified ${order}`;
        }),
      );
    }
    done.push(await step('ship', () => `shipped ${order}`));
    if (holding) await step('hold', () => new Promise(() => undefined));
    return done;
  }
}

// Starts `id` on the code deployed now, records it up to the hold, and hands it over.
async function record(id: string, version: number): Promise<void> {
  deployed = version;
  holding = true;
  const zart = await db.zart();
  await zart.startWorkflow(PatchedOrder, id, { id });
  await waitFor(async () => (await zart.getSteps(id)).some((s) => s.name === 'ship'));
  await zart.shutdown({ drain: 0 });
}

// Replays `id` to its end on the code of `version`.
async function replay(id: string, version: number): Promise<unknown> {
  deployed = version;
  holding = false;
  const zart = await db.zart();
  const outcome = await zart
    .getHandle(id)
    .result({ timeout: '30s' })
    .catch((error: unknown) => error);
  await zart.shutdown({ drain: 0 });
  return outcome;
}

let inspect: ZartClient;
beforeAll(async () => {
  inspect = await db.client();
});

describe('patched()', () => {
  it('is false for a run whose history predates the patch: it replays its old calls on the new code', async () => {
    await record('patch-old', 1);
    expect(await replay('patch-old', 2)).toEqual(['reserved patch-old', 'shipped patch-old']);
    expect(notified).not.toContain('patch-old');
    expect((await inspect.getSteps('patch-old')).map((s) => s.name)).not.toContain('zart.patch:notify');
  });

  it('is true for a run that reaches it first on the new code, and stays true on every replay', async () => {
    await record('patch-new', 2);
    expect(notified.filter((o) => o === 'patch-new')).toHaveLength(1);
    expect((await inspect.getSteps('patch-new')).map((s) => s.name)).toContain('zart.patch:notify');
    expect(await replay('patch-new', 2)).toEqual(['reserved patch-new', 'notified patch-new', 'shipped patch-new']);
    // Replayed from its checkpoint: the notification was not sent again.
    expect(notified.filter((o) => o === 'patch-new')).toHaveLength(1);
  });

  it('goes through deprecatePatch() and removal: each deploy replays the runs of the one before', async () => {
    // Step 2 (deprecatePatch) replays runs of step 1 (patched) and records the marker itself...
    await record('patch-lifecycle-2', 2);
    expect(await replay('patch-lifecycle-2', 3)).toEqual([
      'reserved patch-lifecycle-2',
      'notified patch-lifecycle-2',
      'shipped patch-lifecycle-2',
    ]);
    await record('patch-lifecycle-3', 3);
    expect((await inspect.getSteps('patch-lifecycle-3')).map((s) => s.name)).toContain('zart.patch:notify');
    // ...so a worker still on step 1's code (a rolling deploy) replays it on the new branch.
    expect(await replay('patch-lifecycle-3', 2)).toEqual([
      'reserved patch-lifecycle-3',
      'notified patch-lifecycle-3',
      'shipped patch-lifecycle-3',
    ]);
    // Step 3: the call is gone; runs that recorded the marker still replay.
    await record('patch-lifecycle-4', 3);
    expect(await replay('patch-lifecycle-4', 4)).toEqual([
      'reserved patch-lifecycle-4',
      'notified patch-lifecycle-4',
      'shipped patch-lifecycle-4',
    ]);
  });
});
