// A require hook for child processes started by tests with ts-node: maps `zart` and `zart/testing`
// to src/, as jest's moduleNameMapper does in-process. Without it, a sample's `import ... from 'zart'`
// would resolve through package.json "exports" to dist/, which may be stale or not built at all.
import Module from 'node:module';
import path from 'node:path';

const root = path.join(__dirname, '..', '..');
const sources: Record<string, string> = {
  zart: path.join(root, 'src', 'index.ts'),
  'zart/testing': path.join(root, 'src', 'testing', 'index.ts'),
};

type ResolveFilename = (request: string, ...rest: unknown[]) => string;
const resolver = Module as unknown as { _resolveFilename: ResolveFilename };
const resolveFromPackage = resolver._resolveFilename;
resolver._resolveFilename = function (this: unknown, request: string, ...rest: unknown[]): string {
  return resolveFromPackage.call(this, sources[request] ?? request, ...rest);
};
