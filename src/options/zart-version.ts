// The version of this zart package, recorded in the workers table.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

function readVersion(): string {
  // src/options (ts-jest) and dist/src/options (build) both find package.json by walking up.
  for (const up of ['../..', '../../..']) {
    try {
      const pkg = JSON.parse(readFileSync(join(__dirname, up, 'package.json'), 'utf8')) as {
        name?: string;
        version?: string;
      };
      if (pkg.name === 'zart' && pkg.version) return pkg.version;
    } catch {
      // not at this level; try the next one up
    }
  }
  return 'unknown';
}

export const zartVersion = readVersion();
