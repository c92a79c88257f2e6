import path from 'node:path';
import type { NativeConnection, Worker } from '@temporalio/worker';
import { createAccountActivities } from '../activities/account-activities';
import { createTaskActivities } from '../activities/task-activities';
import { createWalletActivities } from '../activities/wallet-activities';
import { ensureReconciliationSchedule } from '../lib/reconciliation';
import type { Services } from '../lib/services';
import { createWorker } from './worker';

export interface TaskWorkerOptions {
  taskQueue?: string;
  /** False skips the reconciliation schedule, for servers without schedules such as the time-skipping test server. */
  schedules?: boolean;
}

export const WORKFLOWS_PATH = path.resolve(__dirname, '..', 'workflows', 'index.ts');

/**
 * Creates the worker that runs generation tasks, their maintenance workflows
 * and the wallet reconciliation, whose schedule it creates or updates.
 */
export async function createTaskWorker(services: Services, connection: NativeConnection, options: TaskWorkerOptions = {}): Promise<Worker> {
  const logger = services.logger.child({ component: 'activities' });
  const activities = {
    ...createTaskActivities({
      prisma: services.database.prisma,
      storage: services.storage,
      providers: services.providers,
      config: services.config,
      logger,
    }),
    ...createWalletActivities({ prisma: services.database.prisma, logger }),
    ...createAccountActivities({ prisma: services.database.prisma, storage: services.storage, config: services.config, logger }),
  };
  if (options.schedules !== false) {
    await ensureReconciliationSchedule(services.temporal, {
      cron: services.config.RECONCILIATION_CRON,
      taskQueue: options.taskQueue ?? services.config.TEMPORAL_TASK_QUEUE,
    });
  }

  return createWorker({
    config: services.config,
    connection,
    activities,
    workflowsPath: WORKFLOWS_PATH,
    logger: services.logger,
    ...(options.taskQueue ? { taskQueue: options.taskQueue } : {}),
  });
}
