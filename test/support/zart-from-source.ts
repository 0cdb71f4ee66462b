// Preloaded (-r) into child processes that run a sample from source: `zart`, `zart/nestjs` and
// `zart/testing` resolve to src/, as jest's moduleNameMapper and tsconfig's paths make them do,
// instead of to the package's own dist/ (which may be stale, or not built at all in CI).
import Module from 'node:module';
import { join } from 'node:path';

const root = join(__dirname, '..', '..');
const sources: Record<string, string> = {
  zart: join(root, 'src', 'index.ts'),
  'zart/nestjs': join(root, 'src', 'nestjs', 'index.ts'),
  'zart/testing': join(root, 'src', 'testing', 'index.ts'),
};

type ResolveFilename = (request: string, ...rest: unknown[]) => string;
const loader = Module as unknown as { _resolveFilename: ResolveFilename };
const resolveFilename = loader._resolveFilename;
loader._resolveFilename = function (this: unknown, request: string, ...rest: unknown[]): string {
  return resolveFilename.call(this, sources[request] ?? request, ...rest);
};
