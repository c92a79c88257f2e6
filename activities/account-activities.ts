import type { Config } from '../lib/config';
import type { Logger } from '../lib/logger';
import { buildAccountExport, deleteAccountExport } from '../lib/privacy/exports';
import type { ObjectStorage } from '../lib/storage/types';
import type { PrismaClient } from '../prisma/generated/client';

export interface AccountActivityDependencies {
  prisma: PrismaClient;
  storage: ObjectStorage;
  config: Pick<Config, 'EXPORT_RETENTION'>;
  logger: Logger;
}

/** Activities of the account workflows: building and deleting data exports. */
export function createAccountActivities(deps: AccountActivityDependencies) {
  return {
    /** Builds and stores the archive; returns when it expires (epoch milliseconds), or null when nothing was kept. */
    async buildAccountExport(exportId: string): Promise<number | null> {
      const expiresAt = await buildAccountExport(deps, exportId);
      return expiresAt?.getTime() ?? null;
    },

    async deleteAccountExport(exportId: string): Promise<void> {
      await deleteAccountExport(deps, exportId);
    },
  };
}

export type AccountActivities = ReturnType<typeof createAccountActivities>;
