import { loadConfig } from '../lib/config';
import { triggerReconciliation } from '../lib/reconciliation';
import { connectClient } from '../temporal/connection';

/**
 * Runs the wallet reconciliation now, on a running worker, and prints its
 * summary; findings are also messaged to every admin.
 */
const USAGE = `Usage: npm run wallet:reconcile

Starts the wallet reconciliation now on the running service (npm start, or a
worker of the production stack, must be running), waits for it and prints the
number of findings. Findings are also messaged to every admin.`;

async function main(): Promise<void> {
  if (process.argv.includes('--help')) {
    console.log(USAGE);
    return;
  }
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
