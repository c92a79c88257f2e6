/**
 * Types shared by the task workflow, its activities and the API. Only ids,
 * object keys and small values cross the workflow boundary, never image bytes.
 */

export type TaskStatus = 'queued' | 'running' | 'succeeded' | 'failed' | 'canceled' | 'expired';

export type TerminalTaskStatus = 'succeeded' | 'failed' | 'canceled';

/** Workflow input: the task id plus the configuration values the workflow's timers and retries use. */
export interface GenerationTaskInput {
  taskId: string;
  /** A task whose upstream has not produced images by then fails and is refunded. */
  deadlineMs: number;
  upstream: {
    maxAttempts: number;
    initialBackoffMs: number;
    /** Interval between status polls of an asynchronous provider job. */
    pollIntervalMs: number;
  };
  webhook: {
    /** Total time a webhook delivery is retried. */
    retryWindowMs: number;
    timeoutMs: number;
  };
}

/** One provider in the task's route, in priority order. */
export interface ProviderRoute {
  providerId: string;
  mode: 'sync' | 'async';
}

export interface StartedTask {
  /** Set when the task already reached this status, for example on a re-run after a crash. */
  terminalStatus?: TaskStatus;
  routes: ProviderRoute[];
}

export interface GeneratedAssets {
  assetIds: string[];
}

export type ProviderJobState =
  | { state: 'pending' }
  | { state: 'completed' }
  | { state: 'failed'; code: string; message: string; transient: boolean };

export interface CompletedTask {
  /** ISO time at which results and previews are deleted. */
  expiresAt: string;
  /**
   * Time from completion until deletion. The workflow sleeps this long on its
   * own clock rather than until `expiresAt`, so a skewed clock cannot cut retention short.
   */
  retainForMs: number;
  webhookDeliveryId?: string;
}

export interface FailedTask {
  refunded: boolean;
  webhookDeliveryId?: string;
}

export interface TaskProgress {
  status: TaskStatus;
  progress: number;
  providerId?: string;
  errorCode?: string;
}

/** Payload of the signal an asynchronous provider's callback sends into the workflow. */
export interface ProviderCallbackSignal {
  providerId: string;
  jobId: string;
}

/** Stable error codes a task can end with. */
export const TASK_ERROR_CODES = [
  'PROMPT_BLOCKED',
  'INSUFFICIENT_FUNDS',
  'CONTENT_POLICY',
  'UPSTREAM_REJECTED',
  'UPSTREAM_EMPTY_RESULT',
  'UPSTREAM_BAD_RESPONSE',
  'UPSTREAM_TIMEOUT',
  'UPSTREAM_RATE_LIMITED',
  'UPSTREAM_UNAVAILABLE',
  'NO_PROVIDER',
  'TASK_DEADLINE_EXCEEDED',
  'CANCELED',
  'INTERNAL',
] as const;

export type TaskErrorCode = (typeof TASK_ERROR_CODES)[number];
