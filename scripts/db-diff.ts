/**
 * Writes the next migration from the difference between the migrations in
 * prisma/migrations and the data model in prisma/schema.prisma.
 *
 *   npm run db:diff -- add_task_priority          generated SQL, or nothing when they agree
 *   npm run db:diff -- add_wallet_checks --empty  a hand-written migration to fill in
 *
 * The Prisma 7 CLI here cannot run its native schema engine, so the SQL comes
 * from the Prisma 6 CLI (npm alias `prisma-legacy`) running its WebAssembly
 * engine over PGlite (prisma/legacy.config.ts). Review the file before committing.
 */
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

import { HAND_WRITTEN_MARKER } from '../lib/db/migrate';

const run = promisify(execFile);

const ROOT = path.resolve(__dirname, '..');
export const SCHEMA_PATH = path.join(ROOT, 'prisma', 'schema.prisma');
export const MIGRATIONS_DIR = path.join(ROOT, 'prisma', 'migrations');
const LEGACY_CONFIG_PATH = path.join(ROOT, 'prisma', 'legacy.config.ts');

const EMPTY_MIGRATION = /^\s*-- This is an empty migration\.\s*$/;

export interface DiffOptions {
  /** Starting point: `empty` gives SQL that builds the whole schema, `migrations` the SQL still missing from the migrations. */
  from: 'empty' | 'migrations';
  schemaPath?: string;
  migrationsDir?: string;
}

/** Returns the SQL that turns `from` into the schema, or '' when nothing differs. */
export async function diffSchema(options: DiffOptions): Promise<string> {
  const from = options.from === 'empty' ? ['--from-empty'] : ['--from-migrations', options.migrationsDir ?? MIGRATIONS_DIR];
  const stdout = await runLegacyPrisma(
    (schema) => ['migrate', 'diff', ...from, '--to-schema-datamodel', schema, '--script'],
    { schemaPath: options.schemaPath },
  );

  return EMPTY_MIGRATION.test(stdout) ? '' : stdout;
}

export interface LegacyPrismaOptions {
  schemaPath?: string;
  /** Database the command works on. Default: an in-memory PGlite. */
  databaseUrl?: string;
}

/**
 * Runs the Prisma 6 CLI with prisma/legacy.config.ts and returns its standard
 * output. `args` receives the path of a schema copy that Prisma 6 accepts.
 */
export async function runLegacyPrisma(args: (schemaPath: string) => string[], options: LegacyPrismaOptions = {}): Promise<string> {
  const workDir = await mkdtemp(path.join(os.tmpdir(), 'novart-prisma-'));
  try {
    // Prisma 6 requires a datasource URL in the schema, although with an adapter it never uses it.
    const schema = await readFile(options.schemaPath ?? SCHEMA_PATH, 'utf8');
    const schemaCopy = path.join(workDir, 'schema.prisma');
    await writeFile(schemaCopy, schema.replace(/(datasource\s+\w+\s*\{)/, '$1\n  url = "postgresql://localhost/unused"'));

    const cli = require.resolve('prisma-legacy/build/index.js');
    const { stdout } = await run(process.execPath, [cli, ...args(schemaCopy), '--config', LEGACY_CONFIG_PATH], {
      cwd: ROOT,
      env: legacyCliEnv(options.databaseUrl),
      maxBuffer: 16 * 1024 * 1024,
    });
    return stdout;
  } finally {
    await rm(workDir, { recursive: true, force: true });
  }
}

/**
 * NOTE: the Prisma CLI downloads native engines on start unless these name
 * existing files. With `engine: "js"` it runs neither of them.
 */
function legacyCliEnv(databaseUrl: string | undefined): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    PRISMA_SCHEMA_ENGINE_BINARY: process.env.PRISMA_SCHEMA_ENGINE_BINARY ?? process.execPath,
    PRISMA_QUERY_ENGINE_LIBRARY: process.env.PRISMA_QUERY_ENGINE_LIBRARY ?? process.execPath,
    PRISMA_HIDE_UPDATE_MESSAGE: '1',
  };
  delete env.LEGACY_PRISMA_DATABASE_URL;
  if (databaseUrl) env.LEGACY_PRISMA_DATABASE_URL = databaseUrl;
  return env;
}

/** Prisma's migration folder prefix: the UTC time as YYYYMMDDHHMMSS. */
export function migrationTimestamp(date = new Date()): string {
  return date.toISOString().replace(/[-:T]/g, '').slice(0, 14);
}

/** Writes `<timestamp>_<name>/migration.sql` and returns its path, or undefined when there is nothing to write. */
export async function writeMigration(name: string, options: { empty?: boolean; migrationsDir?: string } = {}): Promise<string | undefined> {
  if (!/^[a-z0-9_]+$/.test(name)) {
    throw new Error(`invalid migration name "${name}": use snake_case (a-z, 0-9, _)`);
  }
  const migrationsDir = options.migrationsDir ?? MIGRATIONS_DIR;

  const sql = options.empty
    ? `${HAND_WRITTEN_MARKER} <say why this cannot be expressed in schema.prisma>\n`
    : await diffSchema({ from: 'migrations', migrationsDir });
  if (sql === '') return undefined;

  const directory = path.join(migrationsDir, `${migrationTimestamp()}_${name}`);
  await mkdir(directory, { recursive: true });
  const file = path.join(directory, 'migration.sql');
  await writeFile(file, sql);
  return file;
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const name = args.find((arg) => !arg.startsWith('--'));
  if (!name) {
    console.error('usage: npm run db:diff -- NAME [--empty]');
    process.exit(2);
  }

  const file = await writeMigration(name, { empty: args.includes('--empty') });
  console.log(file ? `wrote ${path.relative(process.cwd(), file)}` : 'schema.prisma and the migrations agree: nothing to write');
}

if (require.main === module) {
  main().catch((error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
  });
}
