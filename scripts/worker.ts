import { loadConfig } from '../lib/config';
import { createLogger } from '../lib/logger';
import { openServices } from '../lib/services';
import { connectWorkerConnection } from '../temporal/connection';
import { createTaskWorker } from '../temporal/task-worker';
import { installRuntimeLogger } from '../temporal/worker';

/** Entry point of a worker process (production: one or more per deployment). */
async function main(): Promise<void> {
  const config = loadConfig();
  const logger = createLogger({ level: config.LOG_LEVEL, name: 'worker' });
  installRuntimeLogger(logger);
  const services = await openServices(config, logger);
  const connection = await connectWorkerConnection(config);

  const worker = await createTaskWorker(services, connection);
  logger.info({ taskQueue: config.TEMPORAL_TASK_QUEUE }, 'worker started');
  await worker.run();

  await connection.close();
  await services.close();
  logger.info('worker stopped');
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
  },
);
