import { randomUUID } from 'node:crypto';

import { isCheckViolation, isUniqueViolation } from '../../lib/db/transactions';
import { createTestDatabase, type TestDatabase } from '../support/database';

describe('database constraints', () => {
  let database: TestDatabase;

  beforeAll(async () => {
    database = await createTestDatabase();
  });

  afterAll(async () => {
    await database.drop();
  });

  async function createAccount() {
    return database.prisma.account.create({
      data: { email: `${randomUUID()}@example.com`, webhookSecret: 'whsec_test', wallet: { create: { balance: 5, bonus: 1 } } },
    });
  }

  it('rejects a negative balance', async () => {
    const account = await createAccount();

    const update = database.prisma.wallet.update({ where: { accountId: account.id }, data: { balance: { decrement: 6 } } });

    const error = await update.catch((caught: unknown) => caught);
    expect(isCheckViolation(error, 'wallets_balance_non_negative')).toBe(true);
  });

  it('rejects a negative bonus', async () => {
    const account = await createAccount();

    const update = database.prisma.wallet.update({ where: { accountId: account.id }, data: { bonus: -1 } });

    const error = await update.catch((caught: unknown) => caught);
    expect(isCheckViolation(error, 'wallets_bonus_non_negative')).toBe(true);
  });

  it('keeps the wallet after a rejected debit', async () => {
    const account = await createAccount();

    await database.prisma.wallet.update({ where: { accountId: account.id }, data: { balance: { decrement: 6 } } }).catch(() => undefined);

    const wallet = await database.prisma.wallet.findUniqueOrThrow({ where: { accountId: account.id } });
    expect(wallet.balance).toBe(5);
  });

  it('rejects upper-case e-mail addresses', async () => {
    const create = database.prisma.account.create({ data: { email: 'Someone@Example.com', webhookSecret: 'whsec_test' } });

    const error = await create.catch((caught: unknown) => caught);
    expect(isCheckViolation(error, 'accounts_email_lower_case')).toBe(true);
  });

  it('names the violated unique constraint', async () => {
    const account = await createAccount();
    const task = { accountId: account.id, prompt: 'a lighthouse', model: 'test', width: 64, height: 64, imageCount: 1, price: 1, idempotencyKey: 'key-1' };
    await database.prisma.task.create({ data: { ...task, workflowId: randomUUID() } });

    const error = await database.prisma.task.create({ data: { ...task, workflowId: randomUUID() } }).catch((caught: unknown) => caught);

    expect(isUniqueViolation(error)).toBe(true);
    expect(isUniqueViolation(error, 'tasks_account_id_idempotency_key_key')).toBe(true);
    expect(isUniqueViolation(error, 'tasks_workflow_id_key')).toBe(false);
  });

  it('ignores errors from elsewhere', async () => {
    const error = new Error('duplicate key value violates unique constraint "tasks_workflow_id_key"');

    expect(isUniqueViolation(error)).toBe(false);
    expect(isCheckViolation(error)).toBe(false);
  });
});
