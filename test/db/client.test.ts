import { mkdtemp, rm } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

import { PrismaPg } from '@prisma/adapter-pg';

import { checkDatabase, openDatabase, PrismaClient } from '../../lib/db/client';
import { debitTask, refundTask } from '../../lib/wallet';
import { accountWith, taskFor, walletAndLedger } from '../wallet/support';
import { createEmptyDatabase } from '../support/database';

describe('openDatabase', () => {
  let dataDir: string;

  beforeEach(async () => {
    dataDir = await mkdtemp(path.join(os.tmpdir(), 'novart-data-'));
  });

  afterEach(async () => {
    await rm(dataDir, { recursive: true, force: true });
  });

  it('migrates and opens DATABASE_URL', async () => {
    const empty = await createEmptyDatabase();

    const database = await openDatabase({ DATABASE_URL: empty.url, DATABASE_POOL_SIZE: 2, DATA_DIR: dataDir });

    expect(database.kind).toBe('postgres');
    expect(await database.prisma.account.count()).toBe(0);
    expect(await checkDatabase(database.prisma)).toMatchObject({ ok: true });
    await database.close();
    await empty.drop();
  });

  it('keeps PGlite data across restarts', async () => {
    const config = { DATABASE_URL: undefined, DATABASE_POOL_SIZE: 1, DATA_DIR: dataDir };
    const first = await openDatabase(config);
    await first.prisma.account.create({ data: { email: 'kept@example.com', webhookSecret: 'whsec_test' } });
    await first.close();

    const second = await openDatabase(config);

    expect(second.kind).toBe('pglite');
    expect(await second.prisma.account.count({ where: { email: 'kept@example.com' } })).toBe(1);
    expect(await checkDatabase(second.prisma)).toMatchObject({ ok: true });
    await second.close();
  }, 180_000);

  it('moves money on PGlite as on PostgreSQL', async () => {
    const database = await openDatabase({ DATABASE_URL: undefined, DATABASE_POOL_SIZE: 1, DATA_DIR: dataDir });
    const { prisma } = database;
    const accountId = await accountWith(prisma, 100, 20);
    const taskId = await taskFor(prisma, accountId, 80);

    const debit = await prisma.$transaction((tx) => debitTask(tx, { accountId, taskId, price: 80, lowBalanceThreshold: 50 }));
    const repeated = await prisma.$transaction((tx) => debitTask(tx, { accountId, taskId, price: 80, lowBalanceThreshold: 50 }));
    const refund = await prisma.$transaction((tx) => refundTask(tx, { accountId, taskId }));

    expect(debit).toMatchObject({ applied: true, bonusDelta: -20, balanceDelta: -60, balanceAfter: 40, bonusAfter: 0 });
    expect(repeated).toMatchObject({ applied: false, ledgerEntryId: debit.ledgerEntryId });
    expect(refund).toMatchObject({ applied: true, bonusDelta: 20, balanceDelta: 60 });
    expect(await walletAndLedger(prisma, accountId)).toEqual({ balance: 100, bonus: 20, ledgerBalance: 100, ledgerBonus: 20 });
    expect(await prisma.message.count({ where: { accountId, kind: 'wallet.low_balance' } })).toBe(1);
    await database.close();
  }, 180_000);
});

describe('checkDatabase', () => {
  it('reports a server that refuses connections', async () => {
    const port = await closedPort();
    const prisma = new PrismaClient({ adapter: new PrismaPg({ connectionString: `postgresql://postgres@127.0.0.1:${port}/postgres` }) });

    const check = await checkDatabase(prisma);

    expect(check.ok).toBe(false);
    await prisma.$disconnect();
  });

  it('reports a server that times out', async () => {
    const sockets = new Set<net.Socket>();
    const silent = net.createServer((socket) => sockets.add(socket));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const { port } = silent.address() as net.AddressInfo;
    const prisma = new PrismaClient({ adapter: new PrismaPg({ connectionString: `postgresql://postgres@127.0.0.1:${port}/postgres` }) });

    const check = await checkDatabase(prisma, { timeoutMs: 200 });

    expect(check).toEqual({ ok: false, error: 'timed out after 200 ms' });
    for (const socket of sockets) socket.destroy();
    silent.close();
    await prisma.$disconnect().catch(() => undefined);
  });
});

/** Returns a port on 127.0.0.1 that nothing listens on. */
async function closedPort(): Promise<number> {
  const probe = net.createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as net.AddressInfo;
  await new Promise((resolve) => probe.close(resolve));
  return port;
}
