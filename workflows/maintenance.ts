import { log, proxyActivities, sleep } from '@temporalio/workflow';
import type { TaskActivities } from '../activities/task-activities';

const cleanup = proxyActivities<TaskActivities>({
  startToCloseTimeout: '2m',
  retry: { initialInterval: '10s', backoffCoefficient: 2, maximumInterval: '1h' },
});

/** Keeps an uploaded reference image for `retainForMs` after upload, then deletes it. */
export async function referenceUploadRetention(input: { uploadId: string; retainForMs: number }): Promise<void> {
  if (input.retainForMs > 0) await sleep(input.retainForMs);

  await cleanup.deleteReferenceUpload(input.uploadId);
}

/** Delivers a task's webhook again on the owner's request, with the same `webhook-id` and retries. */
export async function webhookRedelivery(input: { deliveryId: string; retryWindowMs: number; timeoutMs: number }): Promise<void> {
  const webhooks = proxyActivities<TaskActivities>({
    startToCloseTimeout: input.timeoutMs + 5_000,
    scheduleToCloseTimeout: input.retryWindowMs,
    retry: { initialInterval: '5s', backoffCoefficient: 2, maximumInterval: '1h' },
  });
  try {
    await webhooks.deliverWebhook(input.deliveryId);
  } catch (error) {
    log.warn('webhook redelivery gave up', { deliveryId: input.deliveryId, error: String(error) });
    await cleanup.markWebhookFailed(input.deliveryId);
  }
}
