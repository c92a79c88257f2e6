import fc from 'fast-check';
import { AppError } from '../../lib/errors';
import { withSerializableRetry } from '../../lib/db/transactions';
import { createRedemptionBatch, redeemCode } from '../../lib/redemption';
import { adminAdjustWallet, adjustWallet, creditWallet, debitTask, debitWallet, refundTask } from '../../lib/wallet';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { accountWith, taskFor, walletAndLedger } from './support';

jest.setTimeout(300_000);

let database: TestDatabase;

beforeAll(async () => {
  database = await createTestDatabase();
});

afterAll(async () => {
  await database.drop();
});

const redemption = { failureLimit: { limit: 1_000, windowMs: 60_000 }, inviterReward: 0 };

type Operation =
  | { type: 'debit'; task: number }
  | { type: 'refund'; task: number }
  | { type: 'redeem'; account: number; code: number }
  | { type: 'adjust'; account: number; bucket: 'balance' | 'bonus'; amount: number };

const operation: fc.Arbitrary<Operation> = fc.oneof(
  fc.record({ type: fc.constant('debit' as const), task: fc.nat(5) }),
  fc.record({ type: fc.constant('refund' as const), task: fc.nat(5) }),
  fc.record({ type: fc.constant('redeem' as const), account: fc.nat(2), code: fc.nat(2) }),
  fc.record({ type: fc.constant('adjust' as const), account: fc.nat(2), bucket: fc.constantFrom('balance' as const, 'bonus' as const), amount: fc.integer({ min: -60, max: 60 }).filter((amount) => amount !== 0) }),
);

const EXPECTED_REFUSALS = new Set(['INSUFFICIENT_FUNDS', 'REDEMPTION_CODE_ALREADY_REDEEMED']);

describe('ledger invariants', () => {
  test('hold under random concurrent debits, refunds, redemptions and adjustments', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.tuple(fc.nat(80), fc.nat(80)), { minLength: 3, maxLength: 3 }),
        fc.array(fc.integer({ min: 1, max: 70 }), { minLength: 6, maxLength: 6 }),
        fc.array(operation, { minLength: 5, maxLength: 30 }),
        async (funds, prices, operations) => {
          const accounts = await Promise.all(funds.map(([balance, bonus]) => accountWith(database.prisma, balance, bonus)));
          const tasks = await Promise.all(prices.map((price, index) => taskFor(database.prisma, accounts[index % accounts.length]!, price)));
          const { codes } = await createRedemptionBatch(database.prisma, { faceValue: 25, bonus: 5, count: 3, label: 'property', createdById: null });

          const results = await Promise.allSettled(
            operations.map((step, index) => {
              if (step.type === 'redeem') return redeemCode(database.prisma, { accountId: accounts[step.account]!, code: codes[step.code]! }, redemption);

              return withSerializableRetry(
                database.prisma,
                (tx) => {
                  if (step.type === 'debit') {
                    return debitTask(tx, { accountId: accounts[step.task % accounts.length]!, taskId: tasks[step.task]!, price: prices[step.task]! });
                  }
                  if (step.type === 'refund') return refundTask(tx, { accountId: accounts[step.task % accounts.length]!, taskId: tasks[step.task]! });
                  return adjustWallet(tx, { accountId: accounts[step.account]!, bucket: step.bucket, amount: step.amount, idempotencyKey: `property:${tasks[0]}:${index}` });
                },
                { maxAttempts: 20 },
              );
            }),
          );

          for (const result of results) {
            if (result.status === 'rejected') {
              expect(result.reason).toBeInstanceOf(AppError);
              expect(EXPECTED_REFUSALS).toContain((result.reason as AppError).code);
            }
          }
          for (const accountId of accounts) {
            const state = await walletAndLedger(database.prisma, accountId);
            expect(state.balance).toBe(state.ledgerBalance);
            expect(state.bonus).toBe(state.ledgerBonus);
            expect(state.balance).toBeGreaterThanOrEqual(0);
            expect(state.bonus).toBeGreaterThanOrEqual(0);
          }
          const entries = await database.prisma.ledgerEntry.findMany({ where: { accountId: { in: accounts } } });
          for (const entry of entries) {
            expect(entry.balanceAfter).toBeGreaterThanOrEqual(0);
            expect(entry.bonusAfter).toBeGreaterThanOrEqual(0);
          }
          for (const refund of entries.filter((entry) => entry.kind === 'refund')) {
            const debits = entries.filter((entry) => entry.kind === 'debit' && entry.taskId === refund.taskId);
            expect(debits).toHaveLength(1);
            expect(refund.balanceDelta + debits[0]!.balanceDelta).toBe(0);
            expect(refund.bonusDelta + debits[0]!.bonusDelta).toBe(0);
          }
          const redeemed = await database.prisma.redemptionCode.count({ where: { redeemedAt: { not: null }, redeemedById: { in: accounts } } });
          expect(entries.filter((entry) => entry.kind === 'redemption')).toHaveLength(redeemed);
        },
      ),
      { numRuns: 60 },
    );
  });
});

describe('wallet changes', () => {
  test('debits take bonus first and refunds restore the split', async () => {
    const accountId = await accountWith(database.prisma, 100, 30);
    const taskId = await taskFor(database.prisma, accountId, 50);

    const debit = await database.prisma.$transaction((tx) => debitTask(tx, { accountId, taskId, price: 50 }));
    const refund = await database.prisma.$transaction((tx) => refundTask(tx, { accountId, taskId }));

    expect([debit.bonusDelta, debit.balanceDelta]).toEqual([-30, -20]);
    expect([refund?.bonusDelta, refund?.balanceDelta]).toEqual([30, 20]);
  });

  test('a debit beyond the credits changes nothing', async () => {
    const accountId = await accountWith(database.prisma, 10, 5);

    const debit = database.prisma.$transaction((tx) => debitWallet(tx, { accountId, kind: 'debit', amount: 16, idempotencyKey: `over:${accountId}` }));

    await expect(debit).rejects.toMatchObject({ code: 'INSUFFICIENT_FUNDS' });
    expect(await walletAndLedger(database.prisma, accountId)).toEqual({ balance: 10, bonus: 5, ledgerBalance: 10, ledgerBonus: 5 });
  });

  test('a repeated idempotency key moves money once', async () => {
    const accountId = await accountWith(database.prisma, 0);
    const credit = () => database.prisma.$transaction((tx) => creditWallet(tx, { accountId, kind: 'recharge', balance: 40, bonus: 0, idempotencyKey: `once:${accountId}` }));

    const results = await Promise.all([credit(), credit(), credit()]);

    expect(results.filter((result) => result.applied)).toHaveLength(1);
    expect((await walletAndLedger(database.prisma, accountId)).balance).toBe(40);
  });
});

describe('low-balance message', () => {
  async function debit(accountId: string, amount: number, key: string) {
    await database.prisma.$transaction((tx) => debitWallet(tx, { accountId, kind: 'debit', amount, idempotencyKey: `${accountId}:${key}`, lowBalanceThreshold: 50 }));
  }

  async function lowBalanceMessages(accountId: string) {
    return database.prisma.message.count({ where: { accountId, kind: 'wallet.low_balance' } });
  }

  test('is sent once when the credits fall below the threshold', async () => {
    const accountId = await accountWith(database.prisma, 100);

    await debit(accountId, 30, 'a');
    const above = await lowBalanceMessages(accountId);
    await debit(accountId, 30, 'b');
    await debit(accountId, 10, 'c');

    expect(above).toBe(0);
    expect(await lowBalanceMessages(accountId)).toBe(1);
  });

  test('is sent again after the credits rose above the threshold', async () => {
    const accountId = await accountWith(database.prisma, 60);
    await debit(accountId, 20, 'a');

    await database.prisma.$transaction((tx) => creditWallet(tx, { accountId, kind: 'recharge', balance: 100, bonus: 0, idempotencyKey: `${accountId}:top-up` }));
    await debit(accountId, 100, 'b');

    expect(await lowBalanceMessages(accountId)).toBe(2);
  });

  test('is not sent again after a top-up that stays below', async () => {
    const accountId = await accountWith(database.prisma, 60);
    await debit(accountId, 20, 'a');

    await database.prisma.$transaction((tx) => creditWallet(tx, { accountId, kind: 'recharge', balance: 5, bonus: 0, idempotencyKey: `${accountId}:top-up` }));
    await debit(accountId, 5, 'b');

    expect(await lowBalanceMessages(accountId)).toBe(1);
  });
});

describe('admin adjustment', () => {
  test('writes the ledger row and an audit row naming the actor', async () => {
    const adminId = await accountWith(database.prisma, 0, 0, 'admin');
    const accountId = await accountWith(database.prisma, 100);

    const change = await adminAdjustWallet(database.prisma, { actorId: adminId, accountId, bucket: 'balance', amount: -40, reason: 'duplicate top-up' });

    const entry = await database.prisma.ledgerEntry.findUniqueOrThrow({ where: { id: change.ledgerEntryId } });
    const audit = await database.prisma.auditLog.findFirstOrThrow({ where: { targetAccountId: accountId, action: 'wallet.adjusted' } });
    expect(entry.kind).toBe('adjustment');
    expect(entry.balanceDelta).toBe(-40);
    expect(audit.actorId).toBe(adminId);
    expect(audit.reason).toBe('duplicate top-up');
    expect(audit.metadata).toMatchObject({ amount: -40, bucket: 'balance', ledgerEntryId: change.ledgerEntryId });
  });

  test('refuses an actor who is not an admin', async () => {
    const userId = await accountWith(database.prisma, 0);
    const accountId = await accountWith(database.prisma, 100);

    const adjustment = adminAdjustWallet(database.prisma, { actorId: userId, accountId, bucket: 'bonus', amount: 10, reason: 'gift' });

    await expect(adjustment).rejects.toMatchObject({ code: 'FORBIDDEN' });
    expect((await walletAndLedger(database.prisma, accountId)).bonus).toBe(0);
  });

  test('refuses a debit larger than the bucket', async () => {
    const adminId = await accountWith(database.prisma, 0, 0, 'admin');
    const accountId = await accountWith(database.prisma, 100, 10);

    const adjustment = adminAdjustWallet(database.prisma, { actorId: adminId, accountId, bucket: 'bonus', amount: -11, reason: 'correction' });

    await expect(adjustment).rejects.toMatchObject({ code: 'INSUFFICIENT_FUNDS' });
    expect(await database.prisma.auditLog.count({ where: { targetAccountId: accountId } })).toBe(0);
  });
});
