// The dashboard's static files (page, script modules, styles), read once from src/http/dashboard/ beside
// this module (the build copies them to dist/src/http/dashboard/). They hold no data: the script
// fetches everything from the API with the token, so they are served without access control.
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { extname, join } from 'node:path';
import { ConfigurationError } from '../errors';

export interface DashboardAsset {
  contentType: string;
  body: Buffer;
  /** A strong validator: browsers revalidate (no-cache) and get 304 while the file is unchanged. */
  etag: string;
}

// The page is served at the base path itself; its script modules and styles by their file names.
const contentTypes: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
};

/** The assets by their path under the base path ('' is the page itself). */
export function loadDashboardAssets(): Map<string, DashboardAsset> {
  const folder = join(__dirname, 'dashboard');
  const assets = new Map<string, DashboardAsset>();
  let files: string[];
  try {
    files = readdirSync(folder).filter((file) => extname(file) in contentTypes);
    if (!files.includes('index.html')) throw new Error('no index.html');
  } catch (error) {
    throw new ConfigurationError(
      `The dashboard's files are missing from ${folder} (${(error as Error).message}). Reinstall zart; when building it from source, run \`npm run build\`, which copies src/http/dashboard/ to dist/.`,
      { cause: error },
    );
  }
  for (const file of files) {
    const body = readFileSync(join(folder, file));
    const etag = `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"`;
    assets.set(file === 'index.html' ? '' : file, { contentType: contentTypes[extname(file)]!, body, etag });
  }
  return assets;
}
