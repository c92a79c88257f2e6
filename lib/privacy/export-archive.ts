import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Zip, ZipDeflate, ZipPassThrough } from 'fflate';
import type { PrismaClient } from '../../prisma/generated/client';
import { ObjectNotFoundError, type ObjectStorage } from '../storage/types';

/**
 * Writes the ZIP archive of one account's data: one JSON file per kind of
 * record, plus the generated images and reference uploads still in storage.
 * Secrets (password hash, API key hashes, session ids, webhook secrets) are left out.
 */
export async function writeAccountArchive(deps: { prisma: PrismaClient; storage: ObjectStorage }, accountId: string, exportId: string): Promise<ArchiveFile> {
  const { prisma, storage } = deps;
  const directory = await mkdtemp(path.join(os.tmpdir(), 'novart-export-'));
  const filePath = path.join(directory, `${exportId}.zip`);
  const writer = new ZipWriter(filePath);

  try {
    const account = await prisma.account.findUniqueOrThrow({ where: { id: accountId } });
    await writer.addJson('account.json', {
      id: account.id,
      email: account.email,
      displayName: account.displayName,
      locale: account.locale,
      role: account.role,
      emailVerifiedAt: account.emailVerifiedAt,
      createdAt: account.createdAt,
      lastSignInAt: account.lastSignInAt,
      bannedAt: account.bannedAt,
      banReason: account.banReason,
      inviteCode: account.inviteCode,
    });

    const wallet = await prisma.wallet.findUnique({ where: { accountId } });
    const ledger = await prisma.ledgerEntry.findMany({ where: { accountId }, orderBy: [{ createdAt: 'asc' }, { id: 'asc' }] });
    await writer.addJson('wallet.json', {
      balance: wallet?.balance ?? 0,
      bonus: wallet?.bonus ?? 0,
      updatedAt: wallet?.updatedAt ?? null,
      ledger: ledger.map((entry) => ({
        id: entry.id,
        kind: entry.kind,
        balanceDelta: entry.balanceDelta,
        bonusDelta: entry.bonusDelta,
        balanceAfter: entry.balanceAfter,
        bonusAfter: entry.bonusAfter,
        taskId: entry.taskId,
        reference: entry.reference,
        createdAt: entry.createdAt,
      })),
    });

    // Tasks and their images: the images that are still stored go into the archive next to the JSON.
    const now = new Date();
    const tasks = await prisma.task.findMany({ where: { accountId }, orderBy: { createdAt: 'asc' }, include: { assets: { orderBy: { index: 'asc' } } } });
    const taskRecords = [];
    for (const task of tasks) {
      const assets = [];
      for (const asset of task.assets) {
        const stored = asset.deletedAt === null && asset.expiresAt > now;
        const file = stored ? await writer.addObject(storage, asset.objectKey, `images/${task.id}/${path.posix.basename(asset.objectKey)}`) : null;
        assets.push({ id: asset.id, index: asset.index, mimeType: asset.mimeType, width: asset.width, height: asset.height, sizeBytes: asset.sizeBytes, createdAt: asset.createdAt, expiresAt: asset.expiresAt, file });
      }
      const { accountId: _owner, requestHash: _hash, workflowId: _workflow, assets: _rows, ...fields } = task;
      taskRecords.push({ ...fields, assets });
    }
    await writer.addJson('tasks.json', taskRecords);

    const uploads = await prisma.referenceUpload.findMany({ where: { accountId }, orderBy: { createdAt: 'asc' } });
    const uploadRecords = [];
    for (const upload of uploads) {
      const stored = upload.deletedAt === null && upload.expiresAt > now;
      const file = stored ? await writer.addObject(storage, upload.objectKey, `uploads/${path.posix.basename(upload.objectKey)}`) : null;
      uploadRecords.push({ id: upload.id, mimeType: upload.mimeType, width: upload.width, height: upload.height, sizeBytes: upload.sizeBytes, createdAt: upload.createdAt, expiresAt: upload.expiresAt, file });
    }
    await writer.addJson('uploads.json', uploadRecords);

    const messages = await prisma.message.findMany({ where: { accountId }, orderBy: { createdAt: 'asc' } });
    await writer.addJson(
      'messages.json',
      messages.map((message) => ({ id: message.id, kind: message.kind, params: message.params, taskId: message.taskId, readAt: message.readAt, createdAt: message.createdAt })),
    );

    const keys = await prisma.apiKey.findMany({ where: { accountId }, orderBy: { createdAt: 'asc' } });
    await writer.addJson(
      'api-keys.json',
      keys.map((key) => ({
        id: key.id,
        name: key.name,
        prefix: key.prefix,
        scopes: key.scopes,
        requestsPerMinute: key.requestsPerMinute,
        creditsPerDay: key.creditsPerDay,
        createdAt: key.createdAt,
        lastUsedAt: key.lastUsedAt,
        expiresAt: key.expiresAt,
        revokedAt: key.revokedAt,
      })),
    );

    // NOTE: the whole request log (API_REQUEST_LOG_RETENTION, 90 days by default) is read in one query.
    const requestLogs = await prisma.apiRequestLog.findMany({ where: { accountId }, orderBy: { createdAt: 'asc' } });
    await writer.addJson(
      'api-request-logs.json',
      requestLogs.map(({ accountId: _owner, ...fields }) => fields),
    );

    const deliveries = await prisma.webhookDelivery.findMany({
      where: { task: { accountId } },
      orderBy: { createdAt: 'asc' },
      include: { attempts: { orderBy: { attemptNumber: 'asc' } } },
    });
    await writer.addJson(
      'webhook-deliveries.json',
      deliveries.map((delivery) => ({
        ...delivery,
        attempts: delivery.attempts.map(({ deliveryId: _delivery, ...fields }) => fields),
      })),
    );

    const referrals = await prisma.referral.findMany({ where: { OR: [{ inviterId: accountId }, { inviteeId: accountId }] }, orderBy: { createdAt: 'asc' } });
    await writer.addJson(
      'referrals.json',
      // Other people's ids are personal data of theirs, so an invitee appears only as a role.
      referrals.map((referral) => ({
        role: referral.inviterId === accountId ? 'inviter' : 'invitee',
        createdAt: referral.createdAt,
        rewardedAt: referral.rewardedAt,
      })),
    );

    const redemptions = await prisma.redemptionCode.findMany({ where: { redeemedById: accountId }, orderBy: { redeemedAt: 'asc' }, include: { batch: true } });
    await writer.addJson(
      'redemptions.json',
      redemptions.map((code) => ({ id: code.id, redeemedAt: code.redeemedAt, faceValue: code.batch.faceValue, bonus: code.batch.bonus })),
    );

    const appeals = await prisma.appeal.findMany({ where: { accountId }, orderBy: { createdAt: 'asc' } });
    await writer.addJson(
      'appeals.json',
      appeals.map((appeal) => ({ id: appeal.id, message: appeal.message, status: appeal.status, createdAt: appeal.createdAt, resolvedAt: appeal.resolvedAt, resolution: appeal.resolution })),
    );

    const blocked = await prisma.blockedPrompt.findMany({ where: { accountId }, orderBy: { createdAt: 'asc' } });
    await writer.addJson(
      'blocked-prompts.json',
      blocked.map((row) => ({ id: row.id, promptExcerpt: row.promptExcerpt, rule: row.rule, createdAt: row.createdAt })),
    );

    const sessions = await prisma.userSession.findMany({ where: { accountId }, orderBy: { createdAt: 'asc' } });
    await writer.addJson(
      'sessions.json',
      sessions.map((session) => {
        const client = (session.data as { client?: { userAgent?: unknown; ip?: unknown } } | null)?.client;
        return {
          createdAt: session.createdAt,
          expiresAt: session.expiresAt,
          userAgent: typeof client?.userAgent === 'string' ? client.userAgent : null,
          ip: typeof client?.ip === 'string' ? client.ip : null,
        };
      }),
    );

    await writer.addJson('export.json', { exportId, accountId, createdAt: now, files: writer.names });
    await writer.finish();
    return { path: filePath, sizeBytes: (await stat(filePath)).size, remove: () => rm(directory, { recursive: true, force: true }) };
  } catch (error) {
    writer.abort();
    await rm(directory, { recursive: true, force: true });
    throw error;
  }
}

export interface ArchiveFile {
  path: string;
  sizeBytes: number;
  /** Deletes the temporary file. */
  remove(): Promise<void>;
}

/** Streams a ZIP archive to a file, one entry at a time, waiting for the disk between entries. */
class ZipWriter {
  readonly names: string[] = [];
  private readonly output;
  private readonly zip = new Zip();
  private readonly finished: Promise<void>;

  constructor(filePath: string) {
    this.output = createWriteStream(filePath);
    this.finished = new Promise((resolve, reject) => {
      this.output.once('error', reject);
      this.zip.ondata = (error, chunk, final) => {
        if (error) {
          reject(error);
          return;
        }
        this.output.write(chunk);
        if (final) this.output.end(() => resolve());
      };
    });
    // The rejection is observed by finish(); this keeps an early failure from being reported as unhandled.
    this.finished.catch(() => {});
  }

  async addJson(name: string, value: unknown): Promise<void> {
    const entry = new ZipDeflate(name, { level: 6 });
    this.zip.add(entry);
    entry.push(Buffer.from(`${JSON.stringify(value, null, 2)}\n`), true);
    this.names.push(name);
    await this.drain();
  }

  /** Copies a stored object into the archive; returns its name there, or null when it is already gone from storage. */
  async addObject(storage: ObjectStorage, key: string, name: string): Promise<string | null> {
    let object;
    try {
      object = await storage.get(key);
    } catch (error) {
      if (error instanceof ObjectNotFoundError) return null;
      throw error;
    }

    // Images are compressed already, so they are stored as they are.
    const entry = new ZipPassThrough(name);
    this.zip.add(entry);
    for await (const chunk of object.body) {
      entry.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as Uint8Array));
      await this.drain();
    }
    entry.push(new Uint8Array(0), true);
    this.names.push(name);
    return name;
  }

  async finish(): Promise<void> {
    this.zip.end();
    await this.finished;
  }

  abort(): void {
    this.zip.terminate();
    this.output.destroy();
  }

  private async drain(): Promise<void> {
    if (this.output.writableNeedDrain) await once(this.output, 'drain');
  }
}
