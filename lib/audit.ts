import type { Prisma, PrismaClient } from '../prisma/generated/client';

/** Actions of the account services; other modules name theirs the same way, `<subject>.<verb in past tense>`. */
export type AccountAuditAction =
  | 'account.ban'
  | 'account.unban'
  | 'account.password_changed'
  | 'account.password_reset'
  | 'api_key.created'
  | 'api_key.revoked'
  | 'webhook_secret.rotated';

export type AuditAction = AccountAuditAction | (string & {});

export interface AuditEntry {
  /** The account that acted; null for the operator's command line or the system itself. */
  actorId: string | null;
  action: AuditAction;
  targetAccountId?: string | null;
  reason?: string | null;
  metadata?: Prisma.InputJsonObject;
}

/** Writes one audit row, inside the caller's transaction when given one, so the row and the change commit together. */
export async function writeAudit(prisma: PrismaClient | Prisma.TransactionClient, entry: AuditEntry): Promise<void> {
  await prisma.auditLog.create({
    data: {
      actorId: entry.actorId,
      action: entry.action,
      targetAccountId: entry.targetAccountId ?? null,
      reason: entry.reason ?? null,
      metadata: entry.metadata ?? {},
    },
  });
}
