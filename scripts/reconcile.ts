import { loadConfig } from '../lib/config';
import { triggerReconciliation } from '../lib/reconciliation';
import { connectClient } from '../temporal/connection';

/**
 * Runs the wallet reconciliation now, on a running worker, and prints its
 * summary; findings are also messaged to every admin.
 */
async function main(): Promise<void> {
  const config = loadConfig();
  const client = await connectClient(config);
  try {
    const handle = await triggerReconciliation(client, config.TEMPORAL_TASK_QUEUE);
    console.error(`Started workflow ${handle.workflowId}; waiting for a worker to run it`);
    const result = await handle.result();
    console.log(`Run ${result.runId}: ${result.findingCount} finding(s)`);
  } finally {
    await client.connection.close();
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
