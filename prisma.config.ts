import 'dotenv/config';
import { defineConfig } from 'prisma/config';

/**
 * Configuration of the Prisma 7 CLI: `prisma generate`, and `prisma migrate` where
 * its native schema engine can be downloaded.
 * The app itself connects through a driver adapter in lib/db/client.ts and
 * applies migrations with lib/db/migrate.ts. New migrations come from
 * `npm run db:diff -- NAME` (scripts/db-diff.ts).
 */
export default defineConfig({
  schema: 'prisma/schema.prisma',
  migrations: { path: 'prisma/migrations' },
  // Left out when unset, because `prisma generate` needs no database.
  ...(process.env.DATABASE_URL ? { datasource: { url: process.env.DATABASE_URL } } : {}),
});
