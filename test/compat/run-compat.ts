// npm run compat: the TypeORM compatibility check. Builds and packs zart, then installs the tarball
// into one scratch application per supported TypeORM line (the latest 0.3 and the latest 1.x) with
// --strict-peer-deps, compiles test/compat/app/main.ts there with tsc (strict, library types
// checked) and runs it against a fresh database. Needs the npm registry. PostgreSQL as for the
// tests: DATABASE_URL, else a container, else the embedded server. ZART_COMPAT_KEEP=1 keeps the apps.
// Measured: about 2.5 minutes on 2 cores (build and pack 27 s; per app: install 22-32 s, tsc 24-30 s, run 2 s).
import { execFile } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { promisify } from 'node:util';
import { createTestDatabase, resolveTestServer } from '../../src/testing';

const run = promisify(execFile);
const root = resolve(__dirname, '../..');

/**
 * The TypeORM lines zart supports, as an app would install them; ZART_COMPAT_TYPEORM (comma
 * separated, e.g. `typeorm@0.3.20`) checks other versions, such as the oldest one supported.
 */
const typeormLines = process.env.ZART_COMPAT_TYPEORM?.split(',') ?? ['typeorm@^0.3', 'typeorm@^1'];

interface Outcome {
  typeorm: string;
  installed: string;
  ok: boolean;
  seconds: Record<string, number>;
  error?: string;
}

async function timed<T>(seconds: Record<string, number>, phase: string, work: () => Promise<T>): Promise<T> {
  const started = performance.now();
  try {
    return await work();
  } finally {
    seconds[phase] = Math.round((performance.now() - started) / 100) / 10;
  }
}

// Prints what a failed command said: its output is the diagnosis.
async function sh(command: string, args: string[], cwd: string, env: NodeJS.ProcessEnv = process.env): Promise<string> {
  try {
    const { stdout } = await run(command, args, { cwd, env, maxBuffer: 64 * 1024 * 1024 });
    return stdout;
  } catch (error) {
    const { stdout, stderr } = error as { stdout?: string; stderr?: string };
    throw new Error(`${command} ${args.join(' ')} failed in ${cwd}:\n${stdout ?? ''}${stderr ?? ''}`);
  }
}

async function main(): Promise<void> {
  const total = performance.now();
  const own = JSON.parse(await readFile(join(root, 'package.json'), 'utf8')) as {
    devDependencies: Record<string, string>;
    dependencies: Record<string, string>;
  };
  const work = await mkdtemp(join(tmpdir(), 'zart-compat-'));
  const packSeconds: Record<string, number> = {};
  const tarball = await timed(packSeconds, 'build+pack', async () => {
    await sh('npm', ['run', 'build', '--silent'], root);
    const [packed] = JSON.parse(await sh('npm', ['pack', '--json', '--pack-destination', work], root)) as [
      { filename: string },
    ];
    return join(work, packed.filename);
  });
  console.log(`packed ${tarball} in ${packSeconds['build+pack']} s`);

  const server = await resolveTestServer();
  const outcomes: Outcome[] = [];
  try {
    for (const typeorm of typeormLines) {
      const seconds: Record<string, number> = {};
      const outcome: Outcome = { typeorm, installed: '?', ok: false, seconds };
      outcomes.push(outcome);
      const app = join(work, typeorm.replace(/[^a-z0-9.]+/gi, '-'));
      const database = await createTestDatabase({ serverUrl: server.url });
      try {
        await mkdir(join(app, 'src'), { recursive: true });
        await writeFile(
          join(app, 'package.json'),
          JSON.stringify({ name: 'zart-compat-app', version: '0.0.0', private: true }, null, 2),
        );
        await writeFile(
          join(app, 'tsconfig.json'),
          JSON.stringify(
            {
              compilerOptions: {
                target: 'ES2022',
                module: 'node16',
                moduleResolution: 'node16',
                outDir: 'dist',
                strict: true,
                experimentalDecorators: true,
                emitDecoratorMetadata: true,
                // zart's declarations are checked against this app's TypeORM, as a user's build does.
                skipLibCheck: false,
                types: ['node'],
              },
              include: ['src'],
            },
            null,
            2,
          ),
        );
        await copyFile(join(__dirname, 'app', 'main.ts'), join(app, 'src', 'main.ts'));
        await timed(seconds, 'install', () =>
          sh(
            'npm',
            [
              'install',
              '--no-audit',
              '--no-fund',
              '--omit=optional',
              '--strict-peer-deps',
              tarball,
              typeorm,
              `pg@${own.dependencies.pg}`,
              `reflect-metadata@${own.dependencies['reflect-metadata']}`,
              `class-validator@${own.dependencies['class-validator']}`,
              `class-transformer@${own.dependencies['class-transformer']}`,
              `typescript@${own.devDependencies.typescript}`,
              `@types/node@${own.devDependencies['@types/node']}`,
            ],
            app,
          ),
        );
        // TypeORM 0.3's exports map hides its package.json from require(): read the file.
        const installed = JSON.parse(await readFile(join(app, 'node_modules/typeorm/package.json'), 'utf8')) as {
          version: string;
        };
        outcome.installed = installed.version;
        const copies = await sh('npm', ['ls', 'typeorm', '--all', '--parseable'], app);
        if (copies.trim().split('\n').length !== 1) throw new Error(`more than one typeorm installed:\n${copies}`);
        await timed(seconds, 'tsc', () => sh('npx', ['tsc', '-p', '.'], app));
        const said = await timed(seconds, 'run', () =>
          sh(process.execPath, ['dist/main.js'], app, { ...process.env, DATABASE_URL: database.url }),
        );
        process.stdout.write(`typeorm ${installed.version}: ${said}`);
        outcome.ok = true;
      } catch (error) {
        outcome.error = error instanceof Error ? error.message : String(error);
        console.error(`typeorm ${outcome.installed} (${typeorm}) failed:\n${outcome.error}`);
      } finally {
        await database.drop();
      }
    }
  } finally {
    await server.stop();
    if (process.env.ZART_COMPAT_KEEP === '1') console.log(`scratch apps kept in ${work}`);
    else await rm(work, { recursive: true, force: true });
  }
  for (const o of outcomes) {
    const phases = Object.entries(o.seconds)
      .map(([phase, s]) => `${phase} ${s} s`)
      .join(', ');
    console.log(`${o.ok ? 'PASS' : 'FAIL'} ${o.typeorm} (installed ${o.installed}): ${phases}`);
  }
  console.log(`compat: ${Math.round((performance.now() - total) / 1000)} s in all`);
  if (outcomes.some((o) => !o.ok)) process.exitCode = 1;
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
