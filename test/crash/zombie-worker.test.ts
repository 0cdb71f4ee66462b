import { useTestDatabase } from '../support/test-zart';
import { useCrashHarness } from '../support/crash-harness';
import { PidSteps } from './fixtures/pid-steps.workflow';
import { waitFor } from '../support/wait-for';

const db = useTestDatabase();
const { startWorker, spawnWorker } = useCrashHarness(db);

describe('a zombie worker (SIGSTOP past its lease, then SIGCONT)', () => {
  it('has none of its late writes accepted, and the run history stays intact', async () => {
    const client = await db.client();
    const zombie = await startWorker();
    await client.startWorkflow(PidSteps, { runId: 'zombie-1' }, { id: 'zombie-1' });
    await waitFor(async () => (await db.sql.query('SELECT 1 FROM effects WHERE step = 2')).rowCount === 1);
    zombie.process.kill('SIGSTOP'); // frozen inside step 2, holding a lease that will expire

    const successor = spawnWorker();
    const outputs = await client.getHandle<string[]>('zombie-1').result({ timeout: '60s' });
    const successorPid = String(successor.process.pid);
    expect(outputs).toEqual([`${zombie.process.pid}:1`, `${successorPid}:2`, `${successorPid}:3`, `${successorPid}:4`]);

    zombie.process.kill('SIGCONT'); // step 2 finishes in the zombie and tries to checkpoint
    await waitFor(async () => zombie.stderr().includes('lost the lease'));
    const steps = await client.getSteps('zombie-1');
    expect(steps.map((s) => [s.key, s.output])).toEqual([
      ['PidEffects.work#0', `${zombie.process.pid}:1`],
      ['PidEffects.work#1', `${successorPid}:2`],
      ['PidEffects.work#2', `${successorPid}:3`],
      ['PidEffects.work#3', `${successorPid}:4`],
    ]);
    const run = await client.getRun('zombie-1');
    expect(run.status).toBe('completed');
    expect(run.output).toEqual(outputs);
    expect(zombie.process.exitCode).toBeNull(); // the zombie stopped that run, not the process
  }, 120_000);
});
