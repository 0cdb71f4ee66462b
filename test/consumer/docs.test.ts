// Every TypeScript block of README.md and docs/ compiles and runs as written, in a scratch ESM
// project that installed the packed tarball (as a reader who copies it would): tsc with strict and
// exactOptionalPropertyTypes, then each complete program runs on a fresh database (blocks named
// *.test.ts run under jest). Fragments compile only with a context comment; see support/doc-blocks.ts.
import { join } from 'node:path';
import { createTestDatabase } from '../../src/testing';
import { documentationPages, docBlocks, type DocBlock } from './support/doc-blocks';
import { packedTarball, repositoryRoot } from './support/packed-zart';
import { projectCompilerOptions } from '../../src/cli/project-template';
import { createScratchProject, installConsumerPackages, type ScratchProject } from './support/scratch-project';

const blocks = documentationPages(repositoryRoot).flatMap((page) => docBlocks(repositoryRoot, page));
const checked = blocks.filter((block) => block.kind !== 'fragment' || block.context !== undefined);
const where = (block: DocBlock): string => `${block.page}:${block.line}`;

const tsconfig = {
  compilerOptions: {
    ...projectCompilerOptions,
    // Each block is a module even without import/export, so blocks never share globals.
    moduleDetection: 'force',
    types: ['node', 'jest'],
  },
  include: ['app', 'pages'],
};

// The test-file blocks show ts-jest; ESM projects run it with CommonJS output and `.js` mapped away.
const jestConfig = `module.exports = {
  testEnvironment: 'node',
  testTimeout: 60000,
  transform: {
    '^.+\\\\.ts$': ['ts-jest', { diagnostics: false, tsconfig: { module: 'commonjs', moduleResolution: 'node10', target: 'es2022', esModuleInterop: true, experimentalDecorators: true, emitDecoratorMetadata: true } }],
  },
  moduleNameMapper: { '^(\\\\.{1,2}/.*)\\\\.js$': '$1' },
};
`;

let project: ScratchProject;
let compileOutput = '';
let compileErrors: string[] = [];

beforeAll(async () => {
  const files: Record<string, string> = {
    'package.json': JSON.stringify({ name: 'docs-check', private: true, type: 'module' }),
    'tsconfig.json': JSON.stringify(tsconfig, null, 2),
    'jest.config.cjs': jestConfig,
  };
  for (const block of checked) {
    const file = block.file;
    if (files[file] !== undefined) throw new Error(`${where(block)}: a second block named ${block.file}; rename one`);
    files[file] = (block.context ?? '') + block.code;
  }
  project = createScratchProject('docs', files);
  // What the docs' install lines name: the test runner of the Testing page, a Nest 11 app with
  // @nestjs/typeorm and @nestjs/config for the NestJS page, the S3 client of the large-values store,
  // pg for the crash-test fixture.
  await installConsumerPackages(project, packedTarball(), [
    'class-transformer',
    'typeorm',
    'reflect-metadata',
    'jest@29',
    'ts-jest@29',
    '@types/jest@29',
    '@nestjs/common@^11',
    '@nestjs/core@^11',
    '@nestjs/platform-express@^11',
    '@nestjs/testing@^11',
    '@nestjs/typeorm',
    '@nestjs/config',
    'rxjs@^7',
    '@aws-sdk/client-s3',
    'pg',
    '@types/pg',
    'prom-client',
    'pino',
    // The tracing setup of docs/operations.md.
    '@opentelemetry/sdk-trace-node',
    '@opentelemetry/exporter-trace-otlp-http',
  ]);
  const result = await project.run('npx', ['tsc', '-p', '.']);
  compileOutput = result.stdout;
  compileErrors = result.stdout.split('\n').filter((line) => /^(app|pages)\//.test(line));
}, 15 * 60_000);

afterAll(() => project?.remove());

test('the docs have TypeScript blocks to check', () => {
  expect(checked.length).toBeGreaterThan(5);
  process.stderr.write(
    `docs check: ${checked.length} blocks compiled (${checked.filter((b) => b.kind === 'program').length} run), ` +
      `${blocks.length - checked.length} fragments without context not compiled\n`,
  );
});

test('tsc reports no error outside the blocks (a setup problem would hide in none of them)', () => {
  const elsewhere = compileOutput
    .split('\n')
    .filter((line) => /error TS\d+/.test(line) && !/^(app|pages)\//.test(line));
  expect(elsewhere).toEqual([]);
});

describe.each(checked.map((block) => [where(block), block] as const))('%s', (_where, block) => {
  test('compiles', () => {
    // tsc reports `file(line,col)`: shown as the line of the markdown page.
    const mine = compileErrors
      .filter((line) => line.startsWith(`${block.file}(`))
      .map((line) =>
        line.replace(/^[^(]+\((\d+),(\d+)\)/, (_, row: string, col: string) => {
          // The context comment's rows come first in the file; errors in them say "context".
          const inBlock = Number(row) - ((block.context?.split('\n').length ?? 1) - 1);
          return inBlock > 0
            ? `${block.page}:${block.line + inBlock}:${col}`
            : `${block.page}:${block.line} context:${row}:${col}`;
        }),
      );
    expect(mine).toEqual([]);
  });

  const runs = block.kind === 'program';
  (runs ? test : test.skip)('runs to completion on a fresh database', async () => {
    const database = await createTestDatabase();
    try {
      const env = { DATABASE_URL: database.url, ZART_TEST_SERVER_URL: database.url.replace(/\/[^/]*$/, '/postgres') };
      const result = block.file.endsWith('.test.ts')
        ? await project.run('npx', ['jest', '--config', 'jest.config.cjs', '--rootDir', '.', block.file], env)
        : await project.run(
            'node',
            [
              '--enable-source-maps',
              join('dist', block.file).replace(/\.(m|c)?ts$/, (_, m?: string) => `.${m ?? ''}js`),
            ],
            { ...env, ZART_DOCS_CHECK: '1' },
          );
      if (result.code !== 0)
        throw new Error(`${where(block)} exited with ${result.code}\n${result.stdout}\n${result.stderr}`);
    } finally {
      await database.drop();
    }
  });
});
