import { randomUUID } from 'node:crypto';
import { reconcile } from '../../lib/reconciliation';
import { debitTask, refundTask } from '../../lib/wallet';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { accountWith, taskFor, walletAndLedger } from './support';

let database: TestDatabase;

beforeAll(async () => {
  database = await createTestDatabase();
});

afterAll(async () => {
  await database.drop();
});

async function failedTaskWithRefund(accountId: string): Promise<string> {
  const taskId = await taskFor(database.prisma, accountId, 20, 'failed');
  await database.prisma.$transaction(async (tx) => {
    await debitTask(tx, { accountId, taskId, price: 20 });
    await refundTask(tx, { accountId, taskId });
  });
  return taskId;
}

describe('reconciliation', () => {
  test('finds a wallet changed in SQL and a failed task whose refund was deleted', async () => {
    const adminId = await accountWith(database.prisma, 0, 0, 'admin');
    const tamperedId = await accountWith(database.prisma, 100);
    const refundedId = await accountWith(database.prisma, 100);
    const healthyTask = await failedTaskWithRefund(refundedId);
    const brokenTask = await failedTaskWithRefund(refundedId);
    await database.prisma.$executeRaw`UPDATE wallets SET balance = balance + 500 WHERE account_id = ${tamperedId}::uuid`;
    await database.prisma.$executeRaw`DELETE FROM ledger_entries WHERE task_id = ${brokenTask}::uuid AND kind = 'refund'`;
    const before = await walletAndLedger(database.prisma, tamperedId);

    const summary = await reconcile(database.prisma, randomUUID());

    const findings = await database.prisma.reconciliationFinding.findMany({ where: { runId: summary.runId } });
    expect(findings.map((finding) => [finding.kind, finding.accountId, finding.taskId]).sort()).toEqual(
      [
        ['task_refund_missing', refundedId, brokenTask],
        ['wallet_ledger_mismatch', refundedId, null],
        ['wallet_ledger_mismatch', tamperedId, null],
      ].sort(),
    );
    expect(findings.some((finding) => finding.taskId === healthyTask)).toBe(false);
    expect(await walletAndLedger(database.prisma, tamperedId)).toEqual(before);
    expect(await database.prisma.message.count({ where: { accountId: adminId, kind: 'reconciliation.findings' } })).toBe(1);
  });

  test('records a run once per id', async () => {
    const runId = randomUUID();

    const first = await reconcile(database.prisma, runId);
    const second = await reconcile(database.prisma, runId);

    expect(second).toEqual(first);
    expect(await database.prisma.reconciliationRun.count({ where: { id: runId } })).toBe(1);
  });

  test('a succeeded task without its debit is reported', async () => {
    const accountId = await accountWith(database.prisma, 0);
    const taskId = await taskFor(database.prisma, accountId, 10, 'succeeded');

    const summary = await reconcile(database.prisma, randomUUID());

    const finding = await database.prisma.reconciliationFinding.findFirst({ where: { runId: summary.runId, taskId } });
    expect(finding?.kind).toBe('task_debit_missing');
  });
});
