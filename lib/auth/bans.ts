import type { Appeal, PrismaClient } from '../../prisma/generated/client';
import { writeAudit } from '../audit';
import { withSerializableRetry } from '../db/transactions';
import { AppError } from '../errors';
import { endAccountSessions } from './session-store';

export interface BanInput {
  accountId: string;
  reason: string;
  /** The admin who acted; null for the operator's command line. */
  actorId: string | null;
}

/** Bans an account: it can no longer sign in or use its keys, its sessions end, and the ban is audited. */
export async function banAccount(prisma: PrismaClient, input: BanInput): Promise<void> {
  const reason = input.reason.trim();
  if (reason === '') throw new AppError('VALIDATION_FAILED', 'A ban needs a reason', { field: 'reason' });

  await prisma.$transaction(async (tx) => {
    await tx.account.update({ where: { id: input.accountId }, data: { bannedAt: new Date(), banReason: reason } });
    await endAccountSessions(tx, input.accountId);
    await writeAudit(tx, { actorId: input.actorId, action: 'account.ban', targetAccountId: input.accountId, reason });
  });
}

/** Lifts a ban and audits it. */
export async function unbanAccount(prisma: PrismaClient, input: BanInput): Promise<void> {
  await prisma.$transaction(async (tx) => {
    await tx.account.update({ where: { id: input.accountId }, data: { bannedAt: null, banReason: null } });
    await writeAudit(tx, { actorId: input.actorId, action: 'account.unban', targetAccountId: input.accountId, reason: input.reason.trim() || null });
  });
}

/** Files an appeal against a ban; an account has at most one open appeal. */
export async function fileAppeal(prisma: PrismaClient, accountId: string, message: string): Promise<Appeal> {
  // Serializable: two concurrent appeals would otherwise both see "no open appeal".
  return withSerializableRetry(prisma, async (tx) => {
    const account = await tx.account.findUniqueOrThrow({ where: { id: accountId } });
    if (!account.bannedAt) throw new AppError('CONFLICT', 'The account is not banned');

    const open = await tx.appeal.findFirst({ where: { accountId, status: 'open' } });
    if (open) throw new AppError('CONFLICT', 'An appeal is already open', { appealId: open.id });
    return tx.appeal.create({ data: { accountId, message } });
  });
}
