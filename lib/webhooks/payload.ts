/** Task statuses that end a task and send a webhook. */
export type TerminalTaskStatus = 'succeeded' | 'failed' | 'canceled';

export type TaskWebhookEventType = `task.${TerminalTaskStatus}`;

/** The fields of a finished task that its webhook reports. Nullable fields accept database rows as they are. */
export interface TaskWebhookSource {
  id: string;
  status: TerminalTaskStatus;
  model: string;
  /** Credits charged for the task (refunded when it failed or was canceled). */
  price: number;
  errorCode?: string | null;
  errorMessage?: string | null;
  workflowId: string;
  finishedAt?: Date | null;
  assets: Array<{
    id: string;
    width: number;
    height: number;
    /**
     * A stable link that the receiver fetches with its own credentials. Presigned
     * storage links do not fit, because they expire long before the last retry.
     */
    url?: string | null;
  }>;
}

export interface TaskWebhookPayload {
  type: TaskWebhookEventType;
  /** ISO 8601 time of the event: when the task finished. */
  timestamp: string;
  data: {
    id: string;
    status: TerminalTaskStatus;
    model: string;
    price: number;
    errorCode?: string;
    errorMessage?: string;
    assets: Array<{ id: string; width: number; height: number; url?: string }>;
    workflowId: string;
  };
}

/**
 * Builds the body of a task's terminal-status webhook. The prompt is left out
 * on purpose: receivers already know it from their request, and it may hold
 * personal text that should not be copied to every endpoint and delivery log.
 */
export function buildTaskWebhookPayload(task: TaskWebhookSource): TaskWebhookPayload {
  const data: TaskWebhookPayload['data'] = {
    id: task.id,
    status: task.status,
    model: task.model,
    price: task.price,
    assets: task.assets.map((asset) => ({
      id: asset.id,
      width: asset.width,
      height: asset.height,
      ...(asset.url ? { url: asset.url } : {}),
    })),
    workflowId: task.workflowId,
  };

  if (task.errorCode) data.errorCode = task.errorCode;
  if (task.errorMessage) data.errorMessage = task.errorMessage;

  return {
    type: `task.${task.status}`,
    timestamp: (task.finishedAt ?? new Date()).toISOString(),
    data,
  };
}
