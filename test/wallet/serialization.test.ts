import { Prisma } from '../../prisma/generated/client';
import { isSerializationFailure, withSerializableRetry, type TransactionClient } from '../../lib/db/transactions';
import { adjustWallet } from '../../lib/wallet';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { accountWith, walletAndLedger } from './support';

let database: TestDatabase;

beforeAll(async () => {
  database = await createTestDatabase();
});

afterAll(async () => {
  await database.drop();
});

/** Resolves once `count` callers have arrived. */
function barrier(count: number) {
  let arrived = 0;
  let release!: () => void;
  const all = new Promise<void>((resolve) => (release = resolve));
  return async () => {
    arrived += 1;
    if (arrived === count) release();
    await all;
  };
}

/**
 * Two adjustments of the same wallet that both read it before either writes:
 * the second writer fails on its statement (a P2034 request error).
 */
function sameWalletCollision(accountId: string) {
  const bothRead = barrier(2);
  let calls = 0;
  return async (tx: TransactionClient) => {
    calls += 1;
    const first = calls <= 2;
    await tx.wallet.findUniqueOrThrow({ where: { accountId } });
    if (first) await bothRead();
    return adjustWallet(tx, { accountId, bucket: 'balance', amount: 5, idempotencyKey: `same:${accountId}:${calls}` });
  };
}

/**
 * Write skew: each adjustment reads the other wallet and writes its own, so
 * neither statement blocks, and PostgreSQL aborts the second COMMIT (a bare
 * DriverAdapterError).
 */
function writeSkew(accountIds: [string, string]) {
  const bothWrote = barrier(2);
  let calls = 0;
  let firstCommitted!: () => void;
  const committed = new Promise<void>((resolve) => (firstCommitted = resolve));
  return (side: 0 | 1) => async (tx: TransactionClient) => {
    calls += 1;
    const first = calls <= 2;
    let arrived = false;
    try {
      await tx.$queryRaw`SELECT sum(balance) FROM wallets WHERE account_id IN (${accountIds[0]}::uuid, ${accountIds[1]}::uuid)`;
      const change = await adjustWallet(tx, { accountId: accountIds[side], bucket: 'balance', amount: 5, idempotencyKey: `skew:${accountIds[side]}:${calls}` });
      if (first) {
        arrived = true;
        await bothWrote();
        if (side === 1) await committed;
      }
      return change;
    } finally {
      // Under load another transaction can abort a first attempt early; the partner must not wait for it forever.
      if (first && !arrived) void bothWrote();
      if (first && side === 0) setImmediate(firstCommitted);
    }
  };
}

async function captureFailure(run: Promise<unknown>[]): Promise<unknown> {
  const results = await Promise.allSettled(run);
  const failures = results.flatMap((result) => (result.status === 'rejected' ? [result.reason as unknown] : []));
  expect(failures).toHaveLength(1);
  return failures[0];
}

const serializable = { isolationLevel: Prisma.TransactionIsolationLevel.Serializable };

describe('serialization conflicts', () => {
  test('a conflict on a statement is a P2034 request error', async () => {
    const accountId = await accountWith(database.prisma, 0);
    const adjust = sameWalletCollision(accountId);

    const failure = await captureFailure([database.prisma.$transaction(adjust, serializable), database.prisma.$transaction(adjust, serializable)]);

    expect(failure).toBeInstanceOf(Prisma.PrismaClientKnownRequestError);
    expect(isSerializationFailure(failure)).toBe(true);
  });

  test('a conflict at commit is a bare DriverAdapterError', async () => {
    const accounts: [string, string] = [await accountWith(database.prisma, 0), await accountWith(database.prisma, 0)];
    const adjust = writeSkew(accounts);

    const failure = await captureFailure([database.prisma.$transaction(adjust(0), serializable), database.prisma.$transaction(adjust(1), serializable)]);

    expect((failure as Error).name).toBe('DriverAdapterError');
    expect(isSerializationFailure(failure)).toBe(true);
  });

  test('both kinds are retried until every change applies once', async () => {
    const accountId = await accountWith(database.prisma, 0);
    const skewed: [string, string] = [await accountWith(database.prisma, 0), await accountWith(database.prisma, 0)];
    const collide = sameWalletCollision(accountId);
    const skew = writeSkew(skewed);

    await Promise.all([
      withSerializableRetry(database.prisma, collide),
      withSerializableRetry(database.prisma, collide),
      withSerializableRetry(database.prisma, skew(0)),
      withSerializableRetry(database.prisma, skew(1)),
    ]);

    expect(await walletAndLedger(database.prisma, accountId)).toEqual({ balance: 10, bonus: 0, ledgerBalance: 10, ledgerBonus: 0 });
    expect((await walletAndLedger(database.prisma, skewed[0])).balance).toBe(5);
    expect((await walletAndLedger(database.prisma, skewed[1])).balance).toBe(5);
  });
});
