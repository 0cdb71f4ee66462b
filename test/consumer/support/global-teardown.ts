// Global teardown of the consumer checks: deletes the packed tarballs' folders, then stops the
// PostgreSQL server as the main suite does.
import { rmSync } from 'node:fs';
import { dirname } from 'node:path';
import testServerTeardown from '../../support/global-teardown';
import { createZartTarballVariable, tarballVariable } from './packed-zart';

export default async function globalTeardown(): Promise<void> {
  for (const variable of [tarballVariable, createZartTarballVariable]) {
    const tarball = process.env[variable];
    if (tarball) rmSync(dirname(tarball), { recursive: true, force: true });
  }
  await testServerTeardown();
}
