// Global setup of the consumer checks: packs zart once for every check of the run, and picks the
// PostgreSQL server the checked programs use (as the main suite does).
import testServerSetup from '../../support/global-setup';
import { join } from 'node:path';
import { createZartTarballVariable, packZart, repositoryRoot, tarballVariable } from './packed-zart';

export default async function globalSetup(): Promise<void> {
  await testServerSetup();
  process.env[tarballVariable] = packZart();
  process.env[createZartTarballVariable] = packZart(join(repositoryRoot, 'packages', 'create-zart'));
  process.stderr.write(`zart consumer checks: packed ${process.env[tarballVariable]}\n`);
}
