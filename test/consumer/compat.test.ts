// The TypeORM and NestJS compatibility check (`npm run compat`, part of `npm run check:consumer`):
// one scratch application per supported TypeORM line (the latest 0.3 and the latest 1.x) installs
// the packed tarball with --strict-peer-deps beside its own TypeORM and Nest 11 (@nestjs/common,
// core, platform-express, @nestjs/typeorm), compiles test/compat/app/*.ts with strict tsc (library
// declarations checked against this TypeORM and Nest), and runs a transactional step whose
// repository write commits with the checkpoint and rolls back on a throw: without Nest (main.ts)
// and through ZartModule with @InjectRepository (nest-main.ts). Both apps are CommonJS. The app on
// 0.3 is an existing Nest 11 app: @nestjs/typeorm 11, `module: commonjs` (node10 resolution, where
// `zart/nestjs` needs package.json's typesVersions). The app on 1.x is a new one: `module: nodenext`
// as `tsc --init` writes it, and what `npm install @nestjs/typeorm` gives today (12: an ES module
// package, loaded through Node's require(esm), which tsc accepts under nodenext since TypeScript
// 5.8 and rejects under node16 with TS1479).
// ZART_COMPAT_TYPEORM (comma separated, e.g. `typeorm@0.3.20`) checks other TypeORM versions, such
// as the oldest one supported, with the latest @nestjs/typeorm; ZART_COMPAT_KEEP=1 keeps the apps.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createTestDatabase } from '../../src/testing';
import { packedTarball, repositoryRoot } from './support/packed-zart';
import { createScratchProject, typescriptVersion, type ScratchProject } from './support/scratch-project';

interface CompatApp {
  typeorm: string;
  nestTypeorm: string;
  /** `commonjs` (node10 resolution, Nest's classic starter) or `nodenext` (`tsc --init`'s). */
  module: 'commonjs' | 'nodenext';
}

const apps: CompatApp[] = process.env.ZART_COMPAT_TYPEORM?.split(',').map((typeorm) => ({
  typeorm,
  nestTypeorm: '@nestjs/typeorm',
  module: 'nodenext' as const,
})) ?? [
  { typeorm: 'typeorm@^0.3', nestTypeorm: '@nestjs/typeorm@^11', module: 'commonjs' },
  { typeorm: 'typeorm@^1', nestTypeorm: '@nestjs/typeorm', module: 'nodenext' },
];

const own = JSON.parse(readFileSync(join(repositoryRoot, 'package.json'), 'utf8')) as {
  dependencies: Record<string, string>;
};
const appSource = (file: string): string => readFileSync(join(repositoryRoot, 'test', 'compat', 'app', file), 'utf8');

const tsconfig = (module: CompatApp['module']): unknown => ({
  compilerOptions: {
    target: 'ES2022',
    module,
    outDir: 'dist',
    strict: true,
    experimentalDecorators: true,
    emitDecoratorMetadata: true,
    // zart's declarations are checked against this app's TypeORM and Nest, as a user's build does.
    skipLibCheck: false,
    types: ['node'],
  },
  include: ['src'],
});

/** What the app installs beside zart: its database stack, and Nest 11 as `nest new` plus `npm i @nestjs/typeorm` give it. */
const appPackages = ({ typeorm, nestTypeorm }: CompatApp): string[] => [
  typeorm,
  `pg@${own.dependencies.pg}`,
  `reflect-metadata@${own.dependencies['reflect-metadata']}`,
  `class-validator@${own.dependencies['class-validator']}`,
  `class-transformer@${own.dependencies['class-transformer']}`,
  '@nestjs/common@^11',
  '@nestjs/core@^11',
  '@nestjs/platform-express@^11',
  nestTypeorm,
  'rxjs@^7',
  `typescript@${typescriptVersion}`,
  '@types/node@20',
];

function installedVersion(project: ScratchProject, name: string): string {
  // TypeORM 0.3's exports map hides its package.json from require(): read the file.
  const manifest = readFileSync(join(project.dir, 'node_modules', name, 'package.json'), 'utf8');
  return (JSON.parse(manifest) as { version: string }).version;
}

describe.each(apps.map((app) => [`${app.typeorm}, ${app.nestTypeorm}, module ${app.module}`, app] as const))(
  'an app on %s',
  (_name, app) => {
    let project: ScratchProject;

    beforeAll(async () => {
      project = createScratchProject(`compat-${app.typeorm.replace(/[^a-z0-9.]+/gi, '-')}`, {
        'package.json': JSON.stringify({ name: 'zart-compat-app', version: '0.0.0', private: true }, null, 2),
        'tsconfig.json': JSON.stringify(tsconfig(app.module), null, 2),
        'src/main.ts': appSource('main.ts'),
        'src/nest-main.ts': appSource('nest-main.ts'),
      });
      // No --prefer-offline: the check is about the newest release of each line, so npm asks the
      // registry which that is (the tarballs still come from the npm cache).
      await project.mustRun('npm', [
        'install',
        '--no-audit',
        '--no-fund',
        '--loglevel=error',
        '--omit=optional',
        '--strict-peer-deps',
        packedTarball(),
        ...appPackages(app),
      ]);
      const versions = ['typeorm', '@nestjs/core', '@nestjs/typeorm'].map(
        (name) => `${name} ${installedVersion(project, name)}`,
      );
      process.stderr.write(`compat app for ${app.typeorm}: ${versions.join(', ')}\n`);
    }, 15 * 60_000);

    afterAll(() => {
      if (process.env.ZART_COMPAT_KEEP === '1') process.stderr.write(`compat app kept in ${project?.dir}\n`);
      else project?.remove();
    });

    test('installs one TypeORM, shared by the app, zart and @nestjs/typeorm', async () => {
      // npm ls fails when an installed version does not satisfy what asked for it, zart's peer range included.
      const copies = await project.mustRun('npm', ['ls', 'typeorm', '--all', '--parseable']);
      expect(copies.stdout.trim().split('\n')).toEqual([join(project.dir, 'node_modules', 'typeorm')]);
    });

    test('compiles with strict tsc, zart declarations checked against this TypeORM and Nest', async () => {
      const result = await project.run('npx', ['tsc', '-p', '.']);
      expect(result.stdout + result.stderr).toBe('');
      expect(result.code).toBe(0);
    });

    test.each([
      [
        'without Nest: a repository of the app DataSource commits with the checkpoint, rolls back on a throw',
        'main.js',
      ],
      [
        'in a Nest 11 app: an @InjectRepository repository commits with the checkpoint, rolls back on each failed attempt',
        'nest-main.js',
      ],
    ])('%s', async (_name, program) => {
      const database = await createTestDatabase();
      try {
        const result = await project.run(process.execPath, [join('dist', program)], { DATABASE_URL: database.url });
        expect({ code: result.code, stderr: result.stderr }).toEqual({ code: 0, stderr: '' });
        expect(result.stdout).toMatch(/compat ok/);
      } finally {
        await database.drop();
      }
    });
  },
);
