import { spawn } from 'node:child_process';
import { constants as fsConstants } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import readline from 'node:readline';

import { appError } from '../lib/errors';

/** Receives one line of human-readable progress while a tool is provisioned. */
export type ProgressListener = (line: string) => void;

/** True when `file` is a regular file this process may execute. */
export async function isExecutable(file: string): Promise<boolean> {
  try {
    const stats = await fs.stat(file);
    if (!stats.isFile()) return false;

    await fs.access(file, fsConstants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** Returns the platform's file name of an executable: `name.exe` on Windows. */
export function executableName(name: string): string {
  return process.platform === 'win32' ? `${name}.exe` : name;
}

/** Finds an executable by name in the directories of `env.PATH`, as a shell would. */
export async function findOnPath(name: string, env: NodeJS.ProcessEnv = process.env): Promise<string | undefined> {
  const directories = (env.PATH ?? env.Path ?? '').split(path.delimiter).filter((directory) => directory !== '');

  for (const directory of directories) {
    const candidate = path.join(directory, executableName(name));
    if (await isExecutable(candidate)) return candidate;
  }
  return undefined;
}

/**
 * Runs a command to completion, passing each output line to `onProgress`.
 * Rejects with the last lines of output when it exits unsuccessfully.
 */
export async function runWithProgress(
  command: string,
  args: string[],
  options: { env?: NodeJS.ProcessEnv; cwd?: string; onProgress?: ProgressListener } = {},
): Promise<void> {
  const child = spawn(command, args, { env: options.env ?? process.env, cwd: options.cwd, stdio: ['ignore', 'pipe', 'pipe'] });

  const recentLines: string[] = [];
  const onLine = (line: string) => {
    recentLines.push(line);
    if (recentLines.length > 20) recentLines.shift();
    options.onProgress?.(line);
  };
  readline.createInterface({ input: child.stdout }).on('line', onLine);
  readline.createInterface({ input: child.stderr }).on('line', onLine);

  const exitCode = await new Promise<number | null>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code) => resolve(code));
  });

  if (exitCode !== 0) {
    throw appError('SERVICE_UNAVAILABLE', `${path.basename(command)} ${args.join(' ')} failed with exit code ${exitCode}`, {
      output: recentLines.join('\n'),
    });
  }
}
