import fs from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

import { loadConfig } from '../../lib/config';
import { createLogger } from '../../lib/logger';
import { locateTemporalCli } from '../../temporal/cli';
import { startDevServer } from '../../temporal/dev-server';
import { locateTimeSkippingServer } from '../../temporal/test-server';
import type { RunningService } from './services';

/**
 * Provides Temporal to the test run. The server is the one at TEST_TEMPORAL_ADDRESS
 * when set, else a dev server on a free port with a throwaway database.
 * The time-skipping server's executable (TEST_TEMPORAL_TEST_SERVER_PATH) is
 * provisioned when missing. stop() leaves no process behind.
 */
export async function startTemporalServer(): Promise<RunningService> {
  const config = toolConfig();
  const onProgress = (line: string) => process.stderr.write(`[temporal] ${line}\n`);

  const testServerPath = process.env.TEST_TEMPORAL_TEST_SERVER_PATH ?? (await locateTimeSkippingServer(config, { onProgress }));

  const existingAddress = process.env.TEST_TEMPORAL_ADDRESS;
  if (existingAddress) {
    return {
      name: 'temporal',
      env: { TEST_TEMPORAL_ADDRESS: existingAddress, TEST_TEMPORAL_TEST_SERVER_PATH: testServerPath },
      stop: async () => {},
    };
  }

  const cliPath = await locateTemporalCli(config, { onProgress });
  const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'novart-temporal-'));
  const server = await startDevServer({
    cliPath,
    dbFile: path.join(dataDir, 'temporal.sqlite'),
    port: await findFreePort(),
    logger: createLogger({ name: 'test-temporal', level: 'error' }),
  }).catch(async (error: unknown) => {
    await fs.rm(dataDir, { recursive: true, force: true });
    throw error;
  });

  return {
    name: 'temporal',
    env: { TEST_TEMPORAL_ADDRESS: server.address, TEST_TEMPORAL_TEST_SERVER_PATH: testServerPath },
    stop: async () => {
      await server.stop();
      await fs.rm(dataDir, { recursive: true, force: true });
    },
  };
}

/** Only the keys that locate tools, so unrelated variables in the environment cannot fail the run. */
export function toolConfig() {
  const { TEMPORAL_CLI_PATH, TEMPORAL_TEST_SERVER_PATH, CACHE_DIR, XDG_CACHE_HOME, HOME, USERPROFILE } = process.env;
  return loadConfig({ TEMPORAL_CLI_PATH, TEMPORAL_TEST_SERVER_PATH, CACHE_DIR, XDG_CACHE_HOME, HOME, USERPROFILE });
}

/** Returns a port on 127.0.0.1 that was free a moment ago; another process may still take it. */
export async function findFreePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });

  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
