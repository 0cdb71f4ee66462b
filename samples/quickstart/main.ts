// The quickstart: starts an onboarding run in a child process that dies (SIGKILL) in the middle
// of step 2, then resumes the run in this process. Step 1 is not executed again: its checkpoint
// is replayed. With no DATABASE_URL and no local server (or ZART_SKIP_LOCAL_POSTGRES=1), an embedded
// PostgreSQL is started.
import { spawn } from 'node:child_process';
import { Zart } from 'zart';
import { resolveDatabaseUrl } from 'zart/testing';
import { Onboarding } from './onboarding.workflow';

// A short lease so the crashed worker's run is reclaimed quickly (production default: 30 s).
const lease = '2s';

async function firstPass(runId: string): Promise<void> {
  const database = await resolveDatabaseUrl({ database: 'zart_quickstart' });
  const zart = new Zart({ connectionString: database.url, worker: { lease } });
  await zart.start();
  await zart.startWorkflow(Onboarding, { email: 'ada@example.com', plan: 'team' }, { id: runId });
  // The worker executes the run now; provisionWorkspace kills this process half-way.
}

async function main(): Promise<void> {
  const runId = `onboarding-${Date.now().toString(36)}`;
  console.log(`Pass 1: a child process starts run "${runId}" and crashes inside step 2.`);
  const child = spawn(process.execPath, [__filename, 'first-pass', runId], {
    stdio: 'inherit',
    env: { ...process.env, QUICKSTART_CRASH: '1' },
  });
  const signal = await new Promise<NodeJS.Signals | null>((resolve) => child.on('exit', (_code, sig) => resolve(sig)));
  console.log(`Pass 1 ended: the child process was killed (${signal ?? 'exited'}).\n`);

  console.log("Pass 2: this process starts a worker; once the dead worker's lease expires it resumes the run.");
  const database = await resolveDatabaseUrl({ database: 'zart_quickstart' });
  console.log(`  (PostgreSQL: ${database.source}${database.dataDir ? `, data in ${database.dataDir}` : ''})`);
  const zart = new Zart({ connectionString: database.url, worker: { lease } });
  try {
    await zart.start();
    const result = await zart.getHandle<{ accountId: string; workspace: string }>(runId).result({ timeout: '60s' });
    console.log(`\nRun finished: ${JSON.stringify(result)}`);
    console.log('Checkpoints (step 1 executed once, before the crash; step 2 again after it):');
    for (const step of await zart.getSteps(runId)) {
      console.log(`  #${step.seq} ${step.key.padEnd(30)} ${step.status}`);
    }
  } finally {
    await zart.shutdown();
    await database.close();
  }
}

const [mode, runId] = process.argv.slice(2);
(mode === 'first-pass' && runId ? firstPass(runId) : main()).catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
