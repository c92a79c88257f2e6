import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Client } from 'pg';
import { createLogger } from '../../lib/logger';
import { locateTemporalCli } from '../../temporal/cli';
import { startDevServer, type DevServer } from '../../temporal/dev-server';
import { findPostgresBinDir } from '../support/postgres-server';
import { startS3Server } from '../support/s3-server';
import type { RunningService } from '../support/services';
import { findFreePort, toolConfig } from '../support/temporal-server';

/**
 * Services of a fault run that the run itself can restart: a PostgreSQL
 * cluster and a Temporal dev server that keeps its state in a SQLite file,
 * both on fixed ports so clients reconnect to the same address, plus an S3
 * server. Their TEST_* variables feed the product harness.
 */
export interface FaultServices {
  env: Record<string, string>;
  restartPostgres(): Promise<void>;
  restartTemporal(): Promise<void>;
  /** Process ids started so far, to check that none outlives the run. */
  pids(): number[];
  stop(): Promise<void>;
}

export async function startFaultServices(): Promise<FaultServices> {
  const baseDir = await fs.mkdtemp(path.join(os.tmpdir(), 'novart-faults-'));
  const postgres = await startPostgresCluster();
  const temporal = await startRestartableTemporal(path.join(baseDir, 'temporal.sqlite'));
  const s3: RunningService = await startS3Server();

  return {
    env: { TEST_DATABASE_URL: postgres.url, TEST_TEMPORAL_ADDRESS: temporal.address(), ...s3.env },
    restartPostgres: postgres.restart,
    restartTemporal: temporal.restart,
    pids: () => [...postgres.pids, ...temporal.pids],
    async stop() {
      await Promise.allSettled([postgres.stop(), temporal.stop(), s3.stop()]);
      await fs.rm(baseDir, { recursive: true, force: true });
    },
  };
}

async function startPostgresCluster() {
  const binDir = findPostgresBinDir();
  // A folder of its own directly in the temporary folder, because the server's user must reach it.
  const baseDir = await fs.mkdtemp(path.join(os.tmpdir(), 'novart-faults-pg-'));
  const dataDir = path.join(baseDir, 'data');
  const owner = serverOwner();
  if (owner) await fs.chown(baseDir, owner.uid, owner.gid);
  execFileSync(path.join(binDir, 'initdb'), ['--pgdata', dataDir, '--username', 'postgres', '--auth', 'trust', '--encoding', 'UTF8', '--locale', 'C', '--no-sync'], {
    stdio: 'pipe',
    ...owner,
  });

  const port = await findFreePort();
  const url = `postgresql://postgres@127.0.0.1:${port}/postgres`;
  const pids: number[] = [];
  let server: ChildProcess | undefined;

  // fsync stays on: a restart must find every committed transaction.
  const start = async () => {
    server = spawn(path.join(binDir, 'postgres'), ['-D', dataDir, '-p', String(port), '-h', '127.0.0.1', '-k', baseDir, '-c', 'max_connections=300'], {
      stdio: 'ignore',
      ...owner,
    });
    pids.push(server.pid!);
    await waitForPostgres(url, server);
  };
  const stop = async () => {
    if (!server || server.exitCode !== null || server.signalCode !== null) return;
    const exited = new Promise((resolve) => server!.once('exit', resolve));
    server.kill('SIGINT');
    await exited;
  };

  await start();
  return {
    url,
    pids,
    restart: async () => {
      await stop();
      await start();
    },
    stop: async () => {
      await stop();
      await fs.rm(baseDir, { recursive: true, force: true });
    },
  };
}

async function waitForPostgres(url: string, server: ChildProcess): Promise<void> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (server.exitCode !== null) throw new Error(`postgres exited with code ${server.exitCode}`);
    const client = new Client({ connectionString: url, connectionTimeoutMillis: 2_000 });
    try {
      await client.connect();
      return;
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, 100));
    } finally {
      await client.end().catch(() => {});
    }
  }
}

/** PostgreSQL refuses to run as root, so under root the cluster belongs to `postgres`. */
function serverOwner(): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim());
  const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim());
  return { uid, gid };
}

async function startRestartableTemporal(dbFile: string) {
  const cliPath = await locateTemporalCli(toolConfig(), { onProgress: (line) => process.stderr.write(`[temporal] ${line}\n`) });
  const port = await findFreePort();
  const logger = createLogger({ name: 'fault-temporal', level: 'fatal' });
  const pids: number[] = [];
  let server: DevServer | undefined;

  const start = async () => {
    server = await startDevServer({ cliPath, dbFile, port, logger, stopGraceMs: 5_000 });
    pids.push(server.pid);
  };
  await start();

  return {
    address: () => server!.address,
    pids,
    restart: async () => {
      await server?.stop();
      await start();
    },
    stop: async () => server?.stop(),
  };
}

/** True when a process with this id still exists. */
export function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
