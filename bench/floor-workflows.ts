import { proxyActivities, proxyLocalActivities } from '@temporalio/workflow';

/** Workflows that measure Temporal's own floor: they do nothing but what the server and SDK must do. */

const { noop, upstreamCall } = proxyActivities<{ noop(): Promise<void>; upstreamCall(): Promise<void> }>({ startToCloseTimeout: '5m' });

const local = proxyLocalActivities<{ noop(): Promise<void> }>({ startToCloseTimeout: '1m' });

export async function emptyWorkflow(): Promise<void> {}

/** Runs `count` activities that return at once, one after another, as a task runs its steps. */
export async function noopActivities(count: number): Promise<void> {
  for (let index = 0; index < count; index++) await noop();
}

/** Runs a task's steps to `succeeded` as they are run, without their work: a local activity, an activity, a local activity. */
export async function taskShapedSteps(): Promise<void> {
  await local.noop();
  await noop();
  await local.noop();
}

/** Runs a task's shape without its work: a no-op, one call that waits for the shared upstream limit, a no-op. */
export async function upstreamShapedTask(): Promise<void> {
  await noop();
  await upstreamCall();
  await noop();
}
