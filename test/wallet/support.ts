import { randomBytes, randomUUID } from 'node:crypto';
import { createAccount } from '../../lib/accounts';
import { creditWallet } from '../../lib/wallet';
import type { PrismaClient } from '../../prisma/generated/client';

/** Creates an account whose wallet contains `balance` paid and `bonus` free credits. */
export async function accountWith(prisma: PrismaClient, balance: number, bonus = 0, role: 'user' | 'admin' = 'user'): Promise<string> {
  const account = await createAccount(prisma, { email: `wallet-${randomBytes(5).toString('hex')}@example.test`, role });
  if (balance > 0 || bonus > 0) {
    await prisma.$transaction((tx) => creditWallet(tx, { accountId: account.id, kind: 'recharge', balance, bonus, idempotencyKey: `test:${account.id}` }));
  }
  return account.id;
}

/** Inserts a queued task row, which ledger rows of kind debit and refund refer to. */
export async function taskFor(prisma: PrismaClient, accountId: string, price: number, status: 'queued' | 'succeeded' | 'failed' = 'queued'): Promise<string> {
  const id = randomUUID();
  await prisma.task.create({
    data: { id, accountId, prompt: 'a test', model: 'test-model', width: 512, height: 512, imageCount: 1, price, status, workflowId: `task-${id}` },
  });
  return id;
}

/** Balance and bonus of a wallet next to the sums of its ledger. */
export async function walletAndLedger(prisma: PrismaClient, accountId: string) {
  const wallet = await prisma.wallet.findUniqueOrThrow({ where: { accountId } });
  const sums = await prisma.ledgerEntry.aggregate({ where: { accountId }, _sum: { balanceDelta: true, bonusDelta: true } });
  return { balance: wallet.balance, bonus: wallet.bonus, ledgerBalance: sums._sum.balanceDelta ?? 0, ledgerBonus: sums._sum.bonusDelta ?? 0 };
}
