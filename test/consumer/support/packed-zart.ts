// Builds zart and packs it with `npm pack` (the `prepack` script builds), once per consumer test
// run: the consumer checks install this tarball, exactly what the registry would serve.
import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const repositoryRoot = join(__dirname, '..', '..', '..');

/** Where global setup publishes the tarballs' paths to the test files. */
export const tarballVariable = 'ZART_PACKED_TARBALL';
export const createZartTarballVariable = 'CREATE_ZART_PACKED_TARBALL';

/** Packs the package in `directory` (default: zart itself); returns the absolute path of the .tgz. */
export function packZart(directory = repositoryRoot): string {
  const destination = mkdtempSync(join(tmpdir(), 'zart-pack-'));
  const output = execFileSync('npm', ['pack', '--json', '--pack-destination', destination], {
    cwd: directory,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  // The prepack build prints to stdout before npm's JSON: the JSON is the last top-level array.
  const json = output.startsWith('[') ? output : output.slice(output.lastIndexOf('\n[') + 1);
  const [packed] = JSON.parse(json) as Array<{ filename: string }>;
  if (!packed) throw new Error(`npm pack printed no file name:\n${output}`);
  return join(destination, packed.filename);
}

/** The zart tarball packed by global setup. */
export function packedTarball(variable = tarballVariable): string {
  const tarball = process.env[variable];
  if (!tarball) throw new Error(`${variable} is not set: run these tests with jest.consumer.config.ts`);
  return tarball;
}

/** The create-zart tarball (packages/create-zart) packed by global setup. */
export function packedCreateZart(): string {
  return packedTarball(createZartTarballVariable);
}
