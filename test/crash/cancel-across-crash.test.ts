// cancel() of runs whose worker was SIGKILLed: no later worker may resume them or their children.
import { WorkflowCancelledError, type ZartClient } from '../../src';
import { useTestDatabase } from '../support/test-zart';
import { useCrashHarness } from '../support/crash-harness';
import { waitFor } from '../support/wait-for';
import { CancellableParent, CancellableSteps, CancellationProbe } from './fixtures/cancellable.workflow';

const db = useTestDatabase();
const { startWorker, kill, effects } = useCrashHarness(db);

// The dead worker's leases, read before cancel() clears them: past these, a claim would take the runs.
async function latestLeaseExpiry(ids: string[]): Promise<Date> {
  const { rows } = await db.sql.query<{ expires: Date }>(
    'SELECT max(lease_expires_at) AS expires FROM zart.runs WHERE id = ANY($1)',
    [ids],
  );
  return rows[0]!.expires;
}

async function waitForDatabaseClockPast(instant: Date): Promise<void> {
  await waitFor(async () => (await db.sql.query('SELECT now() > $1 AS past', [instant])).rows[0].past === true);
}

// A probe run completed by the new worker proves it has claimed since the leases ran out: had the
// cancelled runs been claimable, that same claim would have taken them.
async function proveNewWorkerClaims(client: ZartClient, id: string, pid: number): Promise<void> {
  await client.startWorkflow(CancellationProbe, undefined as never, { id });
  expect(await client.getHandle(id).result({ timeout: '30s' })).toBe(pid);
}

describe('cancel() of a run whose worker was SIGKILLed mid-step, while no worker is alive', () => {
  it('is never resumed: its later steps never run and result() rejects with WorkflowCancelledError', async () => {
    const client = await db.client();
    const doomed = await startWorker({ ZART_HANG_AT_STEP: 'cancel-step-2' });
    await client.startWorkflow(CancellableSteps, undefined as never, { id: 'cancel-dead' });
    await doomed.waitForLine('HANGING_AT_cancel-step-2', 20_000);
    await kill(doomed);
    const leaseExpiry = await latestLeaseExpiry(['cancel-dead']);

    await client.cancel('cancel-dead');
    await waitForDatabaseClockPast(leaseExpiry);
    const next = await startWorker();
    await proveNewWorkerClaims(client, 'cancel-dead-probe', next.process.pid!);

    await expect(client.getHandle('cancel-dead').result({ timeout: '5s' })).rejects.toThrow(WorkflowCancelledError);
    expect((await client.getRun('cancel-dead')).status).toBe('cancelled');
    // Step 2 was in flight: its checkpoint is not written, and it is not run again.
    expect((await client.getSteps('cancel-dead')).map((s) => [s.key, s.status])).toEqual([
      ['CancellableEffects.perform#0', 'completed'],
    ]);
    expect(await effects('cancel-dead')).toEqual([
      { run_id: 'cancel-dead', step: 1, pid: doomed.process.pid },
      { run_id: 'cancel-dead', step: 2, pid: doomed.process.pid },
    ]);
  }, 60_000);
});

describe('cancel() of a parent whose running children died with their worker', () => {
  it('cancels the children too, and no worker resumes any of them', async () => {
    const client = await db.client();
    const doomed = await startWorker({ ZART_HANG_AT_STEP: 'cancel-child' });
    await client.startWorkflow(CancellableParent, { children: 3 }, { id: 'cancel-parent' });
    // All three children inside their step, and the parent parked on them.
    await waitFor(async () => (await effects()).filter((e) => e.run_id.startsWith('cancel-parent/')).length === 3);
    await waitFor(async () => (await client.getRun('cancel-parent')).status === 'waiting');
    const childIds = (await client.getSteps('cancel-parent'))
      .filter((s) => s.name === 'zart.child')
      .map((s) => s.output as string);
    expect(childIds).toHaveLength(3);
    for (const id of childIds) expect((await client.getRun(id)).status).toBe('running');
    await kill(doomed);
    const leaseExpiry = await latestLeaseExpiry(childIds);

    await client.cancel('cancel-parent');
    await waitForDatabaseClockPast(leaseExpiry);
    const next = await startWorker();
    await proveNewWorkerClaims(client, 'cancel-parent-probe', next.process.pid!);

    await expect(client.getHandle('cancel-parent').result({ timeout: '5s' })).rejects.toThrow(WorkflowCancelledError);
    for (const id of childIds) {
      await expect(client.getHandle(id).result({ timeout: '5s' })).rejects.toThrow(WorkflowCancelledError);
      expect(await client.getRun(id)).toMatchObject({ status: 'cancelled', parentId: 'cancel-parent' });
      expect(await client.getSteps(id)).toEqual([]);
    }
    // Each child's step ran once, in the killed worker; the parent never went past its children.
    const recorded = (await effects()).filter((e) => e.run_id.startsWith('cancel-parent'));
    expect(recorded.map((e) => e.run_id).sort()).toEqual([...childIds].sort());
    expect(recorded.filter((e) => e.pid !== doomed.process.pid)).toEqual([]);
  }, 60_000);
});
