#!/usr/bin/env node
'use strict';

/**
 * Generates the Prisma client into prisma/generated (run on `npm install`).
 *
 * NOTE: the Prisma CLI downloads a native schema engine on start unless
 * PRISMA_SCHEMA_ENGINE_BINARY names an existing file. `generate` never runs that
 * engine, so the Node binary stands in and generation works offline.
 */
const { spawnSync } = require('node:child_process');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const env = { ...process.env };
env.PRISMA_SCHEMA_ENGINE_BINARY ??= process.execPath;

const result = spawnSync(process.execPath, [require.resolve('prisma/build/index.js'), 'generate'], {
  cwd: root,
  env,
  stdio: 'inherit',
});
process.exit(result.status ?? 1);
