// The `zart` CLI against a database a worker fills: every command, in JSON and for people, and its
// exit codes (0 done, 1 failed, 2 wrong usage, 3 no such run). Commands run in this process through
// main(); one test runs the real executable to check what the shell sees.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { Workflow, step, startChild, waitForEvent, type Zart } from '../../src';
import { main } from '../../src/cli/main';
import { createTestDatabase } from '../../src/testing';
import { runCli, type CliResult } from '../support/cli-runner';
import { useTestDatabase } from '../support/test-zart';
import { waitFor } from '../support/wait-for';

const db = useTestDatabase();

@Workflow({ name: 'cli-leaf' })
class Leaf {
  async run(input: { n: number }): Promise<number> {
    return step('double', () => input.n * 2);
  }
}

@Workflow({ name: 'cli-order' })
class Order {
  async run(input: { sku: string }): Promise<string> {
    const reserved = await step('reserve', () => `reserved ${input.sku}`);
    const child = await startChild(Leaf, { n: 21 });
    const doubled = await child.result();
    const approval = await waitForEvent<{ by: string }>('approved');
    return `${reserved}, ${doubled}, approved by ${approval.by}`;
  }
}

@Workflow({ name: 'cli-broken' })
class Broken {
  async run(): Promise<void> {
    await step('ok', () => 1);
    await step('boom', () => {
      throw new Error('card declined <script>');
    });
  }
}

const zartCli = (...args: string[]): Promise<CliResult> => runCli(db.url, ...args);

async function json<T>(...args: string[]): Promise<T> {
  const result = await zartCli(...args, '--json');
  if (result.code !== 0) throw new Error(`zart ${args.join(' ')} exited ${result.code}: ${result.err}`);
  return JSON.parse(result.out) as T;
}

interface RunJson {
  id: string;
  workflow: string;
  status: string;
  parentId: string | null;
  error: string | null;
}

let zart: Zart;

describe('zart CLI', () => {
  beforeAll(async () => {
    zart = await db.zart();
    await zart.startWorkflow(Order, { sku: 'A-1' }, { id: 'cli-order-1' });
    await zart.startWorkflow(Order, { sku: 'B-2' }, { id: 'cli-order-2' });
    await zart.startWorkflow(Broken, undefined as never, { id: 'cli-broken-1' });
    await waitFor(async () => {
      const runs = await zart.listRuns({ limit: 100 });
      return runs.filter((r) => r.status === 'waiting').length === 2 && runs.some((r) => r.status === 'failed');
    });
  });

  it('runs list --json filters by status, workflow, id prefix and parent, and pages with --after', async () => {
    const all = await json<{ runs: RunJson[]; next: string | null }>('runs', 'list');
    expect(all.runs.map((r) => r.id).sort()).toEqual(
      expect.arrayContaining(['cli-broken-1', 'cli-order-1', 'cli-order-2']),
    );
    expect(all.runs).toHaveLength(5); // two children
    expect(all.next).toBeNull();

    const failed = await json<{ runs: RunJson[] }>('runs', 'list', '--status', 'failed');
    expect(failed.runs.map((r) => r.id)).toEqual(['cli-broken-1']);
    expect(failed.runs[0]!.error).toMatch(/card declined/);

    const orders = await json<{ runs: RunJson[] }>(
      'runs',
      'list',
      '--workflow',
      'cli-order',
      '--status',
      'waiting,running',
    );
    expect(orders.runs.map((r) => r.id).sort()).toEqual(['cli-order-1', 'cli-order-2']);
    const prefixed = await json<{ runs: RunJson[] }>('runs', 'list', '--id-prefix', 'cli-order-1');
    expect(prefixed.runs.map((r) => r.id).sort()).toEqual(['cli-order-1', 'cli-order-1/zart.child#0']);
    // LIKE's wildcards in a prefix are plain characters.
    expect((await json<{ runs: RunJson[] }>('runs', 'list', '--id-prefix', 'cli_')).runs).toHaveLength(0);
    const children = await json<{ runs: RunJson[] }>('runs', 'list', '--parent', 'cli-order-1');
    expect(children.runs.map((r) => [r.workflow, r.parentId])).toEqual([['cli-leaf', 'cli-order-1']]);
    expect((await json<{ runs: RunJson[] }>('runs', 'list', '--since', '1h')).runs).toHaveLength(5);
    expect((await json<{ runs: RunJson[] }>('runs', 'list', '--until', '2000-01-01T00:00:00Z')).runs).toHaveLength(0);

    const first = await json<{ runs: RunJson[]; next: string }>('runs', 'list', '--limit', '2');
    expect(first.runs).toHaveLength(2);
    const second = await json<{ runs: RunJson[]; next: string | null }>(
      'runs',
      'list',
      '--limit',
      '2',
      '--after',
      first.next,
    );
    expect(second.runs.map((r) => r.id)).not.toContain(first.runs[0]!.id);
    expect([...first.runs, ...second.runs].map((r) => r.id)).toEqual(all.runs.slice(0, 4).map((r) => r.id));
  });

  it('runs list for people: an aligned table, no colour codes when not a terminal', async () => {
    const { code, out } = await zartCli('runs', 'list', '--workflow', 'cli-broken');
    expect(code).toBe(0);
    const [header, row] = out.split('\n');
    expect(header).toMatch(/^ID\s+WORKFLOW\s+STATUS\s+QUEUE\s+ATTEMPT\s+CREATED\s+TOOK$/);
    expect(row).toMatch(/^cli-broken-1\s+cli-broken\s+failed\s+default\s+1\s+\d{4}-\d\d-\d\dT/);
    expect(header!.indexOf('STATUS')).toBe(row!.indexOf('failed'));
    expect(out).not.toContain('\u001b[');
    expect((await zartCli('runs', 'list', '--workflow', 'nothing')).out).toBe('No runs match.\n');
  });

  it('runs show: the run, its steps as a timeline, its events and children', async () => {
    await zart.sendEvent('cli-order-1', 'approved', { by: 'ops' });
    await expect(zart.getHandle('cli-order-1').result({ timeout: '20s' })).resolves.toBe(
      'reserved A-1, 42, approved by ops',
    );
    const { code, out } = await zartCli('runs', 'show', 'cli-order-1');
    expect(code).toBe(0);
    expect(out).toMatch(/^Run cli-order-1 {2}cli-order {2}completed\n/);
    expect(out).toContain('output     "reserved A-1, 42, approved by ops"');
    expect(out).toMatch(/\nSteps \(\d+\)\nKEY\s+STATUS\s+ATTEMPTS\s+AT\s+TOOK\s+TIMELINE/);
    expect(out).toMatch(/reserve#0\s+completed\s+1\s+\+\d+ ms\s+\d+ ms\s+█/);
    expect(out).toMatch(/\nEvents \(1\)\n[^\n]*\napproved\s+\S+\s+zart\.event:approved#0\s+\{"by":"ops"\}/);
    expect(out).toMatch(/\nChildren \(1\)\n[^\n]*\n\S+\s+cli-leaf\s+completed/);

    const shown = await json<{
      run: { id: string; status: string; output: string };
      steps: Array<{ key: string; status: string }>;
      events: Array<{ name: string; payload: unknown; consumedBy: string }>;
      children: RunJson[];
    }>('runs', 'show', 'cli-order-1');
    expect(shown.run).toMatchObject({ id: 'cli-order-1', status: 'completed' });
    expect(shown.steps.map((s) => s.key)).toEqual(expect.arrayContaining(['reserve#0', 'zart.event:approved#0']));
    expect(shown.events).toEqual([expect.objectContaining({ name: 'approved', payload: { by: 'ops' } })]);
    expect(shown.children).toHaveLength(1);

    const broken = await zartCli('runs', 'show', 'cli-broken-1');
    expect(broken.out).toMatch(/error\s+StepFailedError: .*card declined <script>/);
    expect(broken.out).toMatch(/boom#0\s+failed\s+1/);
  });

  it('runs show of an unknown run exits 3 and says so', async () => {
    const { code, out, err } = await zartCli('runs', 'show', 'no-such-run');
    expect(code).toBe(3);
    expect(out).toBe('');
    expect(err).toMatch(/^zart: .*no-such-run/);
  });

  it('runs cancel, resume and fork act on runs; a refused action exits 1 with the reason', async () => {
    expect(await zartCli('runs', 'cancel', 'cli-order-2')).toMatchObject({
      code: 0,
      out: 'Cancelled run cli-order-2.\n',
    });
    expect((await zart.getRun('cli-order-2')).status).toBe('cancelled');
    const again = await zartCli('runs', 'cancel', 'cli-order-2');
    expect(again.code).toBe(1);
    expect(again.err).toMatch(/^zart: .*cancelled/);
    expect(again.err).not.toMatch(/\n\s+at /);

    expect(await json('runs', 'resume', 'cli-order-2')).toEqual({ id: 'cli-order-2', resumed: true });
    await waitFor(async () => (await zart.getRun('cli-order-2')).status === 'waiting');

    const forked = await json<{ id: string }>(
      'runs',
      'fork',
      'cli-broken-1',
      '--from-step',
      'boom#0',
      '--id',
      'cli-fork-1',
    );
    expect(forked).toEqual({ id: 'cli-fork-1', forkedFrom: 'cli-broken-1', fromStep: 'boom#0' });
    expect((await zart.getRun('cli-fork-1')).workflow).toBe('cli-broken');
    const noStep = await zartCli('runs', 'fork', 'cli-broken-1', '--from-step', 'nope#0');
    expect(noStep.code).toBe(1);
    expect(noStep.err).toMatch(/no step "nope#0"/);
  });

  it('events send delivers a JSON payload; a payload that is not JSON is a usage error', async () => {
    expect(await zartCli('events', 'send', 'cli-order-2', 'approved', '{"by":"cli"}')).toMatchObject({
      code: 0,
      out: 'Sent event "approved" to run cli-order-2.\n',
    });
    await expect(zart.getHandle('cli-order-2').result({ timeout: '20s' })).resolves.toBe(
      'reserved B-2, 42, approved by cli',
    );
    const bad = await zartCli('events', 'send', 'cli-order-2', 'approved', '{by:cli}');
    expect(bad.code).toBe(2);
    expect(bad.err).toMatch(/payload must be JSON/);
  });

  it('workers lists this process as a live worker', async () => {
    const { workers } = await json<{ workers: Array<{ pid: number; version: string }> }>('workers');
    expect(workers.map((w) => w.pid)).toContain(process.pid);
    expect((await zartCli('workers')).out).toMatch(/^ID\s+HOST\s+PID\s+VERSION\s+STARTED\s+LAST SEEN\n/);
  });

  it('migrate applies the migrations to a fresh database, then finds nothing to do', async () => {
    const fresh = await createTestDatabase();
    try {
      const io = { out: '', err: '' };
      const run = (...args: string[]) =>
        main(['migrate', '--database-url', fresh.url, ...args], {
          out: (t) => void (io.out += t),
          err: (t) => void (io.err += t),
          colour: false,
        });
      expect(await run('--json')).toBe(0);
      expect((JSON.parse(io.out) as { applied: string[] }).applied.length).toBeGreaterThanOrEqual(3);
      io.out = '';
      expect(await run()).toBe(0);
      expect(io.out).toBe('Schema is up to date.\n');
    } finally {
      await fresh.drop();
    }
  });

  it('usage errors exit 2 with the usage, never a stack; --version and --help exit 0', async () => {
    const unknown = await zartCli('runs', 'list', '--bogus');
    expect(unknown.code).toBe(2);
    expect(unknown.err).toMatch(/unknown option '--bogus'/);
    expect(unknown.err).toMatch(/Usage: zart runs list/);
    expect(unknown.err).not.toMatch(/\n\s+at /);
    expect((await zartCli('runs', 'list', '--limit', '0')).code).toBe(2);
    expect((await zartCli('runs', 'list', '--status', 'done')).err).toMatch(/unknown status done/);
    expect((await zartCli('frobnicate')).code).toBe(2);
    expect((await zartCli('runs', 'fork', 'x')).err).toMatch(/required option '--from-step <key>'/);

    const noDatabase = { ...process.env };
    delete process.env.DATABASE_URL;
    try {
      let err = '';
      const code = await main(['runs', 'list'], { out: () => undefined, err: (t) => void (err += t), colour: false });
      expect(code).toBe(2);
      expect(err).toMatch(/No database: pass --database-url <url> or set DATABASE_URL/);
    } finally {
      process.env = noDatabase;
    }
    const version = await zartCli('--version');
    expect(version.code).toBe(0);
    expect(version.out).toMatch(/^\d+\.\d+\.\d+/);
    const help = await zartCli('--help');
    expect(help.code).toBe(0);
    expect(help.out).toMatch(/Commands:[\s\S]*runs[\s\S]*events[\s\S]*workers[\s\S]*retention[\s\S]*migrate/);
  });

  it('the executable: exit codes and output as a shell sees them', () => {
    const root = join(__dirname, '..', '..');
    const cli = (...args: string[]) =>
      spawnSync(process.execPath, ['-r', 'ts-node/register/transpile-only', join(root, 'src/cli/main.ts'), ...args], {
        cwd: root,
        env: { ...process.env, DATABASE_URL: db.url, TS_NODE_PROJECT: join(root, 'tsconfig.json') },
        encoding: 'utf8',
      });
    const list = cli('runs', 'list', '--json');
    expect(list.status).toBe(0);
    expect((JSON.parse(list.stdout) as { runs: unknown[] }).runs.length).toBeGreaterThan(0);
    const bogus = cli('migrate', '--bogus');
    expect(bogus.status).toBe(2);
    expect(bogus.stderr).toMatch(/unknown option '--bogus'/);
    expect(bogus.stderr).not.toMatch(/ERR_PARSE_ARGS|\n\s+at /);
  });

  it('retention deletes finished runs older than the bound and keeps the others', async () => {
    const before = await zart.listRuns({ limit: 100 });
    const finished = before.filter((r) => ['completed', 'failed', 'cancelled'].includes(r.status));
    expect(await json('retention', '--older-than', '30d')).toEqual({ deleted: 0 });
    const { deleted } = await json<{ deleted: number }>('retention', '--older-than', '0ms');
    expect(deleted).toBe(finished.length);
    const left = await zart.listRuns({ limit: 100 });
    expect(left.map((r) => r.id).sort()).toEqual(
      before
        .filter((r) => !finished.includes(r))
        .map((r) => r.id)
        .sort(),
    );
  });
});
