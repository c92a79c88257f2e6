import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

import { loadConfig } from '../../lib/config';
import { locateTemporalCli } from '../../temporal/cli';

/** Small stand-ins for the CLI: only their location matters here, they are never run. */
async function fakeExecutable(directory: string, name: string): Promise<string> {
  await fs.mkdir(directory, { recursive: true });
  const file = path.join(directory, name);
  await fs.writeFile(file, '#!/bin/sh\nexit 0\n', { mode: 0o755 });
  return file;
}

describe('locateTemporalCli', () => {
  let root: string;

  beforeEach(async () => {
    root = await fs.mkdtemp(path.join(os.tmpdir(), 'novart-cli-'));
  });

  afterEach(async () => {
    await fs.rm(root, { recursive: true, force: true });
  });

  it('prefers TEMPORAL_CLI_PATH over PATH', async () => {
    const explicit = await fakeExecutable(path.join(root, 'explicit'), 'my-temporal');
    const onPathDir = path.join(root, 'path-bin');
    await fakeExecutable(onPathDir, 'temporal');
    const config = loadConfig({ TEMPORAL_CLI_PATH: explicit, CACHE_DIR: path.join(root, 'cache') });

    const located = await locateTemporalCli(config, { env: { PATH: onPathDir } });

    expect(located).toBe(explicit);
  });

  it('rejects a TEMPORAL_CLI_PATH that is not executable', async () => {
    const config = loadConfig({ TEMPORAL_CLI_PATH: path.join(root, 'missing'), CACHE_DIR: path.join(root, 'cache') });

    const locating = locateTemporalCli(config, { env: { PATH: '' } });

    await expect(locating).rejects.toThrow(/TEMPORAL_CLI_PATH/);
  });

  it('prefers PATH over the cache folder', async () => {
    const emptyDir = path.join(root, 'empty');
    await fs.mkdir(emptyDir);
    const onPathDir = path.join(root, 'path-bin');
    const onPath = await fakeExecutable(onPathDir, 'temporal');
    const cacheDir = path.join(root, 'cache');
    await fakeExecutable(path.join(cacheDir, 'bin'), 'temporal');
    const config = loadConfig({ CACHE_DIR: cacheDir });

    const located = await locateTemporalCli(config, { env: { PATH: [emptyDir, onPathDir].join(path.delimiter) } });

    expect(located).toBe(onPath);
  });

  it('falls back to the cache folder', async () => {
    const onPathDir = path.join(root, 'path-bin');
    await fakeExecutable(onPathDir, 'other-tool');
    const cacheDir = path.join(root, 'cache');
    const cached = await fakeExecutable(path.join(cacheDir, 'bin'), 'temporal');
    const config = loadConfig({ CACHE_DIR: cacheDir });

    const located = await locateTemporalCli(config, { env: { PATH: onPathDir } });

    expect(located).toBe(cached);
  });

  it('skips a PATH entry that is not executable', async () => {
    const plainDir = path.join(root, 'plain');
    await fs.mkdir(plainDir);
    await fs.writeFile(path.join(plainDir, 'temporal'), 'not a program', { mode: 0o644 });
    const cacheDir = path.join(root, 'cache');
    const cached = await fakeExecutable(path.join(cacheDir, 'bin'), 'temporal');
    const config = loadConfig({ CACHE_DIR: cacheDir });

    const located = await locateTemporalCli(config, { env: { PATH: plainDir } });

    expect(located).toBe(cached);
  });
});
