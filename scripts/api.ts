import { buildApi, startPendingTaskSweep } from '../api/server';
import { loadConfig } from '../lib/config';
import { createLogger } from '../lib/logger';
import { openServices } from '../lib/services';

/** Entry point of an API process (production); it also serves the built web app. */
async function main(): Promise<void> {
  const config = loadConfig();
  const logger = createLogger({ level: config.LOG_LEVEL, name: 'api' });
  const services = await openServices(config, logger);

  const stopSweep = startPendingTaskSweep(services);
  const server = buildApi(services).listen(config.PORT, config.HOST, () => {
    logger.info({ host: config.HOST, port: config.PORT }, 'API listening');
  });

  const shutdown = (signal: string) => {
    logger.info({ signal }, 'shutting down');
    stopSweep();
    server.close(() => {
      services.close().then(
        () => process.exit(0),
        () => process.exit(1),
      );
    });
    server.closeIdleConnections();
  };
  process.once('SIGINT', () => shutdown('SIGINT'));
  process.once('SIGTERM', () => shutdown('SIGTERM'));
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
