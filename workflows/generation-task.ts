import {
  ActivityFailure,
  ApplicationFailure,
  CancellationScope,
  condition,
  isCancellation,
  log,
  patched,
  proxyActivities,
  proxyLocalActivities,
  setHandler,
  sleep,
} from '@temporalio/workflow';
import type { TaskActivities } from '../activities/task-activities';
import { cancelTaskSignal, providerCallbackSignal, taskProgressQuery } from './definitions';
import type {
  GenerationTaskInput,
  ProviderCallbackSignal,
  ProviderRoute,
  TaskErrorCode,
  TaskProgress,
  TerminalTaskStatus,
} from './task-types';
import { TASK_ERROR_CODES } from './task-types';


// Database and wallet steps: quick, retried often, never give up for long.
const DATABASE_STEP_OPTIONS = {
  startToCloseTimeout: '30s',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '30s', maximumAttempts: 50 },
} as const;
const database = proxyActivities<TaskActivities>(DATABASE_STEP_OPTIONS);

// The same steps as local activities, which skip the server's activity task queue. Each step is idempotent,
// because a local activity runs again when its worker crashes before the workflow task completes.
const localDatabase = proxyLocalActivities<TaskActivities>(DATABASE_STEP_OPTIONS);

/** Workflows started before this change run their database steps as ordinary activities, as their histories record. */
const LOCAL_DATABASE_STEPS_PATCH = 'local-database-steps';

type DatabaseSteps = Pick<TaskActivities, 'startTask' | 'completeTask' | 'failTask'>;

// Storage deletion after retention: retried for days, because leaving files behind breaks a privacy promise.
const cleanup = proxyActivities<TaskActivities>({
  startToCloseTimeout: '2m',
  retry: { initialInterval: '10s', backoffCoefficient: 2, maximumInterval: '1h' },
});

class TaskFailure extends Error {
  constructor(
    readonly code: TaskErrorCode,
    message: string,
  ) {
    super(message);
  }
}

/**
 * One generation task: check and debit (idempotent), call the upstream with
 * retries and fallback, store results, finish with message and webhook, then
 * keep the files until their retention ends and delete them. Any failure or a
 * cancel after the debit refunds exactly once.
 */
export async function generationTask(input: GenerationTaskInput): Promise<TerminalTaskStatus> {
  const progress: TaskProgress = { status: 'queued', progress: 0 };
  let cancelRequested = false;
  let deadlineExceeded = false;
  const callbacks: ProviderCallbackSignal[] = [];

  const generationScope = new CancellationScope();
  setHandler(taskProgressQuery, () => progress);
  setHandler(providerCallbackSignal, (signal) => {
    callbacks.push(signal);
  });
  setHandler(cancelTaskSignal, () => {
    if (progress.status === 'queued' || progress.status === 'running') {
      cancelRequested = true;
      generationScope.cancel();
    }
  });

  const steps: DatabaseSteps = patched(LOCAL_DATABASE_STEPS_PATCH) ? localDatabase : database;

  let routes: ProviderRoute[];
  try {
    const started = await steps.startTask(input.taskId);
    if (started.terminalStatus) {
      log.warn('task already finished; nothing to run', { taskId: input.taskId, status: started.terminalStatus });
      return started.terminalStatus === 'succeeded' || started.terminalStatus === 'expired' ? 'succeeded' : 'failed';
    }
    routes = started.routes;
  } catch (error) {
    // Prompt rules and the debit reject a task before any upstream call; nothing was generated.
    return finishUnsuccessfully(input, steps, progress, toTaskFailure(error, { cancelRequested, deadlineExceeded }));
  }
  progress.status = 'running';
  progress.progress = 10;

  // The deadline timer has a scope of its own, so that cancelling generation does not cancel it and vice versa.
  const deadlineScope = new CancellationScope();
  deadlineScope
    .run(async () => {
      await sleep(input.deadlineMs);
      deadlineExceeded = true;
      generationScope.cancel();
    })
    .catch(() => undefined);

  try {
    if (cancelRequested) throw new TaskFailure('CANCELED', 'The task was canceled');
    await generationScope.run(() => generateWithFallback(input, routes, progress, callbacks));
  } catch (error) {
    return finishUnsuccessfully(input, steps, progress, toTaskFailure(error, { cancelRequested, deadlineExceeded }));
  } finally {
    deadlineScope.cancel();
  }

  const completed = await steps.completeTask(input.taskId);
  progress.status = 'succeeded';
  progress.progress = 100;

  await Promise.all([deliverWebhook(input, completed.webhookDeliveryId), retainThenDelete(input.taskId, completed.retainForMs)]);
  progress.status = 'expired';
  return 'succeeded';
}

/** Tries each provider in priority order; a content-policy refusal ends the task without fallback. */
async function generateWithFallback(
  input: GenerationTaskInput,
  routes: ProviderRoute[],
  progress: TaskProgress,
  callbacks: ProviderCallbackSignal[],
): Promise<void> {
  if (routes.length === 0) throw new TaskFailure('NO_PROVIDER', 'No provider serves this model');

  let lastFailure: TaskFailure | undefined;
  for (const route of routes) {
    progress.providerId = route.providerId;
    try {
      if (route.mode === 'sync') {
        await upstream(input).generateImages({ taskId: input.taskId, providerId: route.providerId });
      } else {
        await runProviderJob(input, route.providerId, callbacks);
      }
      progress.progress = 90;
      return;
    } catch (error) {
      if (isCancellation(error)) throw error;

      lastFailure = toTaskFailure(error, { cancelRequested: false, deadlineExceeded: false });
      log.warn('provider failed', { taskId: input.taskId, providerId: route.providerId, code: lastFailure.code });
      if (lastFailure.code === 'CONTENT_POLICY') throw lastFailure;
    }
  }
  throw lastFailure!;
}

/** Submits a job to an asynchronous provider, then waits for its callback signal or polls it; completion stores the images. */
async function runProviderJob(input: GenerationTaskInput, providerId: string, callbacks: ProviderCallbackSignal[]): Promise<void> {
  const activities = upstream(input);
  const { jobId } = await activities.submitProviderJob({ taskId: input.taskId, providerId });

  for (;;) {
    const signalled = await condition(
      () => callbacks.some((callback) => callback.providerId === providerId && callback.jobId === jobId),
      input.upstream.pollIntervalMs,
    );
    const job = await activities.pollProviderJob({ taskId: input.taskId, providerId, jobId });
    if (job.state === 'completed') break;
    if (job.state === 'failed') {
      throw ApplicationFailure.create({ type: job.code, message: job.message, nonRetryable: true });
    }
    if (signalled) {
      // A callback arrived but the job is not finished yet: forget it and keep waiting.
      callbacks.splice(0, callbacks.length, ...callbacks.filter((callback) => callback.jobId !== jobId));
    }
  }
}

/** Upstream calls: long timeouts, retries with exponential backoff and a bounded attempt count. */
function upstream(input: GenerationTaskInput) {
  return proxyActivities<TaskActivities>({
    startToCloseTimeout: '5m',
    heartbeatTimeout: '30s',
    retry: {
      initialInterval: input.upstream.initialBackoffMs,
      backoffCoefficient: 2,
      maximumInterval: '1m',
      maximumAttempts: input.upstream.maxAttempts,
    },
  });
}

/** Delivers the terminal-status webhook, retried with backoff for the configured window; failure never changes the task. */
async function deliverWebhook(input: GenerationTaskInput, deliveryId: string | undefined): Promise<void> {
  if (!deliveryId) return;

  const webhooks = proxyActivities<TaskActivities>({
    startToCloseTimeout: input.webhook.timeoutMs + 5_000,
    scheduleToCloseTimeout: input.webhook.retryWindowMs,
    retry: { initialInterval: '5s', backoffCoefficient: 2, maximumInterval: '1h' },
  });
  try {
    await webhooks.deliverWebhook(deliveryId);
  } catch (error) {
    log.warn('webhook delivery gave up', { taskId: input.taskId, deliveryId, error: String(error) });
    await database.markWebhookFailed(deliveryId);
  }
}

/**
 * Waits until the results expire, then deletes their objects and marks the
 * task expired. Cancelling the workflow during the wait deletes the files at
 * once, because ending with the files kept would break the retention promise.
 */
async function retainThenDelete(taskId: string, retainForMs: number): Promise<void> {
  try {
    if (retainForMs > 0) await sleep(retainForMs);
  } finally {
    await CancellationScope.nonCancellable(() => cleanup.expireTaskAssets(taskId));
  }
}

/** Marks the task failed or canceled, refunding its debit if there was one, then delivers the webhook. */
async function finishUnsuccessfully(
  input: GenerationTaskInput,
  steps: DatabaseSteps,
  progress: TaskProgress,
  failure: TaskFailure,
): Promise<TerminalTaskStatus> {
  const status = failure.code === 'CANCELED' ? 'canceled' : 'failed';
  progress.status = status;
  progress.errorCode = failure.code;

  const failed = await CancellationScope.nonCancellable(() =>
    steps.failTask({ taskId: input.taskId, status, errorCode: failure.code, errorMessage: failure.message }),
  );
  await deliverWebhook(input, failed.webhookDeliveryId);
  return status;
}

/** Maps any error that ended generation to a task error code. */
function toTaskFailure(error: unknown, state: { cancelRequested: boolean; deadlineExceeded: boolean }): TaskFailure {
  if (error instanceof TaskFailure) return error;
  if (state.deadlineExceeded) return new TaskFailure('TASK_DEADLINE_EXCEEDED', 'The upstream did not produce images before the deadline');
  if (state.cancelRequested || isCancellation(error)) return new TaskFailure('CANCELED', 'The task was canceled');

  const cause = error instanceof ActivityFailure ? error.cause : error;
  if (cause instanceof ApplicationFailure && cause.type && isTaskErrorCode(cause.type)) {
    return new TaskFailure(cause.type, cause.message);
  }
  return new TaskFailure('INTERNAL', 'The task failed because of an internal error');
}

function isTaskErrorCode(type: string): type is TaskErrorCode {
  return (TASK_ERROR_CODES as readonly string[]).includes(type);
}
