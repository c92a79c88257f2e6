import path from 'node:path';

import { PGlite } from '@electric-sql/pglite';
import { PrismaPg } from '@prisma/adapter-pg';
import { PrismaPGlite } from 'pglite-prisma-adapter';
import { defineConfig } from 'prisma-legacy/config';

/**
 * Configuration of the Prisma 6 CLI (npm alias `prisma-legacy`) that
 * scripts/db-diff.ts runs. Prisma 6 can run its schema engine as WebAssembly
 * over a driver adapter, which the Prisma 7 CLI here cannot. The adapter talks
 * to LEGACY_PRISMA_DATABASE_URL when set, else to an in-memory PGlite, so
 * diffing needs neither a native engine nor a database server.
 */
export default defineConfig({
  engine: 'js',
  experimental: { adapter: true },
  migrations: { path: path.join(__dirname, 'migrations') },
  // Prisma 6 and Prisma 7 declare the same adapter shape in two packages, hence the casts.
  adapter: async () => {
    const url = process.env.LEGACY_PRISMA_DATABASE_URL;
    if (url) return new PrismaPg({ connectionString: url }) as never;

    // One in-memory database serves as both main and shadow database: diffing only reads the first.
    const database = new PGlite();
    let connections = 0;
    const connect = async () => {
      connections += 1;
      return connectScriptAware(database, async () => {
        connections -= 1;
        if (connections === 0) await database.close();
      });
    };
    return { provider: 'postgres', adapterName: 'pglite-prisma-adapter', connect, connectToShadowDb: connect } as never;
  },
});

/**
 * Prisma 6's schema engine sends whole migration scripts through `executeRaw`
 * without parameters, while PGlite runs several statements only through `exec`.
 */
async function connectScriptAware(database: PGlite, release: () => Promise<void>) {
  const adapter = await new PrismaPGlite(database).connect();
  const executeRaw = adapter.executeRaw.bind(adapter);
  const onError = (adapter as unknown as { onError(error: unknown): never }).onError.bind(adapter);

  adapter.executeRaw = async (query) => {
    if (query.args.length > 0) return executeRaw(query);
    try {
      const results = await database.exec(query.sql);
      return results.reduce((total, result) => total + (result.affectedRows ?? 0), 0);
    } catch (error) {
      return onError(error);
    }
  };
  const dispose = adapter.dispose.bind(adapter);
  adapter.dispose = async () => {
    await dispose();
    await release();
  };
  return adapter;
}
