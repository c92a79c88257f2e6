import { proxyActivities, uuid4 } from '@temporalio/workflow';
import type { WalletActivities } from '../activities/wallet-activities';

const wallet = proxyActivities<WalletActivities>({
  startToCloseTimeout: '30m',
  retry: { initialInterval: '30s', backoffCoefficient: 2, maximumInterval: '10m', maximumAttempts: 10 },
});

/** Checks every wallet against its ledger and every finished task's debit and refund, and reports findings. */
export async function reconciliation(): Promise<{ runId: string; findingCount: number }> {
  // The id is drawn in the workflow so that a retried activity finds the run it already recorded.
  const runId = uuid4();
  const summary = await wallet.reconcile(runId);
  return { runId: summary.runId, findingCount: summary.findingCount };
}
