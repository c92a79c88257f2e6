import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { chown, mkdtemp, rm } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

import { Client } from 'pg';

import type { RunningService } from './services';

/**
 * PostgreSQL for the test run: the server at TEST_DATABASE_URL when set, else a
 * throwaway cluster on 127.0.0.1 that lives in a temporary folder.
 */
export async function startPostgresServer(): Promise<RunningService> {
  const existing = process.env.TEST_DATABASE_URL;
  if (existing) {
    return { name: 'postgres', env: { TEST_DATABASE_URL: existing }, stop: async () => {} };
  }

  return startThrowawayCluster();
}

async function startThrowawayCluster(): Promise<RunningService> {
  const binDir = findPostgresBinDir();
  const baseDir = await mkdtemp(path.join(os.tmpdir(), 'novart-pg-'));
  const dataDir = path.join(baseDir, 'data');
  const owner = serverOwner();
  if (owner) await chown(baseDir, owner.uid, owner.gid);

  let server: ChildProcess | undefined;
  try {
    execFileSync(
      path.join(binDir, 'initdb'),
      ['--pgdata', dataDir, '--username', 'postgres', '--auth', 'trust', '--encoding', 'UTF8', '--locale', 'C', '--no-sync'],
      { stdio: 'pipe', ...owner },
    );

    const port = await findFreePort();
    // Durability settings are off: the cluster is deleted after the run.
    const settings = ['fsync=off', 'synchronous_commit=off', 'full_page_writes=off', 'max_connections=200'];
    server = spawn(
      path.join(binDir, 'postgres'),
      ['-D', dataDir, '-p', String(port), '-h', '127.0.0.1', '-k', baseDir, ...settings.flatMap((setting) => ['-c', setting])],
      { stdio: ['ignore', 'ignore', 'pipe'], ...owner },
    );
    const log: Buffer[] = [];
    server.stderr?.on('data', (chunk: Buffer) => log.push(chunk));

    const url = `postgresql://postgres@127.0.0.1:${port}/postgres`;
    await waitUntilAccepting(url, server, () => Buffer.concat(log).toString());

    // Should the run end without its teardown, the server must not outlive it.
    const running = server;
    const killOnExit = () => running.kill('SIGKILL');
    process.once('exit', killOnExit);

    return {
      name: 'postgres',
      env: { TEST_DATABASE_URL: url },
      stop: async () => {
        process.removeListener('exit', killOnExit);
        await stopServer(running);
        await rm(baseDir, { recursive: true, force: true });
      },
    };
  } catch (error) {
    if (server) await stopServer(server);
    await rm(baseDir, { recursive: true, force: true });
    throw new Error(`PostgreSQL test server did not start: ${(error as Error).message}`);
  }
}

/** Finds the folder of the PostgreSQL programs: PG_BIN_DIR, then `pg_config --bindir`, then Debian's versioned folders. */
export function findPostgresBinDir(): string {
  const candidates: string[] = [];
  if (process.env.PG_BIN_DIR) candidates.push(process.env.PG_BIN_DIR);
  try {
    candidates.push(execFileSync('pg_config', ['--bindir'], { encoding: 'utf8' }).trim());
  } catch {
    // pg_config is missing on machines with only the server package.
  }
  const debianRoot = '/usr/lib/postgresql';
  if (existsSync(debianRoot)) {
    const versions = readdirSync(debianRoot).sort((a, b) => Number(b) - Number(a));
    candidates.push(...versions.map((version) => path.join(debianRoot, version, 'bin')));
  }

  const found = candidates.find((directory) => existsSync(path.join(directory, 'initdb')));
  if (!found) {
    throw new Error('PostgreSQL server programs (initdb, postgres) not found: install PostgreSQL, set PG_BIN_DIR, or set TEST_DATABASE_URL');
  }
  return found;
}

/** PostgreSQL refuses to run as root, so under root the cluster belongs to the `postgres` user. */
function serverOwner(): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  try {
    const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim());
    const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim());
    return { uid, gid };
  } catch {
    throw new Error('user `postgres` not found: running as root, the test cluster needs it as owner');
  }
}

function findFreePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = net.createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      probe.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('failed to read the port of the probe server'))));
    });
  });
}

async function waitUntilAccepting(url: string, server: ChildProcess, readLog: () => string): Promise<void> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (server.exitCode !== null) throw new Error(`postgres exited with code ${server.exitCode}\n${readLog()}`);

    const client = new Client({ connectionString: url, connectionTimeoutMillis: 2_000 });
    try {
      await client.connect();
      await client.query('SELECT 1');
      return;
    } catch (error) {
      if (Date.now() > deadline) throw new Error(`postgres did not accept connections within 60 s: ${(error as Error).message}\n${readLog()}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    } finally {
      await client.end().catch(() => {});
    }
  }
}

/** Fast shutdown (SIGINT): open sessions are ended, nothing is flushed that the run needs. */
async function stopServer(server: ChildProcess): Promise<void> {
  if (server.exitCode !== null || server.signalCode !== null) return;

  const exited = new Promise<void>((resolve) => server.once('exit', () => resolve()));
  server.kill('SIGINT');
  const forced = setTimeout(() => server.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(forced);
}
