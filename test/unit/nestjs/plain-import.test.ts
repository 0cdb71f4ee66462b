// An app without Nest never loads @nestjs/*: requiring `zart` must not pull in zart/nestjs, whose
// peers are optional. Checked in a fresh process, since jest's own module registry hides Node's.
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';

const root = join(__dirname, '..', '..', '..');

function modulesLoadedBy(entry: string): string[] {
  const script =
    `require(${JSON.stringify(entry)});` +
    "console.log(JSON.stringify(Object.keys(require.cache).filter((path) => path.includes('@nestjs'))));";
  const output = execFileSync(process.execPath, ['-r', 'ts-node/register/transpile-only', '-e', script], {
    cwd: root,
    env: { ...process.env, TS_NODE_PROJECT: join(root, 'tsconfig.json') },
    encoding: 'utf8',
  });
  return JSON.parse(output.trim().split('\n').pop()!) as string[];
}

it('loads no @nestjs package when an app requires zart', () => {
  expect(modulesLoadedBy(join(root, 'src', 'index.ts'))).toEqual([]);
});

it('loads @nestjs/common and @nestjs/core when an app requires zart/nestjs', () => {
  const loaded = modulesLoadedBy(join(root, 'src', 'nestjs', 'index.ts'));
  expect(loaded.some((path) => path.includes('@nestjs/common'))).toBe(true);
  expect(loaded.some((path) => path.includes('@nestjs/core'))).toBe(true);
});
