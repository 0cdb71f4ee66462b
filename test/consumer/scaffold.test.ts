// `zart init` (and `npm create zart`, through packages/create-zart) as a newcomer uses them: the
// scaffolded project installs the packed tarball, and its own `npm test` and `npm start` pass in a
// fresh folder, CommonJS and ESM, with no DATABASE_URL (the embedded PostgreSQL default).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { packedCreateZart, packedTarball } from './support/packed-zart';
import { createScratchProject, projectAt, quietInstall, type ScratchProject } from './support/scratch-project';

// As a newcomer's shell: no database configured, no local server probed.
const freshShell = {
  DATABASE_URL: undefined,
  ZART_TEST_SERVER_URL: undefined,
  ZART_SKIP_LOCAL_POSTGRES: '1',
};

let tools: ScratchProject;

beforeAll(async () => {
  // Where `npx zart init` and `npm create zart` run from: both packages installed from tarballs.
  tools = createScratchProject('scaffold-tools', { 'package.json': '{ "private": true }' });
  await tools.mustRun('npm', ['install', ...quietInstall, '--omit=optional', packedTarball(), packedCreateZart()]);
});
afterAll(() => tools?.remove());

describe.each([
  ['commonjs', 'zart init'],
  ['esm', 'npm create zart'],
] as const)('a %s project from `%s`', (module, how) => {
  let app: string;

  beforeAll(async () => {
    if (how === 'zart init') {
      await tools.mustRun('npx', ['zart', 'init', `app-${module}`, '--module', module]);
    } else {
      // What `npm create zart app -- --module esm` runs, from the installed create-zart.
      await tools.mustRun('npx', ['create-zart', `app-${module}`, '--module', module]);
    }
    app = join(tools.dir, `app-${module}`);
  });

  test('has a package.json of the chosen module type that depends on zart', () => {
    const manifest = JSON.parse(readFileSync(join(app, 'package.json'), 'utf8')) as {
      type: string;
      dependencies: Record<string, string>;
    };
    expect(manifest.type).toBe(module === 'esm' ? 'module' : 'commonjs');
    expect(Object.keys(manifest.dependencies)).toEqual(expect.arrayContaining(['zart', 'typeorm']));
  });

  test('installs, and its own npm test passes on embedded PostgreSQL', async () => {
    // The tarball stands in for the registry's zart; everything else comes from the registry.
    await projectAt(app).mustRun('npm', ['install', ...quietInstall, packedTarball()]);
    const result = await projectAt(app).run('npm', ['test'], freshShell);
    expect(`${result.stdout}\n${result.stderr}`).toMatch(/# pass 3\s+# fail 0/);
    expect(result.code).toBe(0);
  });

  test('npm start runs the welcome workflow to completion', async () => {
    const result = await projectAt(app).run('npm', ['start'], freshShell);
    expect(result.stdout).toContain('PostgreSQL: embedded');
    expect(result.stdout).toContain("Result: [ 'welcome sent to ada@example.com', 'tips sent to ada@example.com' ]");
    expect(result.stdout).toContain('checkpoint Mailer.sendTips#0: completed');
    expect(result.code).toBe(0);
  });
});

test('zart init refuses a folder that is not empty, and says what to do', async () => {
  const result = await tools.run('npx', ['zart', 'init', '.']);
  expect(result.code).toBe(1);
  expect(result.stderr).toContain('is not empty. Pass a new folder name (zart init my-app), or empty this one.');
});
