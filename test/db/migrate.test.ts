import { createHash } from 'node:crypto';
import { appendFile, cp, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

import { PGlite } from '@electric-sql/pglite';
import { Client } from 'pg';

import { applyMigrations, findMigrationsDir, readMigrations } from '../../lib/db/migrate';
import { createEmptyDatabase } from '../support/database';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe('applyMigrations on PostgreSQL', () => {
  let database: Awaited<ReturnType<typeof createEmptyDatabase>>;
  let client: Client;

  beforeEach(async () => {
    database = await createEmptyDatabase();
    client = new Client({ connectionString: database.url });
    await client.connect();
  });

  afterEach(async () => {
    await client.end();
    await database.drop();
  });

  it('applies all to an empty database', async () => {
    const migrations = await readMigrations(findMigrationsDir());

    const result = await applyMigrations(client);

    expect(result.applied).toEqual(migrations.map((migration) => migration.name));
    const tables = await client.query<{ table_name: string }>(
      "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY table_name",
    );
    expect(tables.rows.map((row) => row.table_name)).toEqual(
      expect.arrayContaining(['_prisma_migrations', 'accounts', 'wallets', 'ledger_entries', 'tasks', 'step_records']),
    );
  });

  it('applies nothing on a second run', async () => {
    await applyMigrations(client);

    const second = await applyMigrations(client);

    expect(second.applied).toEqual([]);
    const rows = await client.query('SELECT id FROM "_prisma_migrations"');
    expect(rows.rowCount).toBe((await readMigrations(findMigrationsDir())).length);
  });

  it('records migrations as Prisma Migrate does', async () => {
    const directory = findMigrationsDir();
    const migrations = await readMigrations(directory);

    await applyMigrations(client);

    const columns = await client.query<{ column_name: string; data_type: string; is_nullable: string }>(
      `SELECT column_name, data_type, is_nullable FROM information_schema.columns
       WHERE table_name = '_prisma_migrations' ORDER BY ordinal_position`,
    );
    expect(columns.rows).toEqual([
      { column_name: 'id', data_type: 'character varying', is_nullable: 'NO' },
      { column_name: 'checksum', data_type: 'character varying', is_nullable: 'NO' },
      { column_name: 'finished_at', data_type: 'timestamp with time zone', is_nullable: 'YES' },
      { column_name: 'migration_name', data_type: 'character varying', is_nullable: 'NO' },
      { column_name: 'logs', data_type: 'text', is_nullable: 'YES' },
      { column_name: 'rolled_back_at', data_type: 'timestamp with time zone', is_nullable: 'YES' },
      { column_name: 'started_at', data_type: 'timestamp with time zone', is_nullable: 'NO' },
      { column_name: 'applied_steps_count', data_type: 'integer', is_nullable: 'NO' },
    ]);
    const rows = await client.query('SELECT * FROM "_prisma_migrations" ORDER BY migration_name');
    for (const [index, migration] of migrations.entries()) {
      const row = rows.rows[index];
      const file = await readFile(path.join(directory, migration.name, 'migration.sql'));
      expect(row.migration_name).toBe(migration.name);
      expect(row.checksum).toBe(createHash('sha256').update(file).digest('hex'));
      expect(row.id).toMatch(UUID);
      expect(row.finished_at).toBeInstanceOf(Date);
      expect(row.logs).toBeNull();
      expect(row.rolled_back_at).toBeNull();
      expect(row.applied_steps_count).toBe(1);
    }
  });

  it('rejects a changed applied migration', async () => {
    const copy = await copyMigrations();
    await applyMigrations(client, { migrationsDir: copy });
    const [first] = await readMigrations(copy);
    await appendFile(path.join(copy, first!.name, 'migration.sql'), '\n-- edited\n');

    const second = applyMigrations(client, { migrationsDir: copy });

    await expect(second).rejects.toThrow(`Database migration ${first!.name} was changed after it was applied`);
    await rm(copy, { recursive: true, force: true });
  });

  it('rejects an unfinished migration', async () => {
    await applyMigrations(client);
    await client.query('UPDATE "_prisma_migrations" SET finished_at = NULL WHERE migration_name = (SELECT max(migration_name) FROM "_prisma_migrations")');

    const second = applyMigrations(client);

    await expect(second).rejects.toThrow('started earlier but did not finish');
  });

  it('applies only newly added migrations', async () => {
    const copy = await copyMigrations();
    await applyMigrations(client, { migrationsDir: copy });
    await mkdir(path.join(copy, '29991231000000_later'));
    await writeFile(path.join(copy, '29991231000000_later', 'migration.sql'), 'CREATE TABLE later_table (id integer);\n');

    const second = await applyMigrations(client, { migrationsDir: copy });

    expect(second.applied).toEqual(['29991231000000_later']);
    const table = await client.query("SELECT to_regclass('later_table') AS name");
    expect(table.rows[0].name).toBe('later_table');
    await rm(copy, { recursive: true, force: true });
  });
});

describe('applyMigrations on PGlite', () => {
  it('applies every migration once', async () => {
    const database = new PGlite();
    const migrations = await readMigrations(findMigrationsDir());

    const first = await applyMigrations(database);
    const second = await applyMigrations(database);

    expect(first.applied).toEqual(migrations.map((migration) => migration.name));
    expect(second.applied).toEqual([]);
    const rows = await database.query<{ checksum: string }>('SELECT checksum FROM "_prisma_migrations" ORDER BY migration_name');
    expect(rows.rows.map((row) => row.checksum)).toEqual(migrations.map((migration) => migration.checksum));
    await database.close();
  }, 120_000);
});

async function copyMigrations(): Promise<string> {
  const copy = await mkdtemp(path.join(os.tmpdir(), 'novart-migrations-'));
  await cp(findMigrationsDir(), copy, { recursive: true });
  return copy;
}
