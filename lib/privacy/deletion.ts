import type { Client } from '@temporalio/client';
import { Prisma, type PrismaClient } from '../../prisma/generated/client';
import { cancelTaskSignal } from '../../workflows/definitions';
import { writeAudit } from '../audit';
import { verifyPassword } from '../auth/passwords';
import { endAccountSessions } from '../auth/session-store';
import { AppError } from '../errors';
import type { Logger } from '../logger';
import type { ObjectStorage } from '../storage/types';

export interface AccountDeletionDependencies {
  prisma: PrismaClient;
  storage: ObjectStorage;
  temporal: Client;
  logger: Logger;
}

/** Returns the address an erased account keeps: unique, lower-case and undeliverable. */
export function erasedEmail(accountId: string): string {
  return `deleted-${accountId}@invalid`;
}

/**
 * Deletes an account on its owner's request, after checking the password.
 * Personal data is erased in one transaction; the ledger, redemption records,
 * audit log and task rows stay as financial and audit records. Stored files
 * are deleted after the commit.
 */
export async function deleteAccount(deps: AccountDeletionDependencies, accountId: string, password: string): Promise<void> {
  const { prisma, logger } = deps;
  const account = await prisma.account.findUniqueOrThrow({ where: { id: accountId } });
  if (account.anonymizedAt || !(await verifyPassword(account.passwordHash, password))) {
    throw new AppError('INVALID_CREDENTIALS', 'The password is wrong', { field: 'password' });
  }

  await prisma.$transaction(async (tx) => {
    const now = new Date();
    await tx.account.update({
      where: { id: accountId },
      data: {
        email: erasedEmail(accountId),
        displayName: null,
        passwordHash: null,
        inviteCode: null,
        previousWebhookSecret: null,
        previousWebhookSecretExpiresAt: null,
        anonymizedAt: now,
      },
    });
    await tx.apiKey.updateMany({ where: { accountId, revokedAt: null }, data: { revokedAt: now } });
    await endAccountSessions(tx, accountId);
    await tx.emailToken.deleteMany({ where: { accountId } });

    await tx.task.updateMany({ where: { accountId }, data: { prompt: '', webhookUrl: null } });
    await tx.task.updateMany({ where: { accountId, negativePrompt: { not: null } }, data: { negativePrompt: '' } });
    await tx.webhookDelivery.updateMany({ where: { task: { accountId }, status: 'pending' }, data: { status: 'failed' } });
    await tx.webhookDelivery.updateMany({ where: { task: { accountId } }, data: { url: '' } });
    await tx.blockedPrompt.updateMany({ where: { accountId }, data: { promptExcerpt: '' } });
    await tx.appeal.updateMany({ where: { accountId }, data: { message: '' } });

    await tx.apiRequestLog.updateMany({
      where: { accountId },
      data: { requestSummary: Prisma.DbNull, responseSummary: Prisma.DbNull, userAgent: null, ip: null },
    });
    await tx.message.deleteMany({ where: { accountId } });
    await writeAudit(tx, { actorId: accountId, action: 'account.deleted', targetAccountId: accountId });
  });
  logger.info({ accountId }, 'account deleted on request');

  await cancelActiveTasks(deps, accountId);
  await deleteStoredObjects(deps, accountId);
}

/** Cancels queued and running tasks, whose workflows refund them; a task that cannot be signalled finishes on its own. */
async function cancelActiveTasks(deps: AccountDeletionDependencies, accountId: string): Promise<void> {
  const active = await deps.prisma.task.findMany({ where: { accountId, status: { in: ['queued', 'running'] } }, select: { id: true, workflowId: true } });
  for (const task of active) {
    try {
      await deps.temporal.workflow.getHandle(task.workflowId).signal(cancelTaskSignal);
    } catch (error) {
      deps.logger.warn({ err: error, taskId: task.id }, 'could not cancel a task of a deleted account');
    }
  }
}

/**
 * Deletes every stored file of the account: results, previews, uploads and exports.
 * NOTE: a file whose deletion fails here stays until its own retention workflow deletes it.
 */
async function deleteStoredObjects(deps: AccountDeletionDependencies, accountId: string): Promise<void> {
  const { prisma, storage, logger } = deps;
  const attempt = async (what: Record<string, string>, action: () => Promise<void>) => {
    try {
      await action();
    } catch (error) {
      logger.warn({ err: error, accountId, ...what }, 'could not delete a stored file of a deleted account');
    }
  };

  const assets = await prisma.taskAsset.findMany({ where: { task: { accountId }, deletedAt: null } });
  for (const asset of assets) {
    await attempt({ assetId: asset.id }, async () => {
      await storage.delete(asset.objectKey);
      await storage.delete(asset.previewKey);
      await prisma.taskAsset.update({ where: { id: asset.id }, data: { deletedAt: new Date() } });
    });
  }

  const uploads = await prisma.referenceUpload.findMany({ where: { accountId, deletedAt: null } });
  for (const upload of uploads) {
    await attempt({ uploadId: upload.id }, async () => {
      await storage.delete(upload.objectKey);
      await prisma.referenceUpload.update({ where: { id: upload.id }, data: { deletedAt: new Date() } });
    });
  }

  const archives = await prisma.accountExport.findMany({ where: { accountId, status: { in: ['pending', 'ready'] } } });
  for (const row of archives) {
    await attempt({ exportId: row.id }, async () => {
      if (row.objectKey) await storage.delete(row.objectKey);
      await prisma.accountExport.update({ where: { id: row.id }, data: { status: row.status === 'ready' ? 'expired' : 'failed' } });
    });
  }
}
