import { mkdir } from 'node:fs/promises';
import path from 'node:path';

import { PGlite } from '@electric-sql/pglite';
import { PrismaPg } from '@prisma/adapter-pg';
import { Client } from 'pg';
import { PrismaPGlite } from 'pglite-prisma-adapter';

import { PrismaClient } from '../../prisma/generated/client';
import type { Config } from '../config';
import type { Logger } from '../logger';
import { acquireDataDirLock } from './data-dir-lock';
import { applyMigrations } from './migrate';

export { Prisma, PrismaClient } from '../../prisma/generated/client';

export interface Database {
  prisma: PrismaClient;
  kind: 'postgres' | 'pglite';
  close(): Promise<void>;
}

export type DatabaseConfig = Pick<Config, 'DATABASE_URL' | 'DATABASE_POOL_SIZE' | 'DATA_DIR'>;

/** A pool that cannot reach PostgreSQL fails requests after this long instead of queueing them. */
const CONNECT_TIMEOUT_MS = 5_000;

/**
 * Opens the database after applying pending migrations: PostgreSQL at
 * DATABASE_URL when set, else an embedded PGlite persisted in `$DATA_DIR/pglite`.
 */
export async function openDatabase(config: DatabaseConfig, options: { logger?: Logger } = {}): Promise<Database> {
  if (config.DATABASE_URL) return openPostgres(config.DATABASE_URL, config.DATABASE_POOL_SIZE, options.logger);

  return openPglite(path.join(config.DATA_DIR, 'pglite'), options.logger);
}

async function openPostgres(url: string, poolSize: number, logger?: Logger): Promise<Database> {
  // Migrations need a single session for their advisory lock, so they use their own client.
  const client = new Client({ connectionString: url, connectionTimeoutMillis: CONNECT_TIMEOUT_MS });
  await client.connect();
  try {
    await applyMigrations(client, { logger });
  } finally {
    await client.end();
  }

  const adapter = new PrismaPg({ connectionString: url, max: poolSize, connectionTimeoutMillis: CONNECT_TIMEOUT_MS });
  const prisma = new PrismaClient({ adapter });
  return { prisma, kind: 'postgres', close: () => prisma.$disconnect() };
}

async function openPglite(dataDir: string, logger?: Logger): Promise<Database> {
  // NOTE: PGlite serves one process per data folder, so API and worker must share a process in the embedded setup.
  await mkdir(dataDir, { recursive: true });
  const lock = acquireDataDirLock(dataDir);
  const database = new PGlite(dataDir);

  try {
    await database.waitReady;
    await applyMigrations(database, { logger });
  } catch (error) {
    await database.close().catch(() => undefined);
    lock.release();
    throw error;
  }

  const prisma = new PrismaClient({ adapter: new PrismaPGlite(database) });
  return {
    prisma,
    kind: 'pglite',
    close: async () => {
      await prisma.$disconnect();
      await database.close();
      lock.release();
    },
  };
}

export type DatabaseCheck = { ok: true; latencyMs: number } | { ok: false; error: string };

/** Runs `SELECT 1` as a readiness probe and reports whether it returned within `timeoutMs`. Never throws. */
export async function checkDatabase(prisma: PrismaClient, options: { timeoutMs?: number } = {}): Promise<DatabaseCheck> {
  const timeoutMs = options.timeoutMs ?? 2_000;
  const started = Date.now();
  let timer: NodeJS.Timeout | undefined;

  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${timeoutMs} ms`)), timeoutMs);
  });
  try {
    await Promise.race([prisma.$queryRaw`SELECT 1`, timeout]);
    return { ok: true, latencyMs: Date.now() - started };
  } catch (error) {
    return { ok: false, error: error instanceof Error ? error.message : String(error) };
  } finally {
    clearTimeout(timer);
  }
}
