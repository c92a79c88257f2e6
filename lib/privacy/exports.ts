import { randomUUID } from 'node:crypto';
import { createReadStream } from 'node:fs';
import type { Client } from '@temporalio/client';
import type { AccountExport, PrismaClient } from '../../prisma/generated/client';
import type { accountExport } from '../../workflows/account-export';
import type { Config } from '../config';
import { AppError } from '../errors';
import type { Logger } from '../logger';
import type { ObjectStorage } from '../storage/types';
import { writeAccountArchive } from './export-archive';

/** Workflow id of an export: derived from the export id, so one export is never built twice. */
export function accountExportWorkflowId(exportId: string): string {
  return `account-export-${exportId}`;
}

export function exportObjectKey(accountId: string, exportId: string): string {
  return `exports/${accountId}/${exportId}.zip`;
}

export interface ExportRequestDependencies {
  prisma: PrismaClient;
  temporal: Client;
  config: Pick<Config, 'TEMPORAL_TASK_QUEUE' | 'EXPORT_RETENTION'>;
}

/** Records a pending export and starts the workflow that builds it; one export at a time per account. */
export async function requestAccountExport(deps: ExportRequestDependencies, accountId: string): Promise<AccountExport> {
  const { prisma, temporal, config } = deps;
  const pending = await prisma.accountExport.findFirst({ where: { accountId, status: 'pending' } });
  if (pending) throw new AppError('CONFLICT', 'An export is already being prepared', { exportId: pending.id });

  // expiresAt is provisional until the archive is ready, when retention starts.
  const id = randomUUID();
  const row = await prisma.accountExport.create({ data: { id, accountId, expiresAt: new Date(Date.now() + config.EXPORT_RETENTION) } });
  try {
    await temporal.workflow.start<typeof accountExport>('accountExport', {
      workflowId: accountExportWorkflowId(id),
      taskQueue: config.TEMPORAL_TASK_QUEUE,
      args: [{ exportId: id }],
    });
  } catch (error) {
    await prisma.accountExport.update({ where: { id }, data: { status: 'failed' } });
    throw new AppError('SERVICE_UNAVAILABLE', 'The export could not be started; try again later', { cause: String(error) });
  }
  return row;
}

/** Lists the account's exports, newest first, with a short-lived download link on the ready ones. */
export async function listAccountExports(deps: { prisma: PrismaClient; storage: ObjectStorage; config: Pick<Config, 'DOWNLOAD_URL_TTL'> }, accountId: string) {
  const rows = await deps.prisma.accountExport.findMany({ where: { accountId }, orderBy: { createdAt: 'desc' }, take: 20 });
  const now = new Date();

  return Promise.all(
    rows.map(async (row) => ({
      id: row.id,
      status: row.status,
      sizeBytes: row.sizeBytes,
      createdAt: row.createdAt.toISOString(),
      readyAt: row.readyAt?.toISOString() ?? null,
      expiresAt: row.expiresAt.toISOString(),
      downloadUrl:
        row.status === 'ready' && row.objectKey && row.expiresAt > now
          ? await deps.storage.presignDownload(row.objectKey, {
              expiresInSeconds: Math.max(1, Math.floor(deps.config.DOWNLOAD_URL_TTL / 1000)),
              fileName: `novart-export-${row.createdAt.toISOString().slice(0, 10)}.zip`,
              contentType: 'application/zip',
            })
          : null,
    })),
  );
}

export interface ExportBuildDependencies {
  prisma: PrismaClient;
  storage: ObjectStorage;
  config: Pick<Config, 'EXPORT_RETENTION'>;
  logger: Logger;
}

/**
 * Builds and stores the archive of a pending export, marks it ready and sends
 * the owner a message. Returns its expiry, or null when nothing is kept.
 * A retry is safe because the object key is fixed and a ready export is returned as is.
 */
export async function buildAccountExport(deps: ExportBuildDependencies, exportId: string): Promise<Date | null> {
  const { prisma, storage, logger } = deps;
  const row = await prisma.accountExport.findUnique({ where: { id: exportId }, include: { account: true } });
  if (!row) return null;
  if (row.status === 'ready') return row.expiresAt;
  if (row.status !== 'pending') return null;
  if (row.account.anonymizedAt) {
    await prisma.accountExport.update({ where: { id: exportId }, data: { status: 'failed' } });
    return null;
  }

  const objectKey = exportObjectKey(row.accountId, exportId);
  const archive = await writeAccountArchive({ prisma, storage }, row.accountId, exportId);
  try {
    await storage.put(objectKey, createReadStream(archive.path), { contentType: 'application/zip', contentLength: archive.sizeBytes });
  } finally {
    await archive.remove();
  }

  const readyAt = new Date();
  const expiresAt = new Date(readyAt.getTime() + deps.config.EXPORT_RETENTION);
  const erased = await prisma.$transaction(async (tx) => {
    const account = await tx.account.findUniqueOrThrow({ where: { id: row.accountId } });
    // The owner may have deleted the account while the archive was written.
    if (account.anonymizedAt) {
      await tx.accountExport.update({ where: { id: exportId }, data: { status: 'failed' } });
      return true;
    }
    await tx.accountExport.update({ where: { id: exportId }, data: { status: 'ready', objectKey, sizeBytes: archive.sizeBytes, readyAt, expiresAt } });
    await tx.message.upsert({
      where: { idempotencyKey: `export:${exportId}:ready` },
      create: {
        accountId: row.accountId,
        kind: 'export.ready',
        params: { exportId, expiresAt: expiresAt.toISOString() },
        idempotencyKey: `export:${exportId}:ready`,
      },
      update: {},
    });
    return false;
  });
  if (erased) {
    await storage.delete(objectKey);
    return null;
  }

  logger.info({ exportId, accountId: row.accountId, sizeBytes: archive.sizeBytes }, 'account export ready');
  return expiresAt;
}

/** Deletes an export's archive at the end of retention, or after a failed build. */
export async function deleteAccountExport(deps: Pick<ExportBuildDependencies, 'prisma' | 'storage'>, exportId: string): Promise<void> {
  const row = await deps.prisma.accountExport.findUnique({ where: { id: exportId } });
  if (!row) return;

  await deps.storage.delete(row.objectKey ?? exportObjectKey(row.accountId, exportId));
  await deps.prisma.accountExport.updateMany({ where: { id: exportId, status: { in: ['ready', 'pending'] } }, data: { status: row.status === 'ready' ? 'expired' : 'failed' } });
}
