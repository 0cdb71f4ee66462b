// The package.json of this zart package: its version (recorded in the workers table) and the
// dependency ranges `zart init` writes into new projects, so they match what zart was built with.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/** @internal The fields of zart's package.json that zart reads about itself. */
export interface ZartManifest {
  version: string;
  dependencies: Readonly<Record<string, string>>;
  peerDependencies: Readonly<Record<string, string>>;
  optionalDependencies: Readonly<Record<string, string>>;
  devDependencies: Readonly<Record<string, string>>;
}

function readManifest(): ZartManifest {
  // src/options (ts-jest) and dist/src/options (build) both find package.json by walking up.
  for (const up of ['../..', '../../..']) {
    try {
      const pkg = JSON.parse(readFileSync(join(__dirname, up, 'package.json'), 'utf8')) as Partial<ZartManifest> & {
        name?: string;
      };
      if (pkg.name === 'zart' && pkg.version) {
        return {
          version: pkg.version,
          dependencies: pkg.dependencies ?? {},
          peerDependencies: pkg.peerDependencies ?? {},
          optionalDependencies: pkg.optionalDependencies ?? {},
          devDependencies: pkg.devDependencies ?? {},
        };
      }
    } catch {
      // not at this level; try the next one up
    }
  }
  return { version: 'unknown', dependencies: {}, peerDependencies: {}, optionalDependencies: {}, devDependencies: {} };
}

/** @internal */
export const zartManifest: ZartManifest = readManifest();

/** @internal */
export const zartVersion = zartManifest.version;
