import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { buildApi, startPendingTaskSweep, WEB_DIST_DIR } from '../api/server';
import { ConfigError, loadConfig, type Config } from '../lib/config';
import { createLogger } from '../lib/logger';
import { openServices, type Services } from '../lib/services';
import { locateTemporalCli } from '../temporal/cli';
import { connectWorkerConnection } from '../temporal/connection';
import { startDevServer, type DevServer } from '../temporal/dev-server';
import { createTaskWorker } from '../temporal/task-worker';
import { installRuntimeLogger } from '../temporal/worker';
import { ensureFirstAdmin } from './first-admin';

const ROOT_DIR = path.resolve(__dirname, '..');

/**
 * The embedded default: one command starts a Temporal dev server (unless
 * TEMPORAL_ADDRESS is set), the database (PGlite unless DATABASE_URL is set),
 * local storage, the worker, the API and the web app, and stops them all on
 * Ctrl-C or SIGTERM. Everything persistent lives under DATA_DIR.
 */
async function main(): Promise<void> {
  let config = loadConfig();
  const logger = createLogger({ level: config.LOG_LEVEL, name: 'novart' });
  installRuntimeLogger(logger);
  fs.mkdirSync(config.DATA_DIR, { recursive: true });
  const startedAt = performance.now();

  let devServer: DevServer | undefined;
  let services: Services | undefined;
  const stopAll = async () => {
    await services?.close().catch((error: unknown) => logger.error({ err: error }, 'closing services failed'));
    await devServer?.stop().catch((error: unknown) => logger.error({ err: error }, 'stopping the Temporal dev server failed'));
  };

  try {
    if (!config.TEMPORAL_ADDRESS) {
      devServer = await startEmbeddedTemporal(config, (line) => logger.info(line));
      config = { ...config, TEMPORAL_UI_URL: config.TEMPORAL_UI_URL ?? devServer.uiUrl?.replace('127.0.0.1', 'localhost') };
    }
    buildWebAppIfMissing(logger);

    services = await openServices(config, logger);
    const connection = await connectWorkerConnection(config);
    const worker = await createTaskWorker(services, connection);
    const workerRun = worker.run();
    const admin = await ensureFirstAdmin(services.database.prisma);

    const stopSweep = startPendingTaskSweep(services);
    const server = buildApi(services).listen(config.PORT, config.HOST);
    await new Promise<void>((resolve, reject) => {
      server.once('listening', resolve);
      server.once('error', reject);
    });
    printBanner(config, admin, Math.round(performance.now() - startedAt));

    const shutdown = async (signal: string) => {
      logger.info({ signal }, 'stopping');
      stopSweep();
      server.close();
      server.closeAllConnections();
      worker.shutdown();
      await workerRun.catch((error: unknown) => logger.error({ err: error }, 'worker stopped with an error'));
      await connection.close();
      await stopAll();
      logger.info('stopped');
      process.exit(0);
    };
    process.once('SIGINT', (signal) => void shutdown(signal));
    process.once('SIGTERM', (signal) => void shutdown(signal));
  } catch (error) {
    await stopAll();
    throw error;
  }
}

async function startEmbeddedTemporal(config: Config, onProgress: (line: string) => void): Promise<DevServer> {
  const cliPath = await locateTemporalCli(config, { onProgress });
  return startDevServer({
    cliPath,
    dbFile: path.join(config.DATA_DIR, 'temporal', 'temporal.db'),
    port: config.TEMPORAL_DEV_PORT,
    uiPort: config.TEMPORAL_UI_PORT,
    namespace: config.TEMPORAL_NAMESPACE,
    logLevel: 'error',
  });
}

/** Builds the web app on first start; later starts reuse web/dist until it is deleted or rebuilt. */
function buildWebAppIfMissing(logger: { info(message: string): void }): void {
  if (fs.existsSync(path.join(WEB_DIST_DIR, 'index.html'))) return;

  logger.info('building the web app (first start only)');
  const result = spawnSync('npm', ['run', 'build:web'], { cwd: ROOT_DIR, stdio: 'inherit' });
  if (result.status !== 0) throw new Error('Building the web app failed; run "npm run build:web" to see why');
}

function printBanner(config: Config, admin: { email: string; password?: string }, readyMs: number): void {
  const lines = [
    '',
    `Novart Studio is ready (${(readyMs / 1000).toFixed(1)} s)`,
    `  Studio:       ${config.publicUrl}/`,
    `  API base URL: ${config.publicUrl}/v1`,
    `  Temporal UI:  ${config.TEMPORAL_UI_URL ?? '(external Temporal: see your Temporal deployment)'}`,
    admin.password
      ? `  First admin:  ${admin.email} / ${admin.password}  (shown once; change it after signing in)`
      : `  Admin:        ${admin.email}`,
    '  Stop with Ctrl-C.',
    '',
  ];
  process.stdout.write(lines.join('\n') + '\n');
}

main().catch((error: unknown) => {
  if (error instanceof ConfigError) console.error(error.message);
  else console.error('Start failed:', error instanceof Error ? error.message : error);
  process.exit(1);
});
