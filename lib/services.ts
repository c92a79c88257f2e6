import type { Client } from '@temporalio/client';
import { createProviderRegistry, loadProvidersConfig, type ProviderRegistry } from '../activities/providers/registry';
import { connectClient } from '../temporal/connection';
import type { Config } from './config';
import { checkDatabase, openDatabase, type Database } from './db/client';
import type { Logger } from './logger';
import { resolveSecrets, type Secrets } from './secrets';
import { createStorage } from './storage';
import type { ObjectStorage } from './storage/types';

/** The connections and clients one process needs, opened once at start and closed on shutdown. */
export interface Services {
  config: Config;
  logger: Logger;
  secrets: Secrets;
  database: Database;
  storage: ObjectStorage;
  providers: ProviderRegistry;
  temporal: Client;
  close(): Promise<void>;
}

/** Opens the database (applying migrations), storage, provider clients and the Temporal client. */
export async function openServices(config: Config, logger: Logger): Promise<Services> {
  const secrets = resolveSecrets(config);
  const providers = createProviderRegistry(await loadProvidersConfig(config.PROVIDERS_FILE));
  const storage = createStorage(config, { localSigningSecret: secrets.storageSigningSecret });

  const database = await openDatabase(config, { logger });
  let temporal: Client;
  try {
    temporal = await connectClient(config);
  } catch (error) {
    await database.close();
    throw error;
  }

  return {
    config,
    logger,
    secrets,
    database,
    storage,
    providers,
    temporal,
    async close() {
      await temporal.connection.close();
      await database.close();
    },
  };
}

/** The readiness checks of a process: database, Temporal and storage must answer. */
export function readinessChecks(services: Pick<Services, 'database' | 'temporal' | 'storage'>) {
  return [
    {
      name: 'database',
      check: async () => {
        const result = await checkDatabase(services.database.prisma);
        if (!result.ok) throw new Error(result.error);
      },
    },
    { name: 'temporal', check: async () => void (await services.temporal.workflowService.getSystemInfo({})) },
    { name: 'storage', check: () => services.storage.check() },
  ];
}
