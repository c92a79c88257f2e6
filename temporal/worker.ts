import type { LogLevel, LogMetadata, Logger as TemporalLogger } from '@temporalio/common';
import { Runtime, Worker, type NativeConnection, type WorkflowBundleOption } from '@temporalio/worker';

import type { Config } from '../lib/config';
import { createLogger, type Logger } from '../lib/logger';
import { temporalNames } from './names';

export interface CreateWorkerOptions {
  config: Pick<Config, 'TEMPORAL_NAMESPACE' | 'TEMPORAL_TASK_QUEUE'>;
  connection: NativeConnection;
  activities: object;
  /** Module exporting the workflow functions; bundled when the worker starts. */
  workflowsPath?: string;
  /** A bundle prepared ahead of time, instead of `workflowsPath`. */
  workflowBundle?: WorkflowBundleOption;
  logger?: Logger;
  /** Overrides the configured task queue, so tests can isolate their workers. */
  taskQueue?: string;
}

/** Time that running activities get to finish after a shutdown request, before they are cancelled. */
const SHUTDOWN_GRACE_TIME = '30s';

/** After this, shutdown gives up waiting and `run()` rejects, so the process can exit anyway. */
const SHUTDOWN_FORCE_TIME = '60s';

/**
 * Creates a worker on the configured namespace and task queue, with the SDK's
 * logs forwarded to pino. `worker.run()` resolves once the worker has shut
 * down, either through `worker.shutdown()` or on SIGINT/SIGTERM, which the SDK
 * runtime handles with a graceful drain.
 *
 * NOTE: a worker that never reached its server keeps the process alive after
 * shutdown, so entry points must call `process.exit` once `run()` settles.
 */
export async function createWorker(options: CreateWorkerOptions): Promise<Worker> {
  const logger = options.logger ?? createLogger({ name: 'temporal-worker' });
  installRuntimeLogger(logger);

  const names = temporalNames(options.config);
  const workflowSource = options.workflowBundle
    ? { workflowBundle: options.workflowBundle }
    : { workflowsPath: options.workflowsPath };

  return Worker.create({
    connection: options.connection,
    namespace: names.namespace,
    taskQueue: options.taskQueue ?? names.taskQueue,
    activities: options.activities,
    ...workflowSource,
    shutdownGraceTime: SHUTDOWN_GRACE_TIME,
    shutdownForceTime: SHUTDOWN_FORCE_TIME,
  });
}

/**
 * Routes the SDK runtime's logs, including those of its native core, to pino.
 * The runtime is a process-wide singleton: when something already created it
 * (a test environment, an earlier call), its logger is left as it is.
 */
export function installRuntimeLogger(logger: Logger): void {
  if (Runtime._instance !== undefined) return;

  Runtime.install({
    logger: pinoTemporalLogger(logger.child({ component: 'temporal' })),
    telemetryOptions: {
      logging: {
        filter: { core: coreLogLevel(logger.level), other: 'ERROR' },
        forward: {},
      },
    },
  });
}

/** Adapts a pino logger to the SDK's logger interface. */
export function pinoTemporalLogger(logger: Logger): TemporalLogger {
  const write = (level: LogLevel, message: string, meta?: LogMetadata) => {
    const method = PINO_METHODS[level];
    if (meta === undefined) logger[method](message);
    else logger[method](meta, message);
  };

  return {
    log: write,
    trace: (message, meta) => write('TRACE', message, meta),
    debug: (message, meta) => write('DEBUG', message, meta),
    info: (message, meta) => write('INFO', message, meta),
    warn: (message, meta) => write('WARN', message, meta),
    error: (message, meta) => write('ERROR', message, meta),
  };
}

const PINO_METHODS = {
  TRACE: 'trace',
  DEBUG: 'debug',
  INFO: 'info',
  WARN: 'warn',
  ERROR: 'error',
} as const satisfies Record<LogLevel, string>;

/** Maps the pino level to the native core's filter: the core is verbose at INFO, so it logs below WARN only at pino debug or trace. */
function coreLogLevel(pinoLevel: string): LogLevel {
  if (pinoLevel === 'trace') return 'TRACE';
  if (pinoLevel === 'debug') return 'DEBUG';
  if (pinoLevel === 'error' || pinoLevel === 'fatal') return 'ERROR';
  return 'WARN';
}
