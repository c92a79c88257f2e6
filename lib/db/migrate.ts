import { createHash, randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';

import type { PGlite } from '@electric-sql/pglite';
import type { ClientBase } from 'pg';

import { appError } from '../errors';
import type { Logger } from '../logger';

/**
 * Applies the SQL migrations of prisma/migrations at start, without the Prisma
 * CLI. Rows in `_prisma_migrations` match what `prisma migrate deploy` writes,
 * so either tool can take over from the other.
 */

/** First line of a migration written by hand rather than generated from schema.prisma. */
export const HAND_WRITTEN_MARKER = '-- Hand-written migration:';

/** The advisory lock key Prisma Migrate takes, so this and `prisma migrate deploy` never run at once. */
const PRISMA_MIGRATE_LOCK_KEY = 72707369;

const CREATE_MIGRATIONS_TABLE = `
CREATE TABLE IF NOT EXISTS "_prisma_migrations" (
    "id"                    VARCHAR(36) PRIMARY KEY NOT NULL,
    "checksum"              VARCHAR(64) NOT NULL,
    "finished_at"           TIMESTAMPTZ,
    "migration_name"        VARCHAR(255) NOT NULL,
    "logs"                  TEXT,
    "rolled_back_at"        TIMESTAMPTZ,
    "started_at"            TIMESTAMPTZ NOT NULL DEFAULT now(),
    "applied_steps_count"   INTEGER NOT NULL DEFAULT 0
)`;

export interface Migration {
  /** Folder name, `<timestamp>_<name>`. */
  name: string;
  sql: string;
  /** sha256 hex of migration.sql, as Prisma computes it. */
  checksum: string;
}

/** A `pg` client (not a pool: the lock and transactions need one session) or a PGlite database. */
export type MigrationTarget = ClientBase | PGlite;

export interface MigrateOptions {
  migrationsDir?: string;
  logger?: Logger;
}

interface AppliedRow {
  migration_name: string;
  checksum: string;
  finished_at: Date | null;
  rolled_back_at: Date | null;
}

interface Session {
  query<Row>(sql: string, params?: unknown[]): Promise<Row[]>;
  exec(script: string): Promise<void>;
}

/** Applies pending migrations in name order, each in its own transaction, and returns the names applied. */
export async function applyMigrations(target: MigrationTarget, options: MigrateOptions = {}): Promise<{ applied: string[] }> {
  const session = toSession(target);
  const migrations = await readMigrations(options.migrationsDir ?? findMigrationsDir());

  await session.query('SELECT pg_advisory_lock($1)', [PRISMA_MIGRATE_LOCK_KEY]);
  try {
    await session.exec(CREATE_MIGRATIONS_TABLE);
    const rows = await session.query<AppliedRow>(
      'SELECT migration_name, checksum, finished_at, rolled_back_at FROM "_prisma_migrations" ORDER BY started_at',
    );

    const pending = planMigrations(migrations, rows, options.logger);

    const applied: string[] = [];
    for (const migration of pending) {
      await applyOne(session, migration);
      options.logger?.info({ migration: migration.name }, 'applied database migration');
      applied.push(migration.name);
    }
    return { applied };
  } finally {
    await session.query('SELECT pg_advisory_unlock($1)', [PRISMA_MIGRATE_LOCK_KEY]);
  }
}

/** Checks the recorded history against the files and returns the migrations still to apply. */
function planMigrations(migrations: Migration[], rows: AppliedRow[], logger?: Logger): Migration[] {
  const failed = rows.find((row) => row.finished_at === null && row.rolled_back_at === null);
  if (failed) {
    throw appError(
      'INTERNAL',
      `Database migration ${failed.migration_name} started earlier but did not finish; repair the database and mark it with \`prisma migrate resolve\` before starting`,
      { migration: failed.migration_name },
    );
  }

  const finished = new Map(rows.filter((row) => row.finished_at !== null && row.rolled_back_at === null).map((row) => [row.migration_name, row]));
  for (const migration of migrations) {
    const row = finished.get(migration.name);
    if (row && !checksumMatches(migration, row.checksum)) {
      throw appError(
        'INTERNAL',
        `Database migration ${migration.name} was changed after it was applied (checksum ${row.checksum} in the database, ${migration.checksum} on disk); restore the file and add a new migration instead`,
        { migration: migration.name },
      );
    }
  }

  const known = new Set(migrations.map((migration) => migration.name));
  for (const name of finished.keys()) {
    if (!known.has(name)) logger?.warn({ migration: name }, 'database has a migration that is missing on disk');
  }

  return migrations.filter((migration) => !finished.has(migration.name));
}

async function applyOne(session: Session, migration: Migration): Promise<void> {
  // NOTE: each migration runs in one transaction, so statements that cannot run
  // inside a transaction block (CREATE INDEX CONCURRENTLY) cannot be used in migrations.
  await session.query('BEGIN');
  try {
    const id = randomUUID();
    await session.query(
      'INSERT INTO "_prisma_migrations" (id, checksum, migration_name, started_at, applied_steps_count) VALUES ($1, $2, $3, now(), 0)',
      [id, migration.checksum, migration.name],
    );
    await session.exec(migration.sql);
    await session.query('UPDATE "_prisma_migrations" SET finished_at = now(), applied_steps_count = 1 WHERE id = $1', [id]);
    await session.query('COMMIT');
  } catch (error) {
    await session.query('ROLLBACK');
    throw appError('INTERNAL', `Database migration ${migration.name} failed: ${(error as Error).message}`, {
      migration: migration.name,
    });
  }
}

/** Prisma accepts a file whose line endings were converted (by git on Windows) since it was applied. */
function checksumMatches(migration: Migration, recorded: string): boolean {
  const unixEndings = migration.sql.replace(/\r\n/g, '\n');
  const windowsEndings = unixEndings.replace(/\n/g, '\r\n');
  return [migration.sql, unixEndings, windowsEndings].some((variant) => sha256(variant) === recorded);
}

function sha256(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

/** Reads `<dir>/<name>/migration.sql` for every migration folder, in name order. */
export async function readMigrations(migrationsDir: string): Promise<Migration[]> {
  const entries = await readdir(migrationsDir, { withFileTypes: true });
  const names = entries
    .filter((entry) => entry.isDirectory())
    .map((entry) => entry.name)
    .sort();

  return Promise.all(
    names.map(async (name) => {
      const sql = await readFile(path.join(migrationsDir, name, 'migration.sql'), 'utf8');
      return { name, sql, checksum: sha256(sql) };
    }),
  );
}

/** Finds prisma/migrations above this file, both from the sources and from a compiled `dist/` tree. */
export function findMigrationsDir(): string {
  for (let directory = __dirname; ; directory = path.dirname(directory)) {
    const candidate = path.join(directory, 'prisma', 'migrations');
    if (existsSync(candidate)) return candidate;
    if (path.dirname(directory) === directory) {
      throw appError('INTERNAL', `prisma/migrations not found in ${__dirname} or any parent folder`);
    }
  }
}

function toSession(target: MigrationTarget): Session {
  if ('exec' in target && typeof target.exec === 'function') {
    const database = target as PGlite;
    return {
      query: async <Row>(sql: string, params?: unknown[]) => (await database.query<Row>(sql, params)).rows,
      exec: async (script) => {
        await database.exec(script);
      },
    };
  }

  const client = target as ClientBase;
  return {
    query: async <Row>(sql: string, params?: unknown[]) => (await client.query(sql, params)).rows as Row[],
    // A query without parameters uses the simple protocol, which runs several statements.
    exec: async (script) => {
      await client.query(script);
    },
  };
}
