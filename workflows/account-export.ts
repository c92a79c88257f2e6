import { log, proxyActivities, sleep } from '@temporalio/workflow';
import type { AccountActivities } from '../activities/account-activities';

const builder = proxyActivities<AccountActivities>({
  startToCloseTimeout: '30m',
  retry: { initialInterval: '10s', backoffCoefficient: 2, maximumInterval: '10m', maximumAttempts: 5 },
});

const cleanup = proxyActivities<AccountActivities>({
  startToCloseTimeout: '5m',
  retry: { initialInterval: '10s', backoffCoefficient: 2, maximumInterval: '1h' },
});

/**
 * Builds an account's data export, keeps it until it expires (a durable timer,
 * so a restart does not lose it) and then deletes the archive.
 */
export async function accountExport(input: { exportId: string }): Promise<void> {
  try {
    const expiresAt = await builder.buildAccountExport(input.exportId);
    if (expiresAt !== null) await sleep(Math.max(0, expiresAt - Date.now()));
  } catch (error) {
    log.warn('account export failed', { exportId: input.exportId, error: String(error) });
  }

  await cleanup.deleteAccountExport(input.exportId);
}
