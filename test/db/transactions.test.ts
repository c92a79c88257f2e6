import { randomUUID } from 'node:crypto';

import { AppError } from '../../lib/errors';
import { withSerializableRetry, type TransactionClient } from '../../lib/db/transactions';
import { createTestDatabase, type TestDatabase } from '../support/database';

describe('withSerializableRetry', () => {
  let database: TestDatabase;

  beforeAll(async () => {
    database = await createTestDatabase();
  });

  afterAll(async () => {
    await database.drop();
  });

  async function createWallet(balance: number): Promise<string> {
    const account = await database.prisma.account.create({
      data: { email: `${randomUUID()}@example.com`, webhookSecret: 'whsec_test', wallet: { create: { balance } } },
    });
    return account.id;
  }

  /**
   * Builds a read-then-write debit whose first two attempts wait until both have read,
   * so that they always collide: the second writer gets a serialization failure.
   */
  function collidingDebits(accountId: string) {
    let attempts = 0;
    let arrived = 0;
    let release!: () => void;
    const bothRead = new Promise<void>((resolve) => (release = resolve));

    const debit = async (tx: TransactionClient) => {
      attempts += 1;
      const first = attempts <= 2;
      const wallet = await tx.wallet.findUniqueOrThrow({ where: { accountId } });
      if (first) {
        arrived += 1;
        if (arrived === 2) release();
        await bothRead;
      }
      await tx.wallet.update({ where: { accountId }, data: { balance: wallet.balance - 1, version: wallet.version + 1 } });
    };
    return { debit, attempts: () => attempts };
  }

  it('retries a lost serialization conflict', async () => {
    const accountId = await createWallet(10);
    const { debit, attempts } = collidingDebits(accountId);

    await Promise.all([withSerializableRetry(database.prisma, debit), withSerializableRetry(database.prisma, debit)]);

    const wallet = await database.prisma.wallet.findUniqueOrThrow({ where: { accountId } });
    expect(wallet.balance).toBe(8);
    expect(wallet.version).toBe(2);
    expect(attempts()).toBe(3);
  });

  it('gives up with CONFLICT', async () => {
    const accountId = await createWallet(10);
    const { debit } = collidingDebits(accountId);

    const results = await Promise.allSettled([
      withSerializableRetry(database.prisma, debit, { maxAttempts: 1 }),
      withSerializableRetry(database.prisma, debit, { maxAttempts: 1 }),
    ]);

    const failures = results.flatMap((result) => (result.status === 'rejected' ? [result.reason as unknown] : []));
    expect(failures).toHaveLength(1);
    expect(failures[0]).toBeInstanceOf(AppError);
    expect((failures[0] as AppError).code).toBe('CONFLICT');
    const wallet = await database.prisma.wallet.findUniqueOrThrow({ where: { accountId } });
    expect(wallet.balance).toBe(9);
  });

  it('does not retry other errors', async () => {
    let attempts = 0;

    const run = withSerializableRetry(database.prisma, async () => {
      attempts += 1;
      throw new Error('not a conflict');
    });

    await expect(run).rejects.toThrow('not a conflict');
    expect(attempts).toBe(1);
  });

  it('returns the transaction result', async () => {
    const accountId = await createWallet(3);

    const balance = await withSerializableRetry(database.prisma, async (tx) => {
      const wallet = await tx.wallet.findUniqueOrThrow({ where: { accountId } });
      return wallet.balance;
    });

    expect(balance).toBe(3);
  });
});
