/**
 * Provisions the Temporal tools into the cache folder ahead of time, so that
 * the first `npm start` or test run does not wait for them.
 *
 *   npm run provision:temporal                 the `temporal` CLI (dev server)
 *   npm run provision:temporal -- --test-server  also the time-skipping test server
 */
import { loadConfig } from '../lib/config';
import { createLogger } from '../lib/logger';
import { locateTemporalCli } from '../temporal/cli';
import { locateTimeSkippingServer } from '../temporal/test-server';

async function main(): Promise<void> {
  const config = loadConfig();
  const logger = createLogger({ name: 'provision-temporal', level: config.LOG_LEVEL });
  const onProgress = (line: string) => logger.info(line);

  const cliPath = await locateTemporalCli(config, { onProgress });
  logger.info({ cliPath }, 'Temporal CLI available');

  if (process.argv.includes('--test-server')) {
    const testServerPath = await locateTimeSkippingServer(config, { onProgress });
    logger.info({ testServerPath }, 'Time-skipping test server available');
  }
}

main().catch((error: unknown) => {
  createLogger({ name: 'provision-temporal' }).error({ err: error }, 'Provisioning failed');
  process.exitCode = 1;
});
