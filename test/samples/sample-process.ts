// Runs a sample's main.ts as a user would run it (a real process, with its own child processes),
// compiled by ts-node from src/ rather than dist/, on the test file's database.
import { spawn } from 'node:child_process';
import path from 'node:path';

const root = path.join(__dirname, '..', '..');
// Inherited by the sample's own child processes (deployments, servers), which need the same.
const nodeOptions = `-r ts-node/register/transpile-only -r ${path.join(root, 'test', 'support', 'zart-from-source.ts')}`;

export interface SampleOutcome {
  code: number | null;
  stdout: string;
  stderr: string;
}

export function runSample(
  entry: string,
  args: string[],
  databaseUrl: string,
  timeoutMs = 90_000,
): Promise<SampleOutcome> {
  const child = spawn(process.execPath, [path.join(root, entry), ...args], {
    cwd: root,
    env: {
      ...process.env,
      DATABASE_URL: databaseUrl,
      NODE_OPTIONS: nodeOptions,
      TS_NODE_PROJECT: path.join(root, 'tsconfig.json'),
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${entry} did not finish within ${timeoutMs} ms; stdout:\n${stdout}\nstderr:\n${stderr}`));
    }, timeoutMs);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}
