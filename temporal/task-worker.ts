import path from 'node:path';
import type { NativeConnection, Worker } from '@temporalio/worker';
import { createTaskActivities } from '../activities/task-activities';
import type { Services } from '../lib/services';
import { createWorker } from './worker';

export const WORKFLOWS_PATH = path.resolve(__dirname, '..', 'workflows', 'index.ts');

/** Creates the worker that runs generation tasks and their maintenance workflows. */
export async function createTaskWorker(services: Services, connection: NativeConnection, options: { taskQueue?: string } = {}): Promise<Worker> {
  const activities = createTaskActivities({
    prisma: services.database.prisma,
    storage: services.storage,
    providers: services.providers,
    config: services.config,
    logger: services.logger.child({ component: 'activities' }),
  });

  return createWorker({
    config: services.config,
    connection,
    activities,
    workflowsPath: WORKFLOWS_PATH,
    logger: services.logger,
    ...(options.taskQueue ? { taskQueue: options.taskQueue } : {}),
  });
}
