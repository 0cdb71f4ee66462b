import { Workflow, sleep, startChild, step, waitForEvent } from '../../src';
import { replayHistory } from '../../src/testing';
import { useTestDatabase } from '../support/test-zart';
import { waitFor } from '../support/wait-for';

const db = useTestDatabase();

// The first executions block at their end, so the run is replayed by the next Zart.
let holding = true;
// What run() saw, whoever ran it (a worker or replayHistory()).
let seen: string[] = [];

// A timeout as a race: the sleep wins, and the event wait it beat completes later (its event is
// taken by a later execution). Both outcomes are then stored: a replay must let the sleep win again.
@Workflow({ name: 'timed-approval' })
class TimedApproval {
  async run(): Promise<string[]> {
    const winner = await Promise.race([
      waitForEvent<string>('approved').then(() => 'approved'),
      sleep(300).then(() => 'timed out'),
    ]);
    const recorded = await step('record', () => winner);
    seen = [winner, recorded];
    await step('hold', async () => {
      if (holding) await new Promise(() => undefined);
    });
    return seen;
  }
}

// A Promise.all whose branch b awaits something other than a durable call between its calls:
// the replay cannot keep the recorded order there, and must still neither fail nor mix results.
@Workflow({ name: 'detour' })
class Detour {
  async run(): Promise<string[][]> {
    const branches = await Promise.all(
      ['a', 'b'].map(async (tag) => {
        const first = await step('fetch', async () => {
          if (tag === 'a') await new Promise((resolve) => setTimeout(resolve, 100));
          return `${tag}1`;
        });
        if (tag === 'b') await new Promise((resolve) => setTimeout(resolve, 20));
        return [first, await step(`second-${tag}`, () => `${tag}2`)];
      }),
    );
    await step('hold', async () => {
      if (holding) await new Promise(() => undefined);
    });
    return branches;
  }
}

// Child a finishes only when it gets the event 'go', child b at once.
@Workflow({ name: 'gated-child' })
class GatedChild {
  async run(tag: string): Promise<string> {
    if (tag === 'a') await waitForEvent('go');
    return `child ${tag}`;
  }
}

// Each branch awaits its child's result (the parent parks), then calls the argument-less 'after'.
@Workflow({ name: 'two-children' })
class TwoChildren {
  async run(): Promise<string[][]> {
    const branches = await Promise.all(
      ['a', 'b'].map(async (tag) => {
        const child = await startChild(GatedChild, tag, { id: `gated-${tag}` });
        const result = String(await child.result());
        return [result, await step('after', () => `${tag} after`)];
      }),
    );
    await step('hold', async () => {
      if (holding) await new Promise(() => undefined);
    });
    return branches;
  }
}

describe('replaying concurrent calls in the order they completed', () => {
  it('hands child results that arrived in later executions back in the order they arrived', async () => {
    holding = true;
    const first = await db.zart();
    await first.startWorkflow(TwoChildren, undefined, { id: 'children-1' });
    // b's result arrives first: b's call of 'after' is after#0.
    await waitFor(async () => (await first.getSteps('children-1')).some((s) => s.key === 'after#0'));
    await first.sendEvent('gated-a', 'go', null);
    await waitFor(async () => (await first.getSteps('children-1')).some((s) => s.key === 'after#1'));
    const outputs = Object.fromEntries((await first.getSteps('children-1')).map((s) => [s.key, s.output]));
    expect([outputs['after#0'], outputs['after#1']]).toEqual(['b after', 'a after']);
    await first.shutdown({ drain: 0 });

    holding = false;
    const second = await db.zart();
    expect(await second.getHandle('children-1').result({ timeout: '30s' })).toEqual([
      ['child a', 'a after'],
      ['child b', 'b after'],
    ]);
    await second.shutdown({ drain: 0 });
  });

  it('keeps the winner of a race between an event wait and a sleep, though both are stored', async () => {
    holding = true;
    const first = await db.zart();
    await first.startWorkflow(TimedApproval, undefined, { id: 'approval-1' });
    await waitFor(async () => seen.length > 0);
    expect(seen).toEqual(['timed out', 'timed out']);
    await first.shutdown({ drain: 0 });

    // The event arrives after the timeout; the next execution's wait (the race's loser) takes it.
    await (await db.client()).sendEvent('approval-1', 'approved', 'yes');
    seen = [];
    const second = await db.zart();
    await waitFor(
      async () =>
        seen.length > 0 &&
        (await second.getSteps('approval-1')).some(
          (s) => s.key === 'zart.event:approved#0' && s.status === 'completed',
        ),
    );
    expect(seen).toEqual(['timed out', 'timed out']);
    await second.shutdown({ drain: 0 });

    holding = false;
    seen = [];
    const third = await db.zart();
    expect(await third.getHandle('approval-1').result({ timeout: '30s' })).toEqual(['timed out', 'timed out']);
    const history = await third.exportRun('approval-1');
    await third.shutdown({ drain: 0 });
    seen = [];
    expect(await replayHistory(history, TimedApproval)).toMatchObject({ ok: true, outcome: 'completed' });
    expect(seen).toEqual(['timed out', 'timed out']);
  });

  it('falls back to matching by key, without a false divergence, when run() awaits something else between calls', async () => {
    holding = true;
    const first = await db.zart();
    await first.startWorkflow(Detour, undefined, { id: 'detour-1' });
    await waitFor(async () => (await first.getSteps('detour-1')).length === 4);
    await first.shutdown({ drain: 0 });
    holding = false;
    const second = await db.zart();
    expect(await second.getHandle('detour-1').result({ timeout: '30s' })).toEqual([
      ['a1', 'a2'],
      ['b1', 'b2'],
    ]);
    await second.shutdown({ drain: 0 });
  });
});
