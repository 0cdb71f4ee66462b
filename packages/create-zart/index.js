#!/usr/bin/env node
// `npm create zart [directory] -- [--module esm]`: hands its arguments to `zart init`, so the
// project template lives in one place (zart's src/cli/project-template.ts) and matches its version.
'use strict';
const { spawnSync } = require('node:child_process');
const path = require('node:path');

// zart exports its package.json; the bin path is read from it rather than hard-coded.
const manifestPath = require.resolve('zart/package.json');
const manifest = require(manifestPath);
const bin = path.join(path.dirname(manifestPath), manifest.bin.zart);
const result = spawnSync(process.execPath, [bin, 'init', ...process.argv.slice(2)], { stdio: 'inherit' });
process.exit(result.status ?? 1);
