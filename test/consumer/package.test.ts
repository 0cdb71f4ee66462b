// zart installed from its packed tarball into a CommonJS and an ESM project: both compile with tsc
// under `module: nodenext` and the strictest flags of `tsc --init` (exactOptionalPropertyTypes),
// run a workflow on PostgreSQL, use `zart/testing` and the `zart` bin, and get stack traces that
// point at files the package ships.
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { createTestDatabase, type TestDatabase } from '../../src/testing';
import { packedTarball } from './support/packed-zart';
import { projectCompilerOptions } from '../../src/cli/project-template';
import { createScratchProject, installConsumerPackages, type ScratchProject } from './support/scratch-project';

// A new project's settings (as `zart init` writes them), with the sources in src/.
const tsconfig = JSON.stringify(
  { compilerOptions: { ...projectCompilerOptions, rootDir: 'src' }, include: ['src'] },
  null,
  2,
);

// The same program for both module systems; only the import specifiers and the top level differ.
function program(kind: 'cjs' | 'esm'): string {
  const ext = kind === 'esm' ? '.js' : '';
  const body = `
  const zart = new Zart({ connectionString: process.env.DATABASE_URL, worker: { pollInterval: undefined } });
  await zart.start();
  try {
    const handle = await zart.startWorkflow(Greeting, { name: 'Ada' });
    const report = await zart.startWorkflow(NoInput);
    console.log(JSON.stringify({ greeting: await handle.result(), report: await report.result(), testing: typeof createTestDatabase }));
  } finally {
    await zart.shutdown();
  }`;
  return `import 'reflect-metadata';
import { Zart } from 'zart';
import { createTestDatabase } from 'zart/testing';
import { Greeting, NoInput } from './workflows${ext}';
${kind === 'esm' ? body.replace(/\n {2}/g, '\n') : `async function main(): Promise<void> {${body}\n}\nvoid main();`}
`;
}

const workflows = `import { IsString } from 'class-validator';
import { Step, Workflow } from 'zart';

export class GreetingInput {
  @IsString() name!: string;
}

export class Greeter {
  @Step()
  async greet(name: string): Promise<string> {
    return \`Hello, \${name}!\`;
  }
}

@Workflow({ name: 'greeting', input: GreetingInput })
export class Greeting {
  private readonly greeter = new Greeter();

  async run(input: GreetingInput): Promise<string> {
    return this.greeter.greet(input.name);
  }
}

@Workflow({ name: 'no-input' })
export class NoInput {
  async run(): Promise<string> {
    return 'no input needed';
  }
}
`;

// Throws a ConfigurationError from inside zart, so the stack has zart's frames in it.
const failing = (kind: 'cjs' | 'esm'): string =>
  `import { Zart } from 'zart';
${kind === 'esm' ? '' : 'export {};\n'}try {
  new Zart({ connectionString: 'postgres://x@127.0.0.1/x', poolSize: 1 });
} catch (error) {
  console.log((error as Error).stack);
}
`;

describe.each(['cjs', 'esm'] as const)('a %s project', (kind) => {
  let project: ScratchProject;
  let database: TestDatabase;

  beforeAll(async () => {
    database = await createTestDatabase();
    project = createScratchProject(`package-${kind}`, {
      'package.json': JSON.stringify({
        name: `consumer-${kind}`,
        private: true,
        type: kind === 'esm' ? 'module' : 'commonjs',
      }),
      'tsconfig.json': tsconfig,
      'src/main.ts': program(kind),
      'src/workflows.ts': workflows,
      'src/failing.ts': failing(kind),
    });
    await installConsumerPackages(project, packedTarball());
  });
  afterAll(async () => {
    project?.remove();
    await database?.drop();
  });

  test('compiles with tsc under module nodenext and exactOptionalPropertyTypes', async () => {
    const result = await project.run('npx', ['tsc', '-p', '.']);
    expect(result.stdout + result.stderr).toBe('');
    expect(result.code).toBe(0);
  });

  test('runs a workflow from `zart` and imports `zart/testing`', async () => {
    const result = await project.mustRun('node', ['dist/main.js'], { DATABASE_URL: database.url });
    expect(JSON.parse(result.stdout.trim().split('\n').pop()!)).toEqual({
      greeting: 'Hello, Ada!',
      report: 'no input needed',
      testing: 'function',
    });
  });

  // The runs the test above made, from another process, read back by the installed bin.
  test('npx zart runs list --json and runs show <id> read the runs another process made', async () => {
    const env = { DATABASE_URL: database.url };
    const listed = await project.mustRun('npx', ['zart', 'runs', 'list', '--json'], env);
    const { runs } = JSON.parse(listed.stdout) as { runs: Array<{ id: string; workflow: string; status: string }> };
    expect(runs.map((run) => [run.workflow, run.status]).sort()).toEqual([
      ['greeting', 'completed'],
      ['no-input', 'completed'],
    ]);
    const greeting = runs.find((run) => run.workflow === 'greeting')!;
    const shown = await project.mustRun('npx', ['zart', 'runs', 'show', greeting.id, '--json'], env);
    const { run, steps } = JSON.parse(shown.stdout) as {
      run: { id: string; output: unknown };
      steps: Array<{ key: string; status: string }>;
    };
    expect(run).toMatchObject({ id: greeting.id, output: 'Hello, Ada!' });
    expect(steps).toEqual([
      expect.objectContaining({ key: 'Greeter.greet#0', output: 'Hello, Ada!', status: 'completed' }),
    ]);
  });

  test('the zart bin answers --help', async () => {
    const result = await project.mustRun('npx', ['zart', '--help']);
    expect(result.stdout).toMatch(/^Usage: zart \[options\] \[command\]/);
    expect(result.stdout).toMatch(/^ {2}migrate\b/m);
  });

  test('the zart bin serves the dashboard and its API from the installed package', async () => {
    const token = 'consumer-token-0123456789';
    const bin = join(project.dir, 'node_modules', 'zart', 'dist', 'src', 'cli', 'main.js');
    const child = spawn(process.execPath, [bin, 'dashboard', '--port', '0', '--token', token], {
      cwd: project.dir,
      env: { ...process.env, DATABASE_URL: database.url },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    try {
      const url = await new Promise<string>((resolve, reject) => {
        let out = '';
        child.stdout.on('data', (chunk: Buffer) => {
          out += chunk.toString();
          const match = /zart dashboard: (http:\S+)\n/.exec(out);
          if (match) resolve(match[1]!);
        });
        child.on('exit', (code) => reject(new Error(`zart dashboard exited (${code}) before serving:\n${out}`)));
      });
      const page = await fetch(url);
      expect(await page.text()).toContain('<script type="module" src="dashboard.js"></script>');
      expect((await fetch(`${url}dashboard.js`)).status).toBe(200);
      expect((await fetch(`${url}dashboard.css`)).status).toBe(200);
      const runs = await fetch(`${url}api/runs`, { headers: { Authorization: `Bearer ${token}` } });
      expect(runs.status).toBe(200);
    } finally {
      child.kill('SIGTERM');
    }
    expect(await new Promise((resolve) => child.on('exit', resolve))).toBe(0);
  });

  test('with --enable-source-maps, stack frames in zart point at shipped .ts files', async () => {
    const result = await project.mustRun('node', ['--enable-source-maps', 'dist/failing.js']);
    const zartFrames = result.stdout
      .split('\n')
      .map((line) => /\((\/[^():]+):\d+:\d+\)/.exec(line)?.[1])
      .filter((file): file is string => file !== undefined && file.includes('/node_modules/zart/'));
    expect(zartFrames.length).toBeGreaterThan(0);
    expect(zartFrames.filter((file) => file.endsWith('.ts'))).toEqual(zartFrames);
    expect(zartFrames.filter((file) => !existsSync(file))).toEqual([]);
  });
});

test('every source map in the package names only files the package ships', () => {
  const project = createScratchProject('package-maps');
  try {
    // Unpacked, not installed: what is in the tarball and nothing else.
    const unpacked = join(project.dir, 'package');
    execFileSync('tar', ['-xzf', packedTarball(), '-C', project.dir]);
    const maps = listFiles(unpacked).filter((file) => file.endsWith('.map'));
    expect(maps.length).toBeGreaterThan(10);
    const missing = maps.flatMap((map) => {
      const { sources } = JSON.parse(readFileSync(map, 'utf8')) as { sources: string[] };
      return sources.map((source) => resolve(dirname(map), source)).filter((source) => !existsSync(source));
    });
    expect(missing).toEqual([]);
  } finally {
    project.remove();
  }
});

function listFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((entry) => {
    const path = join(dir, entry);
    return statSync(path).isDirectory() ? listFiles(path) : [path];
  });
}
