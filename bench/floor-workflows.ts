import { proxyActivities } from '@temporalio/workflow';

/** Workflows that measure Temporal's own floor: they do nothing but what the server and SDK must do. */

const { noop } = proxyActivities<{ noop(): Promise<void> }>({ startToCloseTimeout: '30s' });

export async function emptyWorkflow(): Promise<void> {}

/** Runs `count` activities that return at once, one after another, as a task runs its steps. */
export async function noopActivities(count: number): Promise<void> {
  for (let index = 0; index < count; index++) await noop();
}
