import fs from 'node:fs/promises';
import path from 'node:path';

import type { Config } from '../lib/config';
import { appError } from '../lib/errors';
import { executableName, findOnPath, isExecutable, runWithProgress, type ProgressListener } from './executables';

/** Later tags of the CLI carry a `replace` directive, which `go install` refuses. */
export const TEMPORAL_CLI_MODULE = 'github.com/temporalio/cli/cmd/temporal@v1.5.1';

export interface LocateOptions {
  onProgress?: ProgressListener;
  /** Environment whose PATH is searched and which provisioning commands inherit. */
  env?: NodeJS.ProcessEnv;
}

/**
 * Finds the `temporal` CLI, in this order: TEMPORAL_CLI_PATH, `temporal` on
 * PATH, `<cacheDir>/bin/temporal`. When none exists it is provisioned into
 * `<cacheDir>/bin`: built with `go install` when Go is available, else
 * downloaded the way the SDK's test environment does.
 */
export async function locateTemporalCli(
  config: Pick<Config, 'TEMPORAL_CLI_PATH' | 'cacheDir'>,
  options: LocateOptions = {},
): Promise<string> {
  const env = options.env ?? process.env;

  if (config.TEMPORAL_CLI_PATH) {
    const explicitPath = path.resolve(config.TEMPORAL_CLI_PATH);
    if (await isExecutable(explicitPath)) return explicitPath;
    throw appError('SERVICE_UNAVAILABLE', `TEMPORAL_CLI_PATH ${explicitPath} is not an executable file`);
  }

  const onPath = await findOnPath('temporal', env);
  if (onPath) return onPath;

  const cached = cachedCliPath(config.cacheDir);
  if (await isExecutable(cached)) return cached;

  const go = await findOnPath('go', env);
  if (go) {
    await buildWithGo(go, config.cacheDir, env, options.onProgress);
  } else {
    await downloadWithSdk(config.cacheDir, options.onProgress);
  }

  if (await isExecutable(cached)) return cached;
  throw appError('SERVICE_UNAVAILABLE', `provisioning finished but ${cached} is missing`);
}

/** Returns the path where a provisioned CLI is stored. */
export function cachedCliPath(cacheDir: string): string {
  return path.join(cacheDir, 'bin', executableName('temporal'));
}

async function buildWithGo(go: string, cacheDir: string, env: NodeJS.ProcessEnv, onProgress?: ProgressListener): Promise<void> {
  const binDir = path.join(cacheDir, 'bin');
  await fs.mkdir(binDir, { recursive: true });

  onProgress?.(`Building the Temporal CLI with go install ${TEMPORAL_CLI_MODULE} into ${binDir} (a few minutes, once)`);
  await runWithProgress(go, ['install', '-v', TEMPORAL_CLI_MODULE], {
    env: { ...env, GOBIN: binDir },
    onProgress,
  });
  onProgress?.('Temporal CLI built');
}

/**
 * Uses the SDK's own download of the dev server: starting a local test
 * environment fetches the CLI into `downloadDir`, from where it is copied.
 *
 * NOTE: the SDK exposes its download only through starting a server, so a
 * throwaway one runs briefly; it also needs the dev dependency @temporalio/testing.
 */
async function downloadWithSdk(cacheDir: string, onProgress?: ProgressListener): Promise<void> {
  const testing = await import('@temporalio/testing').catch(() => {
    throw appError(
      'SERVICE_UNAVAILABLE',
      'No Temporal CLI found and neither Go nor @temporalio/testing is available: install the `temporal` CLI or set TEMPORAL_CLI_PATH',
    );
  });

  const downloadDir = path.join(cacheDir, 'sdk-download');
  await fs.mkdir(downloadDir, { recursive: true });
  onProgress?.(`Downloading the Temporal CLI through the SDK into ${downloadDir}`);

  const environment = await testing.TestWorkflowEnvironment.createLocal({
    server: { executable: { type: 'cached-download', downloadDir } },
  });
  await environment.teardown();

  const downloaded = await newestExecutable(downloadDir);
  if (!downloaded) throw appError('SERVICE_UNAVAILABLE', `the SDK download left no executable in ${downloadDir}`);

  const target = cachedCliPath(cacheDir);
  await fs.mkdir(path.dirname(target), { recursive: true });
  await fs.copyFile(downloaded, target);
  await fs.chmod(target, 0o755);
  onProgress?.(`Temporal CLI downloaded to ${target}`);
}

async function newestExecutable(directory: string): Promise<string | undefined> {
  const entries = await fs.readdir(directory);
  const candidates: Array<{ file: string; modified: number }> = [];

  for (const entry of entries) {
    const file = path.join(directory, entry);
    if (!(await isExecutable(file))) continue;
    candidates.push({ file, modified: (await fs.stat(file)).mtimeMs });
  }

  candidates.sort((a, b) => b.modified - a.modified);
  return candidates[0]?.file;
}
