import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';

import { Client } from 'pg';

import { applyMigrations, findMigrationsDir, HAND_WRITTEN_MARKER, readMigrations } from '../../lib/db/migrate';
import { diffSchema, runLegacyPrisma } from '../../scripts/db-diff';
import { createEmptyDatabase, createTestDatabase } from '../support/database';
import { findPostgresBinDir } from '../support/postgres-server';

const run = promisify(execFile);

// Each test runs the Prisma 6 CLI, whose WebAssembly engine takes a while to start.
jest.setTimeout(180_000);

describe('schema.prisma and prisma/migrations', () => {
  it('build the same database', async () => {
    const fromMigrations = await createEmptyDatabase();
    const fromSchema = await createEmptyDatabase();
    const handWritten = (await readMigrations(findMigrationsDir())).filter((migration) => migration.sql.startsWith(HAND_WRITTEN_MARKER));

    await withClient(fromMigrations.url, (client) => applyMigrations(client));
    const schemaSql = await diffSchema({ from: 'empty' });
    await withClient(fromSchema.url, async (client) => {
      await client.query(schemaSql);
      for (const migration of handWritten) await client.query(migration.sql);
    });

    const expected = await dumpSchema(fromSchema.url);
    const actual = await dumpSchema(fromMigrations.url);
    expect(actual).toBe(expected);
    await fromMigrations.drop();
    await fromSchema.drop();
  });

  it('leave nothing for a new migration', async () => {
    const pending = await diffSchema({ from: 'migrations' });

    expect(pending).toBe('');
  });

  it('look applied to prisma migrate deploy', async () => {
    const database = await createTestDatabase();

    const output = await runLegacyPrisma((schema) => ['migrate', 'deploy', '--schema', schema], { databaseUrl: database.url });

    expect(output).toContain('No pending migrations to apply.');
    await database.drop();
  });
});

async function withClient<T>(url: string, action: (client: Client) => Promise<T>): Promise<T> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    return await action(client);
  } finally {
    await client.end();
  }
}

/** Dumps the schema as SQL, without the migration history and without pg_dump's per-run `\restrict` keys. */
async function dumpSchema(url: string): Promise<string> {
  const pgDump = path.join(findPostgresBinDir(), 'pg_dump');
  const { stdout } = await run(pgDump, ['--schema-only', '--no-owner', '--no-privileges', '--exclude-table=_prisma_migrations', url], {
    maxBuffer: 16 * 1024 * 1024,
  });
  return stdout
    .split('\n')
    .filter((line) => !line.startsWith('\\restrict') && !line.startsWith('\\unrestrict'))
    .join('\n');
}
