import type { Logger } from '../lib/logger';
import { reconcile, type ReconciliationSummary } from '../lib/reconciliation';
import type { PrismaClient } from '../prisma/generated/client';

export interface WalletActivityDependencies {
  prisma: PrismaClient;
  logger: Logger;
}

/** Activities of the wallet workflows. */
export function createWalletActivities(deps: WalletActivityDependencies) {
  return {
    /** Runs the reconciliation checks and records run, findings and admin messages; idempotent per run id. */
    async reconcile(runId: string): Promise<ReconciliationSummary> {
      const summary = await reconcile(deps.prisma, runId);
      const log = summary.findingCount > 0 ? deps.logger.warn.bind(deps.logger) : deps.logger.info.bind(deps.logger);
      log(summary, 'reconciliation finished');
      return summary;
    },
  };
}

export type WalletActivities = ReturnType<typeof createWalletActivities>;
