import type { Client } from '@temporalio/client';
import express, { Router } from 'express';
import { z } from 'zod';
import type { ProviderRegistry } from '../../activities/providers/registry';
import { verifyProviderCallback } from '../../activities/providers/async-jobs';
import type { Config } from '../../lib/config';
import { AppError } from '../../lib/errors';
import type { ObjectStorage } from '../../lib/storage/types';
import type { TaskService } from '../../lib/tasks';
import { MAX_UPLOAD_BYTES, serializeUpload, storeReferenceUpload } from '../../lib/uploads';
import type { PrismaClient } from '../../prisma/generated/client';
import { providerCallbackSignal } from '../../workflows/definitions';
import type { webhookRedelivery } from '../../workflows/maintenance';
import type { Logger } from '../../lib/logger';
import { openApiRouter } from '../openapi/router';
import { walletRouter, type WalletRouterDependencies } from '../wallet/router';
import { requireApiKey, requireScope } from './auth';
import { creditsPerDayQuota } from './quotas';
import { requestLog } from './request-log';
import { serializeAsset, serializeDelivery, serializeTask } from './serializers';

export interface V1Dependencies {
  prisma: PrismaClient;
  temporal: Client;
  storage: ObjectStorage;
  tasks: TaskService;
  providers: ProviderRegistry;
  config: Pick<
    Config,
    | 'TEMPORAL_UI_URL'
    | 'TEMPORAL_NAMESPACE'
    | 'TEMPORAL_TASK_QUEUE'
    | 'REFERENCE_RETENTION'
    | 'DOWNLOAD_URL_TTL'
    | 'WEBHOOK_RETRY_WINDOW'
    | 'WEBHOOK_TIMEOUT'
    | 'API_REQUEST_LOG_RETENTION'
  > &
    WalletRouterDependencies['config'];
  logger: Logger;
}

const IDEMPOTENCY_KEY_PATTERN = /^[\x21-\x7e]{1,255}$/;

/** Builds the public REST API: provider callbacks, then everything else authenticated by API key. */
export function v1Router(deps: V1Dependencies): Router {
  const { prisma } = deps;
  const router = Router();
  router.use(requestLog({ prisma, logger: deps.logger, retentionMs: deps.config.API_REQUEST_LOG_RETENTION }));

  // Provider callbacks authenticate with the provider's signature, not an API key, and need the raw body.
  // The limit is generous because providers may inline the finished images in the callback.
  router.post('/provider-callbacks/:providerId/:taskId', express.raw({ type: () => true, limit: '64mb' }), async (request, response) => {
    const providerId = String(request.params.providerId);
    const secret = deps.providers.config.providers.find((provider) => provider.id === providerId)?.callbackSecret;
    if (!secret) throw new AppError('NOT_FOUND', 'Unknown provider');

    const rawBody = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
    const callback = verifyProviderCallback(rawBody, request.headers, secret);
    const task = await prisma.task.findUnique({ where: { id: z.uuid().parse(request.params.taskId) } });
    if (!task) throw new AppError('NOT_FOUND', 'Task not found');

    await deps.temporal.workflow.getHandle(task.workflowId).signal(providerCallbackSignal, { providerId, jobId: callback.id });
    response.status(204).end();
  });

  // The API's own description is public, so clients can read it before they have a key.
  router.use(openApiRouter());
  router.use(requireApiKey(prisma));
  router.use(resourceRouter(deps));
  return router;
}

/**
 * Tasks, uploads, assets, wallet and messages of the authenticated principal.
 * The router does not authenticate: `/v1` mounts it behind API keys and the
 * Studio's `/api` behind the session, which both set `request.principal`.
 */
export function resourceRouter(deps: V1Dependencies): Router {
  const { prisma, tasks, config } = deps;
  const router = Router();
  const serializeContext = { temporalUiUrl: config.TEMPORAL_UI_URL, namespace: config.TEMPORAL_NAMESPACE };

  router.use(express.json({ limit: '64kb' }));

  router.post('/tasks', requireScope('tasks:write'), creditsPerDayQuota(prisma, deps.providers), async (request, response) => {
    const idempotencyKey = request.get('Idempotency-Key');
    if (idempotencyKey !== undefined && !IDEMPOTENCY_KEY_PATTERN.test(idempotencyKey)) {
      throw new AppError('VALIDATION_FAILED', 'Idempotency-Key must be 1 to 255 visible ASCII characters', { field: 'Idempotency-Key' });
    }

    const { task, created } = await tasks.create(principalOf(request), request.body, idempotencyKey);
    response.status(created ? 201 : 200).json(serializeTask(task, serializeContext));
  });

  router.get('/tasks', requireScope('tasks:read'), async (request, response) => {
    const page = await tasks.list(principalOf(request), request.query);
    response.json({ data: page.tasks.map((task) => serializeTask(task, serializeContext)), nextCursor: page.nextCursor });
  });

  router.get('/tasks/:id', requireScope('tasks:read'), async (request, response) => {
    const task = await tasks.get(principalOf(request), String(request.params.id));
    response.json(serializeTask(task, serializeContext));
  });

  router.post('/tasks/:id/cancel', requireScope('tasks:write'), async (request, response) => {
    await tasks.cancel(principalOf(request), String(request.params.id));
    const task = await tasks.get(principalOf(request), String(request.params.id));
    response.status(202).json(serializeTask(task, serializeContext));
  });

  router.get('/tasks/:id/webhook-deliveries', requireScope('tasks:read'), async (request, response) => {
    const task = await tasks.get(principalOf(request), String(request.params.id));
    const deliveries = await prisma.webhookDelivery.findMany({
      where: { taskId: task.id },
      orderBy: { createdAt: 'asc' },
      include: { attempts: { orderBy: { attemptNumber: 'asc' } } },
    });
    response.json({ data: deliveries.map(serializeDelivery) });
  });

  router.post('/tasks/:id/webhook-deliveries/redeliver', requireScope('tasks:write'), async (request, response) => {
    const task = await tasks.get(principalOf(request), String(request.params.id));
    const delivery = await prisma.webhookDelivery.findFirst({ where: { taskId: task.id }, orderBy: { createdAt: 'desc' } });
    if (!delivery) throw new AppError('NOT_FOUND', 'The task has no webhook delivery yet');

    const { attemptCount } = await prisma.webhookDelivery.update({ where: { id: delivery.id }, data: { status: 'pending' } });
    await deps.temporal.workflow.start<typeof webhookRedelivery>('webhookRedelivery', {
      workflowId: `redeliver-${delivery.id}-${attemptCount}`,
      taskQueue: config.TEMPORAL_TASK_QUEUE,
      args: [{ deliveryId: delivery.id, retryWindowMs: config.WEBHOOK_RETRY_WINDOW, timeoutMs: config.WEBHOOK_TIMEOUT }],
    });
    response.status(202).json({ id: delivery.id, status: 'pending' });
  });

  router.post('/uploads', requireScope('tasks:write'), express.raw({ type: () => true, limit: MAX_UPLOAD_BYTES }), async (request, response) => {
    const bytes = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
    const upload = await storeReferenceUpload(deps, principalOf(request).accountId, bytes);
    response.status(201).json(serializeUpload(upload));
  });

  router.get('/assets/:id', requireScope('assets:read'), async (request, response) => {
    const asset = await findLiveAsset(request.params.id, principalOf(request).accountId);
    const ttlSeconds = Math.ceil(config.DOWNLOAD_URL_TTL / 1000);
    const fileName = assetFileName(asset);
    response.json({
      ...serializeAsset(asset),
      downloadUrl: await deps.storage.presignDownload(asset.objectKey, { expiresInSeconds: ttlSeconds, fileName }),
      previewUrl: await deps.storage.presignDownload(asset.previewKey, { expiresInSeconds: ttlSeconds, fileName: fileName.replace(/\.\w+$/, '-preview.webp') }),
      linkExpiresInSeconds: ttlSeconds,
    });
  });

  router.get('/assets/:id/download', requireScope('assets:read'), async (request, response) => {
    const asset = await findLiveAsset(request.params.id, principalOf(request).accountId);
    const fileName = assetFileName(asset);
    response.redirect(302, await deps.storage.presignDownload(asset.objectKey, { expiresInSeconds: Math.ceil(config.DOWNLOAD_URL_TTL / 1000), fileName }));
  });

  router.use(walletRouter(deps));

  router.get('/messages', requireScope('messages:read'), async (request, response) => {
    const { limit, unread } = messagesQuerySchema.parse(request.query);
    const accountId = principalOf(request).accountId;
    const [messages, unreadCount] = await Promise.all([
      prisma.message.findMany({
        where: { accountId, ...(unread ? { readAt: null } : {}) },
        orderBy: { createdAt: 'desc' },
        take: limit,
      }),
      prisma.message.count({ where: { accountId, readAt: null } }),
    ]);
    response.json({
      unreadCount,
      data: messages.map((message) => ({
        id: message.id,
        kind: message.kind,
        params: message.params,
        taskId: message.taskId,
        readAt: message.readAt?.toISOString() ?? null,
        createdAt: message.createdAt.toISOString(),
      })),
    });
  });

  router.post('/messages/read-all', requireScope('messages:read'), async (request, response) => {
    const { count } = await prisma.message.updateMany({ where: { accountId: principalOf(request).accountId, readAt: null }, data: { readAt: new Date() } });
    response.json({ marked: count, unreadCount: 0 });
  });

  router.post('/messages/:id/read', requireScope('messages:read'), async (request, response) => {
    const accountId = principalOf(request).accountId;
    const parsed = z.uuid().safeParse(request.params.id);
    const message = parsed.success ? await prisma.message.findFirst({ where: { id: parsed.data, accountId } }) : null;
    if (!message) throw new AppError('NOT_FOUND', 'Message not found');

    if (!message.readAt) await prisma.message.update({ where: { id: message.id }, data: { readAt: new Date() } });
    response.json({ id: message.id, unreadCount: await prisma.message.count({ where: { accountId, readAt: null } }) });
  });

  async function findLiveAsset(id: unknown, accountId: string) {
    const parsed = z.uuid().safeParse(id);
    const asset = parsed.success ? await prisma.taskAsset.findFirst({ where: { id: parsed.data, task: { accountId } } }) : null;
    if (!asset) throw new AppError('NOT_FOUND', 'Asset not found');
    if (asset.deletedAt || asset.expiresAt <= new Date()) {
      throw new AppError('GONE', 'The asset was deleted when its retention period ended', { expiredAt: asset.expiresAt.toISOString() });
    }
    return asset;
  }

  return router;
}

const messagesQuerySchema = z.object({
  limit: z.coerce.number().int().min(1).max(100).default(50),
  unread: z.enum(['true', 'false']).optional().transform((value) => value === 'true'),
});

/** Names a downloaded image after its task and position, keeping the stored file's extension. */
function assetFileName(asset: { taskId: string; index: number; objectKey: string }): string {
  return `novart-${asset.taskId.slice(0, 8)}-${asset.index + 1}.${asset.objectKey.split('.').pop()}`;
}

function principalOf(request: express.Request) {
  if (!request.principal) throw new AppError('UNAUTHENTICATED', 'Authentication required');
  return request.principal;
}
