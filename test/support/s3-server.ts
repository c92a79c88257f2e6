import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { constants as fsConstants } from 'node:fs';
import fs from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

import { loadConfig } from '../../lib/config';
import { S3Storage, type S3StorageOptions } from '../../lib/storage/s3';
import type { RunningService } from './services';

const VERSITYGW_MODULE = 'github.com/versity/versitygw/cmd/versitygw@v1.7.0';
const STARTUP_TIMEOUT_MS = 30_000;
const STOP_TIMEOUT_MS = 5_000;
const REGION = 'us-east-1';

/**
 * Starts a Versity S3 Gateway on a free 127.0.0.1 port, storing objects in a
 * temporary folder, with random root credentials. It checks request signatures
 * like S3 does. stop() ends the process and deletes the folder.
 */
export async function startS3Server(): Promise<RunningService> {
  const binary = await locateVersitygw();
  const port = await findFreePort();
  const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'novart-s3-'));
  const accessKeyId = `test${randomBytes(8).toString('hex')}`;
  const secretAccessKey = randomBytes(24).toString('base64url');

  const child = spawn(binary, ['--port', `127.0.0.1:${port}`, '--region', REGION, '--quiet', 'posix', dataDir], {
    // Credentials go through the environment so they do not show in process listings.
    env: { ...process.env, ROOT_ACCESS_KEY: accessKeyId, ROOT_SECRET_KEY: secretAccessKey },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output = collectOutput(child);

  const stop = async () => {
    await stopProcess(child);
    await fs.rm(dataDir, { recursive: true, force: true });
  };

  const endpoint = `http://127.0.0.1:${port}`;
  try {
    await waitUntilAnswering(endpoint, child, output);
  } catch (error) {
    await stop();
    throw error;
  }

  return {
    name: 's3',
    env: {
      TEST_S3_ENDPOINT: endpoint,
      TEST_S3_REGION: REGION,
      TEST_S3_ACCESS_KEY_ID: accessKeyId,
      TEST_S3_SECRET_ACCESS_KEY: secretAccessKey,
    },
    stop,
  };
}

/** S3Storage options for the test server that `startS3Server` published in TEST_S3_* variables. */
export function testS3Options(bucket: string): S3StorageOptions {
  const { TEST_S3_ENDPOINT, TEST_S3_REGION, TEST_S3_ACCESS_KEY_ID, TEST_S3_SECRET_ACCESS_KEY } = process.env;
  if (!TEST_S3_ENDPOINT || !TEST_S3_REGION || !TEST_S3_ACCESS_KEY_ID || !TEST_S3_SECRET_ACCESS_KEY) {
    throw new Error('TEST_S3_* variables are missing: run the tests through jest, whose globalSetup starts the S3 server');
  }

  return {
    bucket,
    region: TEST_S3_REGION,
    endpoint: TEST_S3_ENDPOINT,
    forcePathStyle: true,
    credentials: { accessKeyId: TEST_S3_ACCESS_KEY_ID, secretAccessKey: TEST_S3_SECRET_ACCESS_KEY },
  };
}

/** Creates a bucket with a random name on the test S3 server and returns the options to reach it. */
export async function createTestBucket(): Promise<S3StorageOptions> {
  const options = testS3Options(`test-${randomBytes(6).toString('hex')}`);
  const storage = new S3Storage(options);
  try {
    await storage.ensureBucket();
  } finally {
    storage.close();
  }
  return options;
}

/** Finds versitygw in VERSITYGW_PATH, on PATH or in the project cache, and builds it there if missing. */
async function locateVersitygw(): Promise<string> {
  const configured = process.env.VERSITYGW_PATH;
  if (configured) {
    if (await isExecutable(configured)) return configured;
    throw new Error(`VERSITYGW_PATH=${configured} is not an executable file`);
  }

  for (const directory of (process.env.PATH ?? '').split(path.delimiter).filter(Boolean)) {
    const candidate = path.join(directory, 'versitygw');
    if (await isExecutable(candidate)) return candidate;
  }

  const binDir = path.join(cacheDir(), 'bin');
  const cached = path.join(binDir, 'versitygw');
  if (await isExecutable(cached)) return cached;

  await buildVersitygw(binDir);
  return cached;
}

function cacheDir(): string {
  // Only the variables that decide the cache folder, so unrelated settings cannot fail the parse.
  const { CACHE_DIR, XDG_CACHE_HOME, HOME, USERPROFILE } = process.env;
  return loadConfig({ CACHE_DIR, XDG_CACHE_HOME, HOME, USERPROFILE }).cacheDir;
}

async function buildVersitygw(binDir: string): Promise<void> {
  await fs.mkdir(binDir, { recursive: true });
  process.stderr.write(`versitygw not found; building ${VERSITYGW_MODULE} into ${binDir} (about 2 minutes)\n`);

  const child = spawn('go', ['install', '-v', VERSITYGW_MODULE], {
    env: { ...process.env, GOBIN: binDir },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  const exitCode = await new Promise<number | null>((resolve, reject) => {
    child.once('error', (error) =>
      reject(new Error(`Cannot build versitygw: running "go" failed (${error.message}); install Go or set VERSITYGW_PATH`)),
    );
    child.once('exit', resolve);
  });
  if (exitCode !== 0) {
    throw new Error(`Building versitygw failed: "go install ${VERSITYGW_MODULE}" exited with code ${exitCode}`);
  }

  process.stderr.write('versitygw built\n');
}

async function isExecutable(filePath: string): Promise<boolean> {
  try {
    const stats = await fs.stat(filePath);
    if (!stats.isFile()) return false;
    await fs.access(filePath, fsConstants.X_OK);
    return true;
  } catch {
    return false;
  }
}

async function findFreePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** Keeps the last lines of the process output for error messages. */
function collectOutput(child: ChildProcess): () => string {
  const lines: string[] = [];
  const append = (chunk: Buffer) => {
    lines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
    lines.splice(0, Math.max(0, lines.length - 20));
  };
  child.stdout?.on('data', append);
  child.stderr?.on('data', append);
  return () => lines.join('\n');
}

async function waitUntilAnswering(endpoint: string, child: ChildProcess, output: () => string): Promise<void> {
  const deadline = Date.now() + STARTUP_TIMEOUT_MS;
  let exited = false;
  child.once('exit', () => (exited = true));

  while (Date.now() < deadline) {
    if (exited || child.exitCode !== null) {
      throw new Error(`versitygw exited during start-up with code ${child.exitCode}:\n${output()}`);
    }

    try {
      // Any HTTP status, even 403 for this unsigned request, means the server is up.
      await fetch(`${endpoint}/`, { signal: AbortSignal.timeout(1_000) });
      return;
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  throw new Error(`versitygw did not respond at ${endpoint} within ${STARTUP_TIMEOUT_MS} ms:\n${output()}`);
}

async function stopProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;

  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');

  const timer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
  await exited;
  clearTimeout(timer);
}
