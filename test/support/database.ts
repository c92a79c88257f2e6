import { randomBytes } from 'node:crypto';

import { PrismaPg } from '@prisma/adapter-pg';
import { Client } from 'pg';

import { applyMigrations } from '../../lib/db/migrate';
import { PrismaClient } from '../../prisma/generated/client';

export interface TestDatabase {
  /** Connection URL of the new database. */
  url: string;
  prisma: PrismaClient;
  /** Disconnects and drops the database. */
  drop(): Promise<void>;
}

/** Returns the superuser URL of the test server, which the global setup sets (test/support/postgres-server.ts). */
export function testServerUrl(): string {
  const url = process.env.TEST_DATABASE_URL;
  if (!url) throw new Error('TEST_DATABASE_URL is not set: run the tests through jest, whose global setup starts PostgreSQL');
  return url;
}

/** Creates an empty, uniquely named database on the test server. */
export async function createEmptyDatabase(): Promise<{ url: string; drop(): Promise<void> }> {
  const serverUrl = testServerUrl();
  const name = `novart_test_${randomBytes(6).toString('hex')}`;
  await withAdminClient(serverUrl, (admin) => admin.query(`CREATE DATABASE ${name}`));

  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop: () => withAdminClient(serverUrl, (admin) => admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)).then(() => {}),
  };
}

/** Creates a uniquely named database with all migrations applied, and a Prisma client on it. */
export async function createTestDatabase(): Promise<TestDatabase> {
  const database = await createEmptyDatabase();

  const client = new Client({ connectionString: database.url });
  await client.connect();
  try {
    await applyMigrations(client);
  } finally {
    await client.end();
  }

  const prisma = new PrismaClient({ adapter: new PrismaPg({ connectionString: database.url, max: 5 }) });
  return {
    url: database.url,
    prisma,
    drop: async () => {
      await prisma.$disconnect();
      await database.drop();
    },
  };
}

async function withAdminClient<T>(url: string, action: (client: Client) => Promise<T>): Promise<T> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    return await action(client);
  } finally {
    await client.end();
  }
}
