import { createHash, randomUUID } from 'node:crypto';
import { ApplicationFailure, Context } from '@temporalio/activity';
import sharp from 'sharp';
import { webhookSigningSecrets } from '../lib/auth/webhook-secret';
import type { Config } from '../lib/config';
import { AppError } from '../lib/errors';
import type { Logger } from '../lib/logger';
import { checkPrompt } from '../lib/prompt-rules';
import type { ObjectStorage } from '../lib/storage/types';
import { debitTask, refundTask, taskDebitKey } from '../lib/wallet';
import { buildTaskWebhookPayload, deliverWebhook as sendWebhook, WebhookDeliveryError } from '../lib/webhooks';
import type { WebhookLookup } from '../lib/webhooks/url-policy';
import type { Prisma, PrismaClient, Task } from '../prisma/generated/client';
import type {
  CompletedTask,
  FailedTask,
  GeneratedAssets,
  ProviderJobState,
  StartedTask,
  TaskStatus,
  TerminalTaskStatus,
} from '../workflows/task-types';
import type { GeneratedImage, GenerationRequest } from './providers/types';
import { isUpstreamError } from './providers/types';
import type { ProviderRegistry } from './providers/registry';

export interface TaskActivityDependencies {
  prisma: PrismaClient;
  storage: ObjectStorage;
  providers: ProviderRegistry;
  config: Pick<Config, 'RESULT_RETENTION' | 'WEBHOOK_TIMEOUT' | 'WEBHOOK_ALLOWED_CIDRS' | 'LOW_BALANCE_THRESHOLD' | 'publicUrl'>;
  logger: Logger;
  /** Replaces DNS resolution of webhook hosts, for tests. */
  webhookLookup?: WebhookLookup;
}

const PREVIEW_MAX_SIDE = 384;
const HEARTBEAT_INTERVAL_MS = 5_000;
const TERMINAL_STATUSES: ReadonlySet<TaskStatus> = new Set(['succeeded', 'failed', 'canceled', 'expired']);

/** Object keys of a task's files; deterministic so that a retried store overwrites instead of duplicating. */
export function resultObjectKey(taskId: string, index: number, mimeType: string): string {
  return `results/${taskId}/${index}.${extensionOf(mimeType)}`;
}

export function previewObjectKey(taskId: string, index: number): string {
  return `previews/${taskId}/${index}.webp`;
}

/**
 * Builds the activities of the generation-task workflow. Each side effect is
 * keyed by task id and step (ledger idempotency keys, unique asset index,
 * message keys, step records), so a retried or re-run activity acts once.
 */
export function createTaskActivities(deps: TaskActivityDependencies) {
  const { prisma, storage, providers, config, logger } = deps;

  async function loadTask(taskId: string): Promise<Task> {
    const task = await prisma.task.findUnique({ where: { id: taskId } });
    if (!task) throw ApplicationFailure.create({ type: 'TASK_NOT_FOUND', message: `Task ${taskId} does not exist`, nonRetryable: true });
    return task;
  }

  function buildRequest(task: Task, providerModel: string, referenceImages: GenerationRequest['referenceImages']): GenerationRequest {
    return {
      prompt: task.prompt,
      ...(task.negativePrompt ? { negativePrompt: task.negativePrompt } : {}),
      model: providerModel,
      width: task.width,
      height: task.height,
      count: task.imageCount,
      seed: task.seed ?? seedFromTaskId(task.id),
      referenceImages,
    };
  }

  async function loadReferenceImages(task: Task): Promise<GenerationRequest['referenceImages']> {
    if (task.referenceUploadIds.length === 0) return [];

    const uploads = await prisma.referenceUpload.findMany({ where: { id: { in: task.referenceUploadIds }, accountId: task.accountId } });
    const images = [];
    for (const upload of uploads) {
      if (upload.deletedAt) {
        throw ApplicationFailure.create({ type: 'UPSTREAM_REJECTED', message: 'A reference image expired before the task ran', nonRetryable: true });
      }
      const object = await storage.get(upload.objectKey);
      images.push({ data: await streamToBuffer(object.body), mimeType: upload.mimeType });
    }
    return images;
  }

  function routeFor(task: Task, providerId: string) {
    const route = providers.routesFor(task.model).find((candidate) => candidate.provider.id === providerId);
    if (!route) throw ApplicationFailure.create({ type: 'NO_PROVIDER', message: `Provider ${providerId} does not serve ${task.model}`, nonRetryable: true });
    return route;
  }

  /** Copies provider images into our storage with WebP previews and records them as assets. */
  async function storeImages(task: Task, images: GeneratedImage[]): Promise<GeneratedAssets> {
    if (images.length === 0) {
      throw ApplicationFailure.create({ type: 'UPSTREAM_EMPTY_RESULT', message: 'The provider returned no images', nonRetryable: true });
    }

    const placeholderExpiry = new Date(Date.now() + config.RESULT_RETENTION);
    const assetIds: string[] = [];
    for (const [index, image] of images.entries()) {
      const objectKey = resultObjectKey(task.id, index, image.mimeType);
      const previewKey = previewObjectKey(task.id, index);

      // Both are decoded before anything is stored, so an image that does not decode leaves no object behind.
      const [metadata, preview] = await Promise.all([
        sharp(image.data).metadata(),
        sharp(image.data)
          .resize({ width: PREVIEW_MAX_SIDE, height: PREVIEW_MAX_SIDE, fit: 'inside', withoutEnlargement: true })
          .webp({ quality: 75 })
          .toBuffer(),
      ]);
      await Promise.all([
        storage.put(objectKey, image.data, { contentType: image.mimeType, contentLength: image.data.length }),
        storage.put(previewKey, preview, { contentType: 'image/webp', contentLength: preview.length }),
      ]);

      const fields = {
        objectKey,
        previewKey,
        mimeType: image.mimeType,
        width: metadata.width ?? task.width,
        height: metadata.height ?? task.height,
        sizeBytes: image.data.length,
      };
      const asset = await prisma.taskAsset.upsert({
        where: { taskId_index: { taskId: task.id, index } },
        create: { taskId: task.id, index, expiresAt: placeholderExpiry, ...fields },
        update: fields,
      });
      assetIds.push(asset.id);
    }
    return { assetIds };
  }

  /** Runs an upstream call with heartbeats, aborting it when the activity is cancelled. */
  async function callUpstream<T>(call: (signal: AbortSignal) => Promise<T>): Promise<T> {
    const context = Context.current();
    const heartbeat = setInterval(() => context.heartbeat(), HEARTBEAT_INTERVAL_MS);
    try {
      return await call(context.cancellationSignal);
    } catch (error) {
      throw toActivityFailure(error);
    } finally {
      clearInterval(heartbeat);
    }
  }

  /** Records the terminal-status webhook of a task as it is now, after its final update in the same transaction. */
  async function createWebhookDelivery(tx: Prisma.TransactionClient, task: Task, status: TerminalTaskStatus): Promise<string | undefined> {
    if (!task.webhookUrl) return undefined;

    const taskId = task.id;
    const event = `task.${status}`;
    const existing = await tx.webhookDelivery.findUnique({ where: { taskId_event: { taskId, event } } });
    if (existing) return existing.id;

    const assets = await tx.taskAsset.findMany({ where: { taskId }, orderBy: { index: 'asc' } });

    const payload = buildTaskWebhookPayload({
      id: task.id,
      status,
      model: task.model,
      price: task.price,
      errorCode: task.errorCode,
      errorMessage: task.errorMessage,
      workflowId: task.workflowId,
      finishedAt: task.finishedAt,
      assets: assets.map((asset) => ({ id: asset.id, width: asset.width, height: asset.height, url: `${config.publicUrl}/v1/assets/${asset.id}` })),
    });
    const delivery = await tx.webhookDelivery.create({
      data: { id: `msg_${randomUUID().replaceAll('-', '')}`, taskId, event, url: task.webhookUrl, payload: payload as unknown as Prisma.InputJsonValue },
    });
    return delivery.id;
  }

  async function createMessage(tx: Prisma.TransactionClient, task: Task, kind: string, params: Record<string, unknown>): Promise<void> {
    // One INSERT ... ON CONFLICT DO NOTHING, where an upsert would read, insert and read again.
    await tx.message.createMany({
      data: { accountId: task.accountId, taskId: task.id, kind, params: params as Prisma.InputJsonValue, idempotencyKey: `task:${task.id}:${kind}` },
      skipDuplicates: true,
    });
  }

  async function deleteTaskObjects(taskId: string): Promise<void> {
    const assets = await prisma.taskAsset.findMany({ where: { taskId, deletedAt: null } });
    for (const asset of assets) {
      await storage.delete(asset.objectKey);
      await storage.delete(asset.previewKey);
      await prisma.taskAsset.update({ where: { id: asset.id }, data: { deletedAt: new Date() } });
    }
  }

  return {
    /** Checks prompt rules, ensures the debit and marks the task running; returns the provider route. */
    async startTask(taskId: string): Promise<StartedTask> {
      const task = await loadTask(taskId);
      if (TERMINAL_STATUSES.has(task.status)) return { terminalStatus: task.status, routes: [] };

      const verdict = checkPrompt(task.prompt);
      if (!verdict.allowed) {
        await prisma.blockedPrompt.create({
          data: { accountId: task.accountId, apiKeyId: task.apiKeyId, promptExcerpt: task.prompt.slice(0, 200), rule: verdict.ruleId ?? 'unknown' },
        });
        throw ApplicationFailure.create({ type: 'PROMPT_BLOCKED', message: 'The prompt is not allowed by the content rules', nonRetryable: true });
      }

      const markRunning = (client: Prisma.TransactionClient) =>
        client.task.updateMany({ where: { id: task.id, status: 'queued' }, data: { status: 'running', progress: 10, startedAt: new Date() } });

      // Tasks are debited when created and ledger rows never change, so the wallet row, which every submit of
      // the account locks, is locked here only when that debit is missing.
      const debit = await prisma.ledgerEntry.findUnique({ where: { idempotencyKey: taskDebitKey(task.id) }, select: { id: true } });
      try {
        if (debit) {
          await markRunning(prisma);
        } else {
          await prisma.$transaction(async (tx) => {
            await debitTask(tx, { accountId: task.accountId, taskId: task.id, price: task.price, lowBalanceThreshold: config.LOW_BALANCE_THRESHOLD });
            await markRunning(tx);
          });
        }
      } catch (error) {
        if (error instanceof AppError && error.code === 'INSUFFICIENT_FUNDS') {
          throw ApplicationFailure.create({ type: 'INSUFFICIENT_FUNDS', message: error.message, nonRetryable: true });
        }
        throw error;
      }

      const routes = providers.routesFor(task.model).map((route) => ({
        providerId: route.provider.id,
        mode: route.provider.kind === 'async' ? ('async' as const) : ('sync' as const),
      }));
      return { routes };
    },

    /** Calls a synchronous provider and stores its images. */
    async generateImages(input: { taskId: string; providerId: string }): Promise<GeneratedAssets> {
      // The update returns the task, which saves a separate read. When it fails, loadTask reports a missing task.
      const task = await prisma.task
        .update({ where: { id: input.taskId }, data: { provider: input.providerId, progress: 30 } })
        .catch(() => loadTask(input.taskId));
      const route = routeFor(task, input.providerId);
      const request = buildRequest(task, route.providerModel, await loadReferenceImages(task));

      const result = await callUpstream((signal) => route.provider.generate(request, { signal }));
      if (result.kind !== 'completed') {
        throw ApplicationFailure.create({ type: 'UPSTREAM_BAD_RESPONSE', message: 'The provider queued a job although it is configured as synchronous', nonRetryable: true });
      }
      return storeImages(task, result.images);
    },

    /** Submits a job to an asynchronous provider, once per task and provider. */
    async submitProviderJob(input: { taskId: string; providerId: string }): Promise<{ jobId: string }> {
      const step = `submit:${input.providerId}`;
      const recorded = await prisma.stepRecord.findUnique({ where: { taskId_step: { taskId: input.taskId, step } } });
      if (recorded) return recorded.result as { jobId: string };

      const task = await loadTask(input.taskId);
      const route = routeFor(task, input.providerId);
      const request = buildRequest(task, route.providerModel, await loadReferenceImages(task));
      const callbackUrl = `${config.publicUrl}/v1/provider-callbacks/${encodeURIComponent(input.providerId)}/${input.taskId}`;
      // NOTE: a crash between the provider accepting the job and this record being written submits the job again.
      const result = await callUpstream((signal) => route.provider.generate(request, { signal, callbackUrl }));
      if (result.kind !== 'submitted') return { jobId: await storeCompletedImmediately(task, input.providerId, result.images) };

      await prisma.stepRecord.create({ data: { taskId: input.taskId, step, result: { jobId: result.jobId } } });
      await prisma.task.update({ where: { id: task.id }, data: { provider: input.providerId, progress: 30 } });
      return { jobId: result.jobId };
    },

    /** Polls an asynchronous job; a completed job's images are stored before this returns. */
    async pollProviderJob(input: { taskId: string; providerId: string; jobId: string }): Promise<ProviderJobState> {
      const stored = await prisma.stepRecord.findUnique({ where: { taskId_step: { taskId: input.taskId, step: `stored:${input.jobId}` } } });
      if (stored) return { state: 'completed' };

      const task = await loadTask(input.taskId);
      const provider = routeFor(task, input.providerId).provider;
      if (!provider.poll) throw ApplicationFailure.create({ type: 'NO_PROVIDER', message: `Provider ${input.providerId} cannot be polled`, nonRetryable: true });

      const result = await callUpstream((signal) => provider.poll!(input.jobId, { signal }));
      if (result.kind === 'pending') return { state: 'pending' };
      if (result.kind === 'failed') {
        return { state: 'failed', code: result.error.code, message: result.error.message, transient: result.error.transient };
      }

      await storeImages(task, result.images);
      await prisma.stepRecord.create({ data: { taskId: task.id, step: `stored:${input.jobId}`, result: {} } });
      return { state: 'completed' };
    },

    /** Marks the task succeeded, starts its retention clock, writes the message and the webhook delivery. */
    async completeTask(taskId: string): Promise<CompletedTask> {
      const expiresAt = new Date(Date.now() + config.RESULT_RETENTION);

      return prisma.$transaction(async (tx) => {
        const task = await tx.task.findUniqueOrThrow({ where: { id: taskId } });
        if (task.status === 'succeeded' || task.status === 'expired') {
          const delivery = await tx.webhookDelivery.findUnique({ where: { taskId_event: { taskId, event: 'task.succeeded' } } });
          const keptUntil = task.expiresAt ?? expiresAt;
          return {
            expiresAt: keptUntil.toISOString(),
            retainForMs: Math.max(0, keptUntil.getTime() - Date.now()),
            ...(delivery ? { webhookDeliveryId: delivery.id } : {}),
          };
        }

        const finished = await tx.task.update({
          where: { id: taskId },
          data: { status: 'succeeded', progress: 100, finishedAt: new Date(), expiresAt, errorCode: null, errorMessage: null },
        });
        await tx.taskAsset.updateMany({ where: { taskId }, data: { expiresAt } });
        await createMessage(tx, finished, 'task.succeeded', { taskId, model: task.model, imageCount: task.imageCount });
        const webhookDeliveryId = await createWebhookDelivery(tx, finished, 'succeeded');
        return { expiresAt: expiresAt.toISOString(), retainForMs: config.RESULT_RETENTION, ...(webhookDeliveryId ? { webhookDeliveryId } : {}) };
      });
    },

    /** Refunds the debit if there was one, marks the task failed or canceled, writes message and webhook delivery. */
    async failTask(input: { taskId: string; status: 'failed' | 'canceled'; errorCode: string; errorMessage: string }): Promise<FailedTask> {
      const result = await prisma.$transaction(async (tx) => {
        const task = await tx.task.findUniqueOrThrow({ where: { id: input.taskId } });
        const refund = await refundTask(tx, { accountId: task.accountId, taskId: task.id });
        const alreadyFinished = task.status === 'failed' || task.status === 'canceled';
        const finished = alreadyFinished
          ? task
          : await tx.task.update({
              where: { id: task.id },
              data: { status: input.status, errorCode: input.errorCode, errorMessage: input.errorMessage, finishedAt: new Date() },
            });

        const refunded = Boolean(refund);
        await createMessage(tx, finished, `task.${finished.status}`, {
          taskId: task.id,
          errorCode: finished.errorCode,
          refunded,
          refundAmount: refund ? refund.balanceDelta + refund.bonusDelta : 0,
        });
        const webhookDeliveryId = await createWebhookDelivery(tx, finished, finished.status as TerminalTaskStatus);
        return { refunded, ...(webhookDeliveryId ? { webhookDeliveryId } : {}) };
      });

      // Images stored by an upstream call that finished after the cancel are not kept.
      await deleteTaskObjects(input.taskId);
      logger.info({ taskId: input.taskId, status: input.status, errorCode: input.errorCode, refunded: result.refunded }, 'task finished unsuccessfully');
      return result;
    },

    /** Sends one signed webhook attempt and records it; throws so that Temporal retries a failed attempt. */
    async deliverWebhook(deliveryId: string): Promise<void> {
      const delivery = await prisma.webhookDelivery.findUniqueOrThrow({ where: { id: deliveryId }, include: { task: { include: { account: true } } } });
      if (delivery.status === 'delivered') return;

      const { attemptCount } = await prisma.webhookDelivery.update({ where: { id: deliveryId }, data: { attemptCount: { increment: 1 } } });
      const body = JSON.stringify(delivery.payload);
      try {
        const response = await sendWebhook({
          url: delivery.url,
          secret: webhookSigningSecrets(delivery.task.account),
          webhookId: delivery.id,
          body,
          timeoutMs: config.WEBHOOK_TIMEOUT,
          allowedCidrs: config.WEBHOOK_ALLOWED_CIDRS,
          ...(deps.webhookLookup ? { lookup: deps.webhookLookup } : {}),
        });
        await prisma.$transaction([
          prisma.webhookAttempt.create({ data: { deliveryId, attemptNumber: attemptCount, statusCode: response.statusCode, durationMs: response.durationMs } }),
          prisma.webhookDelivery.update({ where: { id: deliveryId }, data: { status: 'delivered', deliveredAt: new Date() } }),
        ]);
      } catch (error) {
        if (!(error instanceof WebhookDeliveryError)) throw error;

        await prisma.webhookAttempt.create({
          data: { deliveryId, attemptNumber: attemptCount, statusCode: error.statusCode ?? null, error: error.reason, durationMs: error.durationMs },
        });
        logger.warn({ deliveryId, taskId: delivery.taskId, attempt: attemptCount, reason: error.reason, statusCode: error.statusCode }, 'webhook attempt failed');
        throw ApplicationFailure.create({ type: 'WEBHOOK_DELIVERY_FAILED', message: error.message, nonRetryable: error.permanent });
      }
    },

    async markWebhookFailed(deliveryId: string): Promise<void> {
      await prisma.webhookDelivery.updateMany({ where: { id: deliveryId, status: 'pending' }, data: { status: 'failed' } });
    },

    /** Deletes a task's stored images and previews at the end of retention and marks the task expired. */
    async expireTaskAssets(taskId: string): Promise<void> {
      await deleteTaskObjects(taskId);
      await prisma.task.updateMany({ where: { id: taskId, status: 'succeeded' }, data: { status: 'expired' } });
      logger.info({ taskId }, 'task results deleted after retention');
    },

    /** Deletes an uploaded reference image at the end of its retention. */
    async deleteReferenceUpload(uploadId: string): Promise<void> {
      const upload = await prisma.referenceUpload.findUnique({ where: { id: uploadId } });
      if (!upload || upload.deletedAt) return;

      await storage.delete(upload.objectKey);
      await prisma.referenceUpload.update({ where: { id: uploadId }, data: { deletedAt: new Date() } });
    },
  };

  async function storeCompletedImmediately(task: Task, providerId: string, images: GeneratedImage[]): Promise<string> {
    const jobId = `inline-${task.id}`;
    await storeImages(task, images);
    await prisma.stepRecord.createMany({
      data: [
        { taskId: task.id, step: `submit:${providerId}`, result: { jobId } },
        { taskId: task.id, step: `stored:${jobId}`, result: {} },
      ],
      skipDuplicates: true,
    });
    return jobId;
  }
}

export type TaskActivities = ReturnType<typeof createTaskActivities>;

/** Maps provider errors to Temporal failures: transient ones retry with the provider's delay, others do not. */
function toActivityFailure(error: unknown): unknown {
  if (!isUpstreamError(error)) return error;

  return ApplicationFailure.create({
    type: error.code,
    message: error.message,
    nonRetryable: !error.transient,
    ...(error.retryAfterMs !== undefined ? { nextRetryDelay: error.retryAfterMs } : {}),
  });
}

function seedFromTaskId(taskId: string): number {
  return createHash('sha256').update(taskId).digest().readUInt32BE(0) & 0x7fffffff;
}

function extensionOf(mimeType: string): string {
  if (mimeType === 'image/jpeg') return 'jpg';
  if (mimeType === 'image/webp') return 'webp';
  return 'png';
}

async function streamToBuffer(stream: NodeJS.ReadableStream): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk));
  return Buffer.concat(chunks);
}
