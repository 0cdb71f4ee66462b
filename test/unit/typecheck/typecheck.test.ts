// The whole project (src, tests, samples, bench) and the public API's type tests compile under
// strict tsc. Jest transpiles each file on its own (isolatedModules) without checking types, so
// this is where a type error anywhere fails `npm test`: the same checks as `npm run typecheck`.
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';

const root = join(__dirname, '..', '..', '..');
const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');

async function typeErrors(project: string): Promise<string> {
  try {
    await promisify(execFile)(process.execPath, [tsc, '--noEmit', '-p', project], { cwd: root, maxBuffer: 1 << 26 });
    return '';
  } catch (error) {
    const { stdout, stderr } = error as { stdout?: string; stderr?: string };
    return `${stdout ?? ''}${stderr ?? ''}` || String(error);
  }
}

test('the project type-checks under strict tsc (tsconfig.json)', async () => {
  expect(await typeErrors('tsconfig.json')).toBe('');
}, 300_000);

test("the public API's type tests compile (test/types, with exactOptionalPropertyTypes)", async () => {
  expect(await typeErrors('test/types/tsconfig.json')).toBe('');
}, 300_000);
