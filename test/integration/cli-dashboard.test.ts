// `zart dashboard`: the real executable serves the API and the page on a port with the token it
// was given or made up, prints its URL, and exits 0 on SIGTERM or SIGINT; bad flags exit 2 (usage)
// or 1 (a token the handler refuses) without listening.
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { Workflow, step } from '../../src';
import { runCli, type CliResult } from '../support/cli-runner';
import { useTestDatabase } from '../support/test-zart';
import { waitFor } from '../support/wait-for';

const db = useTestDatabase();

@Workflow({ name: 'cli-dashboard-job' })
class Job {
  async run(): Promise<string> {
    return step('work', () => 'done');
  }
}

interface Dashboard {
  process: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  exited: Promise<number | NodeJS.Signals | null>;
}

const children: Dashboard[] = [];
const root = join(__dirname, '..', '..');

// The real executable, as the shell runs it (through ts-node, from source).
function dashboard(args: string[], env: Record<string, string> = {}): Dashboard {
  const child = spawn(
    process.execPath,
    ['-r', 'ts-node/register/transpile-only', join(root, 'src/cli/main.ts'), ...args],
    {
      cwd: root,
      env: {
        ...process.env,
        DATABASE_URL: db.url,
        ZART_DASHBOARD_TOKEN: '',
        TS_NODE_PROJECT: join(root, 'tsconfig.json'),
        ...env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<number | NodeJS.Signals | null>((resolve) =>
    child.on('exit', (code, signal) => resolve(signal ?? code)),
  );
  const handle = { process: child, stdout: () => stdout, stderr: () => stderr, exited };
  children.push(handle);
  return handle;
}

async function printed(child: Dashboard, pattern: RegExp): Promise<RegExpMatchArray> {
  let match: RegExpMatchArray | null = null;
  await waitFor(() => (match = pattern.exec(child.stdout())) !== null, 60_000).catch(() => {
    throw new Error(`the dashboard did not print ${pattern}; stdout:\n${child.stdout()}\nstderr:\n${child.stderr()}`);
  });
  return match!;
}

const inProcess = (...args: string[]): Promise<CliResult> => runCli(db.url, ...args);

const token = 'env-token-0123456789abcdef';
let madeUp: Dashboard;
let fromEnvironment: Dashboard;

describe('zart dashboard', () => {
  beforeAll(async () => {
    // Both processes start at once: starting one from source takes seconds on a loaded machine.
    madeUp = dashboard(['dashboard', '--port', '0']);
    fromEnvironment = dashboard(['dashboard', '--port', '0', '--json'], { ZART_DASHBOARD_TOKEN: token });
    const zart = await db.zart();
    await zart.startWorkflow(Job, undefined as never, { id: 'cli-dashboard-1' });
    await zart.getHandle('cli-dashboard-1').result({ timeout: '30s' });
  });

  afterAll(async () => {
    for (const child of children) {
      if (child.process.exitCode === null) child.process.kill('SIGKILL');
      await child.exited;
    }
  });

  it('serves with a token it makes up, printing a link that carries it, and stops on SIGTERM with exit code 0', async () => {
    const child = madeUp;
    const [, url, generated] = await printed(child, /zart dashboard: (http:\/\/127\.0\.0\.1:\d+\/)#token=([\w-]+)\n/);
    // Its own write, after the link's: it may reach the pipe a moment later.
    await printed(child, /a token made up for this process/);
    const runs = await fetch(`${url}api/runs`, { headers: { Authorization: `Bearer ${generated}` } });
    expect(runs.status).toBe(200);
    expect(((await runs.json()) as { runs: Array<{ id: string }> }).runs.map((r) => r.id)).toEqual(['cli-dashboard-1']);
    expect((await fetch(`${url}api/runs`)).status).toBe(401);
    expect((await fetch(url!)).headers.get('content-type')).toBe('text/html; charset=utf-8');
    child.process.kill('SIGTERM');
    expect(await child.exited).toBe(0);
    expect(child.stdout()).toMatch(/zart dashboard: stopped \(SIGTERM\)\./);
    await expect(fetch(`${url}api/runs`)).rejects.toThrow();
  });

  it('takes its token from ZART_DASHBOARD_TOKEN, prints JSON with --json, and stops on SIGINT', async () => {
    const child = fromEnvironment;
    const [line] = await printed(child, /^\{.*\}\n/m);
    const shown = JSON.parse(line) as { url: string; link?: string; auth: string };
    expect(shown).toEqual({ url: expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+\/$/), auth: 'token' });
    expect(child.stdout()).not.toContain(token);
    const access = await fetch(`${shown.url}api/access`, { headers: { Authorization: `Bearer ${token}` } });
    expect(((await access.json()) as { actions: string[] }).actions).toContain('cancel');
    child.process.kill('SIGINT');
    expect(await child.exited).toBe(0);
  });

  it('refuses a bad port (exit 2), a token the handler refuses (exit 1), and a token with --insecure-no-auth (exit 2)', async () => {
    const port = await inProcess('dashboard', '--port', '99999');
    expect(port.code).toBe(2);
    expect(port.err).toMatch(/--port must be a whole number from 0 to 65535, got "99999"/);
    const short = await inProcess('dashboard', '--port', '0', '--token', 'short');
    expect(short.code).toBe(1);
    expect(short.err).toMatch(/auth\.token must be a string of at least 16 characters/);
    expect(short.out).toBe('');
    const both = await inProcess('dashboard', '--insecure-no-auth', '--token', 'a-token-0123456789abcdef');
    expect(both.code).toBe(2);
    expect(both.err).toMatch(/--insecure-no-auth and a token exclude each other/);
  });
});
