import path from 'node:path';
import type { Express } from 'express';
import { createMailer, type Mailer } from '../lib/mail';
import { createTaskService } from '../lib/tasks';
import type { Services } from '../lib/services';
import { readinessChecks } from '../lib/services';
import { createDownloadRouter, isLocalDiskStorage } from '../lib/storage';
import { createApp } from './app';
import { sessionRouter } from './session/router';
import { v1Router } from './v1/router';

export const WEB_DIST_DIR = path.resolve(__dirname, '..', 'web', 'dist');

/** Builds the HTTP application of a process from its opened services. */
export function buildApi(services: Services, options: { webDistDir?: string; mailer?: Mailer } = {}): Express {
  const { config, database, storage, providers, temporal, logger } = services;
  const tasks = createTaskService({ prisma: database.prisma, temporal, providers, config, logger });

  const resources = { prisma: database.prisma, temporal, storage, tasks, providers, config, logger };
  const mailer = options.mailer ?? createMailer(config, logger);

  const routers = [
    { path: '/v1', router: v1Router(resources) },
    { path: '/api', router: sessionRouter({ ...resources, mailer, sessionSecret: services.secrets.sessionSecret }) },
  ];
  if (isLocalDiskStorage(storage)) routers.push({ path: '/', router: createDownloadRouter(storage) });

  return createApp({
    logger,
    readinessChecks: readinessChecks(services),
    routers,
    webDistDir: options.webDistDir ?? WEB_DIST_DIR,
    imageOrigins: config.STORAGE_DRIVER === 's3' && config.S3_ENDPOINT ? [new URL(config.S3_ENDPOINT).origin] : [],
    trustProxy: config.NODE_ENV === 'production' ? 1 : false,
  });
}

const PENDING_TASK_SWEEP_INTERVAL_MS = 30_000;

/**
 * Starts, every 30 seconds, the workflows of tasks that were created while
 * Temporal was unreachable; returns a function that stops the sweep.
 */
export function startPendingTaskSweep(services: Services): () => void {
  const { config, database, providers, temporal, logger } = services;
  const tasks = createTaskService({ prisma: database.prisma, temporal, providers, config, logger });

  const timer = setInterval(() => {
    tasks.startPendingTasks().then(
      (started) => {
        if (started > 0) logger.info({ started }, 'started workflows of pending tasks');
      },
      (error: unknown) => logger.warn({ err: error }, 'pending task sweep failed'),
    );
  }, PENDING_TASK_SWEEP_INTERVAL_MS);
  timer.unref();
  return () => clearInterval(timer);
}
