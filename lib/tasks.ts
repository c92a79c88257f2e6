import { createHash, randomUUID } from 'node:crypto';
import type { Client } from '@temporalio/client';
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/client';
import { z } from 'zod';
import type { ProviderRegistry } from '../activities/providers/registry';
import { resolveSize } from '../activities/providers/sizes';
import type { Prisma, PrismaClient, Task, TaskAsset } from '../prisma/generated/client';
import { cancelTaskSignal, taskWorkflowId } from '../workflows/definitions';
import type { generationTask } from '../workflows/generation-task';
import type { GenerationTaskInput } from '../workflows/task-types';
import type { Config } from './config';
import { creditsUsedToday, quotaExceededError } from './credit-quota';
import { AppError } from './errors';
import type { Logger } from './logger';
import { checkPrompt } from './prompt-rules';
import { isUniqueViolation } from './db/transactions';
import { debitTask } from './wallet';
import { checkWebhookUrl, validateWebhookUrlSyntax, type WebhookLookup } from './webhooks/url-policy';

/** Body of `POST /v1/tasks` and of the Studio's create request. */
export const createTaskSchema = z.strictObject({
  prompt: z.string().trim().min(1).max(4_000),
  negativePrompt: z.string().trim().max(2_000).optional(),
  model: z.string().min(1).max(100),
  size: z.string().max(20).optional(),
  aspectRatio: z.string().max(20).optional(),
  imageCount: z.int().min(1).max(4).default(1),
  seed: z.int().min(0).max(2_147_483_647).optional(),
  referenceImageIds: z.array(z.uuid()).max(4).default([]),
  webhookUrl: z.string().max(2_048).optional(),
});

export type CreateTaskRequest = z.input<typeof createTaskSchema>;

export interface TaskServiceDependencies {
  prisma: PrismaClient;
  temporal: Client;
  providers: ProviderRegistry;
  config: Pick<
    Config,
    | 'TEMPORAL_TASK_QUEUE'
    | 'TASK_DEADLINE'
    | 'UPSTREAM_MAX_ATTEMPTS'
    | 'UPSTREAM_INITIAL_BACKOFF'
    | 'WEBHOOK_RETRY_WINDOW'
    | 'WEBHOOK_TIMEOUT'
    | 'WEBHOOK_ALLOWED_CIDRS'
    | 'LOW_BALANCE_THRESHOLD'
  >;
  logger: Logger;
  webhookLookup?: WebhookLookup;
}

export interface TaskCaller {
  accountId: string;
  apiKeyId?: string;
  /** The API key's credits-per-day quota; null or absent means none. */
  creditsPerDay?: number | null;
}

export type TaskWithAssets = Task & { assets: TaskAsset[] };

const ASYNC_POLL_INTERVAL_MS = 5_000;

/** Queued tasks younger than this are left alone: their creating request may still be starting the workflow. */
const PENDING_TASK_MIN_AGE_MS = 15_000;

/** Creates, reads and cancels generation tasks for the REST API and the Studio. */
export function createTaskService(deps: TaskServiceDependencies) {
  const { prisma, temporal, providers, config, logger } = deps;

  function workflowInput(taskId: string): GenerationTaskInput {
    return {
      taskId,
      deadlineMs: config.TASK_DEADLINE,
      upstream: { maxAttempts: config.UPSTREAM_MAX_ATTEMPTS, initialBackoffMs: config.UPSTREAM_INITIAL_BACKOFF, pollIntervalMs: ASYNC_POLL_INTERVAL_MS },
      webhook: { retryWindowMs: config.WEBHOOK_RETRY_WINDOW, timeoutMs: config.WEBHOOK_TIMEOUT },
    };
  }

  async function startWorkflow(task: Task): Promise<void> {
    try {
      await temporal.workflow.start<typeof generationTask>('generationTask', {
        workflowId: task.workflowId,
        taskQueue: config.TEMPORAL_TASK_QUEUE,
        args: [workflowInput(task.id)],
      });
    } catch (error) {
      if (error instanceof WorkflowExecutionAlreadyStartedError) return;
      throw error;
    }
  }

  /**
   * Starts the workflows of queued tasks older than `minAgeMs` that never
   * started, for example because Temporal was unreachable when they were
   * created. Starting is idempotent: the workflow id is derived from the task.
   */
  async function startPendingTasks(minAgeMs = PENDING_TASK_MIN_AGE_MS): Promise<number> {
    const pending = await prisma.task.findMany({
      where: { status: 'queued', startedAt: null, createdAt: { lt: new Date(Date.now() - minAgeMs) } },
      orderBy: { createdAt: 'asc' },
      take: 100,
    });
    let started = 0;
    for (const task of pending) {
      try {
        await startWorkflow(task);
        started += 1;
      } catch (error) {
        logger.warn({ err: error, taskId: task.id }, 'starting a pending task workflow failed; will retry');
        break;
      }
    }
    return started;
  }

  async function getTask(caller: TaskCaller, taskId: string): Promise<TaskWithAssets> {
    const task = z.uuid().safeParse(taskId).success
      ? await prisma.task.findFirst({ where: { id: taskId, accountId: caller.accountId }, include: { assets: { orderBy: { index: 'asc' } } } })
      : null;
    if (!task) throw new AppError('NOT_FOUND', 'Task not found');
    return task;
  }

  return {
    /**
     * Validates and prices a request, rejects blocked prompts and bad webhook
     * URLs, then creates the task and debits the wallet in one transaction and
     * starts its workflow. With an idempotency key, the same body returns the
     * same task and another body is rejected.
     */
    async create(caller: TaskCaller, body: unknown, idempotencyKey?: string): Promise<{ task: TaskWithAssets; created: boolean }> {
      const request = createTaskSchema.parse(body);
      const requestHash = hashRequest(request);

      if (idempotencyKey !== undefined) {
        const existing = await findByIdempotencyKey(prisma, caller.accountId, idempotencyKey);
        if (existing) return { task: checkSameRequest(existing, requestHash), created: false };
      }

      const verdict = checkPrompt(request.prompt);
      if (!verdict.allowed) {
        await prisma.blockedPrompt.create({
          data: { accountId: caller.accountId, apiKeyId: caller.apiKeyId ?? null, promptExcerpt: request.prompt.slice(0, 200), rule: verdict.ruleId ?? 'unknown' },
        });
        throw new AppError('PROMPT_BLOCKED', 'The prompt is not allowed by the content rules', { rule: verdict.ruleId });
      }

      const size = resolveSize({ size: request.size, aspectRatio: request.aspectRatio });
      const price = providers.unitPrice(request.model, size) * request.imageCount;
      if (request.webhookUrl !== undefined) {
        validateWebhookUrlSyntax(request.webhookUrl);
        await checkWebhookUrl(request.webhookUrl, { allowedCidrs: config.WEBHOOK_ALLOWED_CIDRS, ...(deps.webhookLookup ? { lookup: deps.webhookLookup } : {}) });
      }
      await checkReferenceUploads(prisma, caller.accountId, request.referenceImageIds);

      const taskId = randomUUID();
      let task: TaskWithAssets;
      try {
        task = await prisma.$transaction(async (tx) => {
          const created = await tx.task.create({
            data: {
              id: taskId,
              accountId: caller.accountId,
              apiKeyId: caller.apiKeyId ?? null,
              prompt: request.prompt,
              negativePrompt: request.negativePrompt ?? null,
              model: request.model,
              width: size.width,
              height: size.height,
              aspectRatio: request.aspectRatio ?? null,
              imageCount: request.imageCount,
              seed: request.seed ?? null,
              referenceUploadIds: request.referenceImageIds,
              webhookUrl: request.webhookUrl ?? null,
              idempotencyKey: idempotencyKey ?? null,
              requestHash,
              price,
              workflowId: taskWorkflowId(taskId),
            },
          });
          // The wallet row is locked last, so that concurrent tasks of the account wait on it for as short a time as possible.
          await debitTask(tx, { accountId: caller.accountId, taskId, price, lowBalanceThreshold: config.LOW_BALANCE_THRESHOLD });
          if (caller.apiKeyId && caller.creditsPerDay != null) {
            // Every task of the account holds the wallet lock here, so no concurrent task is missing from this sum.
            const used = await creditsUsedToday(tx, caller.apiKeyId);
            if (used > caller.creditsPerDay) throw quotaExceededError({ creditsPerDay: caller.creditsPerDay, used: used - price, price });
          }
          return { ...created, assets: [] };
        });
      } catch (error) {
        // A concurrent request with the same idempotency key won the race: return its task.
        if (idempotencyKey !== undefined && isUniqueViolation(error)) {
          const existing = await findByIdempotencyKey(prisma, caller.accountId, idempotencyKey);
          if (existing) return { task: checkSameRequest(existing, requestHash), created: false };
        }
        throw error;
      }

      try {
        await startWorkflow(task);
      } catch (error) {
        // The task and its debit are committed, so it stays queued and startPendingTasks starts it once Temporal is reachable.
        logger.warn({ err: error, taskId: task.id }, 'starting the task workflow failed; it stays queued for a retry');
      }
      return { task, created: true };
    },

    get: getTask,

    /** Lists the caller's tasks, newest first, with an opaque cursor for the next page. */
    async list(caller: TaskCaller, query: unknown): Promise<{ tasks: TaskWithAssets[]; nextCursor: string | null }> {
      const { limit, cursor, status } = listQuerySchema.parse(query);
      const after = cursor ? decodeCursor(cursor) : undefined;
      const where: Prisma.TaskWhereInput = {
        accountId: caller.accountId,
        ...(status ? { status } : {}),
        ...(after
          ? { OR: [{ createdAt: { lt: after.createdAt } }, { createdAt: after.createdAt, id: { lt: after.id } }] }
          : {}),
      };
      const tasks = await prisma.task.findMany({
        where,
        orderBy: [{ createdAt: 'desc' }, { id: 'desc' }],
        take: limit + 1,
        include: { assets: { orderBy: { index: 'asc' } } },
      });

      const page = tasks.slice(0, limit);
      const last = page.at(-1);
      return { tasks: page, nextCursor: tasks.length > limit && last ? encodeCursor(last) : null };
    },

    /** Asks the workflow to cancel; the workflow refunds and marks the task canceled. */
    async cancel(caller: TaskCaller, taskId: string): Promise<TaskWithAssets> {
      const task = await getTask(caller, taskId);
      if (task.status !== 'queued' && task.status !== 'running') {
        throw new AppError('CONFLICT', `The task is already ${task.status}`, { status: task.status });
      }
      await temporal.workflow.getHandle(task.workflowId).signal(cancelTaskSignal);
      return task;
    },

    workflowInput,
    startPendingTasks,
  };
}

export type TaskService = ReturnType<typeof createTaskService>;

const listQuerySchema = z.object({
  limit: z.coerce.number().int().min(1).max(100).default(20),
  cursor: z.string().max(200).optional(),
  status: z.enum(['queued', 'running', 'succeeded', 'failed', 'canceled', 'expired']).optional(),
});

function encodeCursor(task: Task): string {
  return Buffer.from(`${task.createdAt.toISOString()}|${task.id}`).toString('base64url');
}

function decodeCursor(cursor: string): { createdAt: Date; id: string } {
  const [createdAt, id] = Buffer.from(cursor, 'base64url').toString('utf8').split('|');
  const date = new Date(createdAt ?? '');
  if (!id || Number.isNaN(date.getTime()) || !z.uuid().safeParse(id).success) {
    throw new AppError('VALIDATION_FAILED', 'The cursor is invalid', { field: 'cursor' });
  }
  return { createdAt: date, id };
}

/** Hashes the parsed request, so that key order and defaults do not change the result. */
function hashRequest(request: z.output<typeof createTaskSchema>): string {
  const canonical = JSON.stringify(Object.entries(request).sort(([a], [b]) => a.localeCompare(b)));
  return createHash('sha256').update(canonical).digest('hex');
}

async function findByIdempotencyKey(prisma: PrismaClient, accountId: string, idempotencyKey: string): Promise<TaskWithAssets | null> {
  return prisma.task.findUnique({
    where: { accountId_idempotencyKey: { accountId, idempotencyKey } },
    include: { assets: { orderBy: { index: 'asc' } } },
  });
}

function checkSameRequest(task: TaskWithAssets, requestHash: string): TaskWithAssets {
  if (task.requestHash !== requestHash) {
    throw new AppError('IDEMPOTENCY_KEY_REUSED', 'This Idempotency-Key was used with a different request body', { taskId: task.id });
  }
  return task;
}

async function checkReferenceUploads(prisma: PrismaClient, accountId: string, uploadIds: string[]): Promise<void> {
  if (uploadIds.length === 0) return;

  const uploads = await prisma.referenceUpload.findMany({ where: { id: { in: uploadIds }, accountId } });
  const usable = new Set(uploads.filter((upload) => !upload.deletedAt && upload.expiresAt > new Date()).map((upload) => upload.id));
  const missing = uploadIds.filter((id) => !usable.has(id));
  if (missing.length > 0) {
    throw new AppError('VALIDATION_FAILED', 'Some reference images do not exist or have expired', { field: 'referenceImageIds', missing });
  }
}
