import type { LedgerKind, Prisma, PrismaClient } from '../prisma/generated/client';
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
}

async function lockWallet(tx: Transaction, accountId: string): Promise<WalletRow> {
  const rows = await tx.$queryRaw<WalletRow[]>`
    SELECT balance, bonus FROM wallets WHERE account_id = ${accountId}::uuid FOR UPDATE`;
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

  return { ledgerEntryId: entry.id, balanceDelta: change.balanceDelta, bonusDelta: change.bonusDelta, balanceAfter, bonusAfter, applied: true };
}

/**
 * Debits the price of a task, bonus credits first, then balance. Rejects with
 * INSUFFICIENT_FUNDS rather than going negative. Idempotent per task.
 */
export async function debitTask(tx: Transaction, input: { accountId: string; taskId: string; price: number }): Promise<LedgerChange> {
  const wallet = await lockWallet(tx, input.accountId);
  const existing = await findEntry(tx, taskDebitKey(input.taskId));
  if (existing) return existing;

  if (wallet.balance + wallet.bonus < input.price) {
    throw new AppError('INSUFFICIENT_FUNDS', 'The wallet does not hold enough credits for this task', {
      price: input.price,
      available: wallet.balance + wallet.bonus,
    });
  }
  const fromBonus = Math.min(wallet.bonus, input.price);
  const fromBalance = input.price - fromBonus;

  return applyChange(tx, {
    accountId: input.accountId,
    kind: 'debit',
    balanceDelta: -fromBalance,
    bonusDelta: -fromBonus,
    wallet,
    idempotencyKey: taskDebitKey(input.taskId),
    taskId: input.taskId,
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

/** Creates an empty wallet for a new account; a no-op if it exists. */
export async function ensureWallet(prisma: PrismaClient | Transaction, accountId: string): Promise<void> {
  await prisma.wallet.upsert({ where: { accountId }, create: { accountId }, update: {} });
}
