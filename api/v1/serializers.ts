import type { Task, TaskAsset, WebhookAttempt, WebhookDelivery } from '../../prisma/generated/client';

/** Builds the link to a workflow's page in the Temporal UI, when a UI address is configured. */
export function workflowUiUrl(temporalUiUrl: string | undefined, namespace: string, workflowId: string): string | null {
  if (!temporalUiUrl) return null;
  return `${temporalUiUrl.replace(/\/+$/, '')}/namespaces/${encodeURIComponent(namespace)}/workflows/${encodeURIComponent(workflowId)}`;
}

export interface SerializeContext {
  temporalUiUrl: string | undefined;
  namespace: string;
  now?: Date;
}

export function serializeAsset(asset: TaskAsset, now = new Date()) {
  const expired = asset.deletedAt !== null || asset.expiresAt <= now;
  return {
    id: asset.id,
    taskId: asset.taskId,
    index: asset.index,
    mimeType: asset.mimeType,
    width: asset.width,
    height: asset.height,
    sizeBytes: asset.sizeBytes,
    expiresAt: asset.expiresAt.toISOString(),
    expired,
  };
}

export function serializeTask(task: Task & { assets: TaskAsset[] }, context: SerializeContext) {
  return {
    id: task.id,
    status: task.status,
    progress: task.progress,
    model: task.model,
    prompt: task.prompt,
    negativePrompt: task.negativePrompt,
    width: task.width,
    height: task.height,
    aspectRatio: task.aspectRatio,
    imageCount: task.imageCount,
    seed: task.seed,
    referenceImageIds: task.referenceUploadIds,
    webhookUrl: task.webhookUrl,
    price: task.price,
    errorCode: task.errorCode,
    errorMessage: task.errorMessage,
    createdAt: task.createdAt.toISOString(),
    startedAt: task.startedAt?.toISOString() ?? null,
    finishedAt: task.finishedAt?.toISOString() ?? null,
    expiresAt: task.expiresAt?.toISOString() ?? null,
    workflowId: task.workflowId,
    workflowUrl: workflowUiUrl(context.temporalUiUrl, context.namespace, task.workflowId),
    assets: task.assets.map((asset) => serializeAsset(asset, context.now)),
  };
}

export function serializeDelivery(delivery: WebhookDelivery & { attempts: WebhookAttempt[] }) {
  return {
    id: delivery.id,
    event: delivery.event,
    url: delivery.url,
    status: delivery.status,
    attemptCount: delivery.attemptCount,
    createdAt: delivery.createdAt.toISOString(),
    deliveredAt: delivery.deliveredAt?.toISOString() ?? null,
    attempts: delivery.attempts.map((attempt) => ({
      attemptNumber: attempt.attemptNumber,
      statusCode: attempt.statusCode,
      error: attempt.error,
      durationMs: attempt.durationMs,
      createdAt: attempt.createdAt.toISOString(),
    })),
  };
}
