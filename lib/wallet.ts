import { randomUUID } from 'node:crypto';
import type { LedgerKind, Prisma, PrismaClient } from '../prisma/generated/client';
import { writeAudit } from './audit';
import { AppError } from './errors';

/**
 * Wallet operations. Every change locks the wallet row, writes one ledger row
 * under a unique idempotency key and updates the balances in one transaction,
 * so a retried call never moves money twice and the balances always equal the
 * ledger sums. Credits are integers; CHECK constraints keep both buckets >= 0.
 */

export type Transaction = Prisma.TransactionClient;

export interface LedgerChange {
  ledgerEntryId: string;
  balanceDelta: number;
  bonusDelta: number;
  balanceAfter: number;
  bonusAfter: number;
  /** False when the idempotency key had already been used and nothing changed. */
  applied: boolean;
}

export function taskDebitKey(taskId: string): string {
  return `task:${taskId}:debit`;
}

export function taskRefundKey(taskId: string): string {
  return `task:${taskId}:refund`;
}

interface WalletRow {
  balance: number;
  bonus: number;
  lowBalanceNotified: boolean;
}

/** Low-balance threshold used when a caller passes none; the same as the LOW_BALANCE_THRESHOLD default. */
export const DEFAULT_LOW_BALANCE_THRESHOLD = 50;

async function lockWallet(tx: Transaction, accountId: string): Promise<WalletRow> {
  const rows = await tx.$queryRaw<WalletRow[]>`
    SELECT balance, bonus, low_balance_notified AS "lowBalanceNotified" FROM wallets WHERE account_id = ${accountId}::uuid FOR UPDATE`;
  const wallet = rows[0];
  if (!wallet) throw new AppError('NOT_FOUND', 'The account has no wallet');
  return wallet;
}

async function findEntry(tx: Transaction, idempotencyKey: string): Promise<LedgerChange | undefined> {
  const entry = await tx.ledgerEntry.findUnique({ where: { idempotencyKey } });
  if (!entry) return undefined;

  return {
    ledgerEntryId: entry.id,
    balanceDelta: entry.balanceDelta,
    bonusDelta: entry.bonusDelta,
    balanceAfter: entry.balanceAfter,
    bonusAfter: entry.bonusAfter,
    applied: false,
  };
}

async function applyChange(
  tx: Transaction,
  change: {
    accountId: string;
    kind: LedgerKind;
    balanceDelta: number;
    bonusDelta: number;
    wallet: WalletRow;
    idempotencyKey: string;
    taskId?: string;
    reference?: string;
    /** Set on debits: checks the low-balance message after the change. */
    lowBalanceThreshold?: number;
  },
): Promise<LedgerChange> {
  const balanceAfter = change.wallet.balance + change.balanceDelta;
  const bonusAfter = change.wallet.bonus + change.bonusDelta;

  await tx.wallet.update({
    where: { accountId: change.accountId },
    data: { balance: balanceAfter, bonus: bonusAfter, version: { increment: 1 } },
  });
  const entry = await tx.ledgerEntry.create({
    data: {
      accountId: change.accountId,
      kind: change.kind,
      balanceDelta: change.balanceDelta,
      bonusDelta: change.bonusDelta,
      balanceAfter,
      bonusAfter,
      taskId: change.taskId,
      reference: change.reference,
      idempotencyKey: change.idempotencyKey,
    },
  });

  if (change.lowBalanceThreshold !== undefined) {
    await noteLowBalance(tx, { accountId: change.accountId, ledgerEntryId: entry.id, before: change.wallet, balanceAfter, bonusAfter, threshold: change.lowBalanceThreshold });
  }

  return { ledgerEntryId: entry.id, balanceDelta: change.balanceDelta, bonusDelta: change.bonusDelta, balanceAfter, bonusAfter, applied: true };
}

/**
 * After a debit: sends one low-balance message when the credits fall below the
 * threshold, at most once per crossing. The flag is re-evaluated on every debit,
 * so a debit that starts at or above the threshold counts as a new crossing.
 */
async function noteLowBalance(
  tx: Transaction,
  input: { accountId: string; ledgerEntryId: string; before: WalletRow; balanceAfter: number; bonusAfter: number; threshold: number },
): Promise<void> {
  if (input.threshold <= 0) return;

  const totalBefore = input.before.balance + input.before.bonus;
  const totalAfter = input.balanceAfter + input.bonusAfter;
  const below = totalAfter < input.threshold;
  const alreadyNotified = totalBefore < input.threshold && input.before.lowBalanceNotified;
  if (below !== input.before.lowBalanceNotified) {
    await tx.wallet.update({ where: { accountId: input.accountId }, data: { lowBalanceNotified: below } });
  }
  if (!below || alreadyNotified) return;

  await tx.message.create({
    data: {
      accountId: input.accountId,
      kind: 'wallet.low_balance',
      params: { balance: input.balanceAfter, bonus: input.bonusAfter, total: totalAfter, threshold: input.threshold },
      idempotencyKey: `ledger:${input.ledgerEntryId}:low-balance`,
    },
  });
}

/**
 * Debits the price of a task, bonus credits first, then balance. Rejects with
 * INSUFFICIENT_FUNDS rather than going negative. Idempotent per task.
 */
export async function debitTask(
  tx: Transaction,
  input: { accountId: string; taskId: string; price: number; lowBalanceThreshold?: number },
): Promise<LedgerChange> {
  return debitWallet(tx, {
    accountId: input.accountId,
    kind: 'debit',
    amount: input.price,
    idempotencyKey: taskDebitKey(input.taskId),
    taskId: input.taskId,
    lowBalanceThreshold: input.lowBalanceThreshold,
  });
}

/**
 * Takes `amount` credits, bonus first, then balance, in one ledger row of
 * `kind`. Rejects with INSUFFICIENT_FUNDS rather than going negative.
 * Idempotent per key.
 */
export async function debitWallet(
  tx: Transaction,
  input: { accountId: string; kind: LedgerKind; amount: number; idempotencyKey: string; taskId?: string; reference?: string; lowBalanceThreshold?: number },
): Promise<LedgerChange> {
  if (!Number.isInteger(input.amount) || input.amount < 0) {
    throw new AppError('VALIDATION_FAILED', 'A debit must be a non-negative whole number of credits');
  }
  const wallet = await lockWallet(tx, input.accountId);
  const existing = await findEntry(tx, input.idempotencyKey);
  if (existing) return existing;

  if (wallet.balance + wallet.bonus < input.amount) {
    throw new AppError('INSUFFICIENT_FUNDS', 'The wallet does not hold enough credits', {
      price: input.amount,
      available: wallet.balance + wallet.bonus,
    });
  }
  const fromBonus = Math.min(wallet.bonus, input.amount);
  const fromBalance = input.amount - fromBonus;

  return applyChange(tx, {
    accountId: input.accountId,
    kind: input.kind,
    balanceDelta: -fromBalance,
    bonusDelta: -fromBonus,
    wallet,
    idempotencyKey: input.idempotencyKey,
    taskId: input.taskId,
    reference: input.reference,
    lowBalanceThreshold: input.lowBalanceThreshold ?? DEFAULT_LOW_BALANCE_THRESHOLD,
  });
}

/**
 * Refunds a task's debit, restoring the same split between bonus and balance.
 * Returns undefined when the task was never debited. Idempotent per task.
 */
export async function refundTask(tx: Transaction, input: { accountId: string; taskId: string }): Promise<LedgerChange | undefined> {
  const wallet = await lockWallet(tx, input.accountId);
  const existing = await findEntry(tx, taskRefundKey(input.taskId));
  if (existing) return existing;

  const debit = await tx.ledgerEntry.findUnique({ where: { idempotencyKey: taskDebitKey(input.taskId) } });
  if (!debit) return undefined;

  return applyChange(tx, {
    accountId: input.accountId,
    kind: 'refund',
    balanceDelta: -debit.balanceDelta,
    bonusDelta: -debit.bonusDelta,
    wallet,
    idempotencyKey: taskRefundKey(input.taskId),
    taskId: input.taskId,
    reference: debit.id,
  });
}

/** Adds credits (recharge, redemption, bonus, reward, adjustment). Idempotent per key. */
export async function creditWallet(
  tx: Transaction,
  input: { accountId: string; kind: LedgerKind; balance: number; bonus: number; idempotencyKey: string; reference?: string },
): Promise<LedgerChange> {
  if (!Number.isInteger(input.balance) || !Number.isInteger(input.bonus) || input.balance < 0 || input.bonus < 0) {
    throw new AppError('VALIDATION_FAILED', 'Credit amounts must be non-negative integers');
  }
  const wallet = await lockWallet(tx, input.accountId);
  const existing = await findEntry(tx, input.idempotencyKey);
  if (existing) return existing;

  return applyChange(tx, {
    accountId: input.accountId,
    kind: input.kind,
    balanceDelta: input.balance,
    bonusDelta: input.bonus,
    wallet,
    idempotencyKey: input.idempotencyKey,
    reference: input.reference,
  });
}

/**
 * Changes one bucket by a signed amount (an admin adjustment), in one ledger
 * row of kind `adjustment`. A debit larger than the bucket is INSUFFICIENT_FUNDS.
 * Idempotent per key.
 */
export async function adjustWallet(
  tx: Transaction,
  input: { accountId: string; bucket: 'balance' | 'bonus'; amount: number; idempotencyKey: string; reference?: string; lowBalanceThreshold?: number },
): Promise<LedgerChange> {
  if (!Number.isInteger(input.amount) || input.amount === 0) {
    throw new AppError('VALIDATION_FAILED', 'An adjustment must be a non-zero whole number of credits', { field: 'amount' });
  }
  const wallet = await lockWallet(tx, input.accountId);
  const existing = await findEntry(tx, input.idempotencyKey);
  if (existing) return existing;

  const available = input.bucket === 'balance' ? wallet.balance : wallet.bonus;
  if (available + input.amount < 0) {
    throw new AppError('INSUFFICIENT_FUNDS', `The ${input.bucket} bucket contains fewer credits than the debit`, { bucket: input.bucket, available });
  }

  return applyChange(tx, {
    accountId: input.accountId,
    kind: 'adjustment',
    balanceDelta: input.bucket === 'balance' ? input.amount : 0,
    bonusDelta: input.bucket === 'bonus' ? input.amount : 0,
    wallet,
    idempotencyKey: input.idempotencyKey,
    reference: input.reference,
    ...(input.amount < 0 ? { lowBalanceThreshold: input.lowBalanceThreshold ?? DEFAULT_LOW_BALANCE_THRESHOLD } : {}),
  });
}

/**
 * An admin's credit (positive amount) or debit (negative) of one bucket, with
 * a reason: the ledger row and the audit row naming the actor commit together.
 */
export async function adminAdjustWallet(
  prisma: PrismaClient,
  input: { actorId: string; accountId: string; bucket: 'balance' | 'bonus'; amount: number; reason: string; idempotencyKey?: string; lowBalanceThreshold?: number },
): Promise<LedgerChange> {
  const reason = input.reason.trim();
  if (reason === '') throw new AppError('VALIDATION_FAILED', 'An adjustment needs a reason', { field: 'reason' });
  const actor = await prisma.account.findUnique({ where: { id: input.actorId }, select: { role: true } });
  if (actor?.role !== 'admin') throw new AppError('FORBIDDEN', 'Only an admin may adjust a wallet');

  return prisma.$transaction(async (tx) => {
    const change = await adjustWallet(tx, {
      accountId: input.accountId,
      bucket: input.bucket,
      amount: input.amount,
      idempotencyKey: `adjustment:${input.idempotencyKey ?? randomUUID()}`,
      reference: `admin:${input.actorId}`,
      lowBalanceThreshold: input.lowBalanceThreshold,
    });
    if (change.applied) {
      await writeAudit(tx, {
        actorId: input.actorId,
        action: 'wallet.adjusted',
        targetAccountId: input.accountId,
        reason,
        metadata: { bucket: input.bucket, amount: input.amount, ledgerEntryId: change.ledgerEntryId },
      });
    }
    return change;
  });
}

/** Creates an empty wallet for a new account; a no-op if it exists. */
export async function ensureWallet(prisma: PrismaClient | Transaction, accountId: string): Promise<void> {
  await prisma.wallet.upsert({ where: { accountId }, create: { accountId }, update: {} });
}
