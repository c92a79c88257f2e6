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

/**
 * Writes the ledger row and the new balances in one statement, because every
 * task of an account waits on the wallet lock that the caller holds. A used
 * idempotency key skips both writes and returns the earlier ledger row.
 */
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
  const lowBalance = change.lowBalanceThreshold === undefined ? undefined : lowBalanceState(change.wallet, balanceAfter + bonusAfter, change.lowBalanceThreshold);

  const rows = await tx.$queryRaw<Array<{ id: string }>>`
    WITH entry AS (
      INSERT INTO ledger_entries (account_id, kind, balance_delta, bonus_delta, balance_after, bonus_after, task_id, reference, idempotency_key)
      VALUES (${change.accountId}::uuid, ${change.kind}::ledger_kind, ${change.balanceDelta}, ${change.bonusDelta}, ${balanceAfter}, ${bonusAfter},
              ${change.taskId ?? null}::uuid, ${change.reference ?? null}, ${change.idempotencyKey})
      ON CONFLICT (idempotency_key) DO NOTHING
      RETURNING id
    ), wallet AS (
      UPDATE wallets
      SET balance = ${balanceAfter}, bonus = ${bonusAfter}, version = version + 1, updated_at = now(),
          low_balance_notified = COALESCE(${lowBalance?.notified ?? null}::boolean, low_balance_notified)
      WHERE account_id = ${change.accountId}::uuid AND EXISTS (SELECT 1 FROM entry)
    )
    SELECT id::text FROM entry`;
  const ledgerEntryId = rows[0]?.id;
  if (ledgerEntryId === undefined) return (await findEntry(tx, change.idempotencyKey))!;

  if (lowBalance?.notifyOwner) {
    const total = balanceAfter + bonusAfter;
    await tx.message.create({
      data: {
        accountId: change.accountId,
        kind: 'wallet.low_balance',
        params: { balance: balanceAfter, bonus: bonusAfter, total, threshold: change.lowBalanceThreshold! },
        idempotencyKey: `ledger:${ledgerEntryId}:low-balance`,
      },
    });
  }
  return { ledgerEntryId, balanceDelta: change.balanceDelta, bonusDelta: change.bonusDelta, balanceAfter, bonusAfter, applied: true };
}

/**
 * Computes the low-balance flag after a debit and whether to notify the owner
 * now: when the total first falls below the threshold, and again only after
 * it rose above it in between.
 */
function lowBalanceState(before: WalletRow, totalAfter: number, threshold: number): { notified: boolean; notifyOwner: boolean } {
  if (threshold <= 0) return { notified: before.lowBalanceNotified, notifyOwner: false };

  const below = totalAfter < threshold;
  const alreadyNotified = before.balance + before.bonus < threshold && before.lowBalanceNotified;
  return { notified: below, notifyOwner: below && !alreadyNotified };
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
  if (wallet.balance + wallet.bonus < input.amount) {
    const existing = await findEntry(tx, input.idempotencyKey);
    if (existing) return existing;
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
  const available = input.bucket === 'balance' ? wallet.balance : wallet.bonus;
  if (available + input.amount < 0) {
    const existing = await findEntry(tx, input.idempotencyKey);
    if (existing) return existing;
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
