// The dashboard's static files (page, script, styles), read once from src/http/dashboard/ beside
// this module (the build copies them to dist/src/http/dashboard/). They hold no data: the script
// fetches everything from the API with the token, so they are served without access control.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigurationError } from '../errors';

export interface DashboardAsset {
  contentType: string;
  body: Buffer;
  /** A strong validator: browsers revalidate (no-cache) and get 304 while the file is unchanged. */
  etag: string;
}

const files = {
  '': { file: 'index.html', contentType: 'text/html; charset=utf-8' },
  'dashboard.js': { file: 'dashboard.js', contentType: 'text/javascript; charset=utf-8' },
  'dashboard.css': { file: 'dashboard.css', contentType: 'text/css; charset=utf-8' },
} as const;

/** The assets by their path under the base path ('' is the page itself). */
export function loadDashboardAssets(): Map<string, DashboardAsset> {
  const folder = join(__dirname, 'dashboard');
  const assets = new Map<string, DashboardAsset>();
  for (const [path, { file, contentType }] of Object.entries(files)) {
    let body: Buffer;
    try {
      body = readFileSync(join(folder, file));
    } catch (error) {
      throw new ConfigurationError(
        `The dashboard's file ${join(folder, file)} is missing (${(error as Error).message}). Reinstall zart; when building it from source, run \`npm run build\`, which copies src/http/dashboard/ to dist/.`,
        { cause: error },
      );
    }
    const etag = `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"`;
    assets.set(path, { contentType, body, etag });
  }
  return assets;
}
