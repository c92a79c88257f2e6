import { createRedemptionBatch, generateCode, hashCode, normalizeCode } from '../../lib/redemption';
import { reconciliationScheduleId } from '../../lib/reconciliation';
import { startProduct, TEST_MODEL, TEST_UNIT_PRICE, type ProductHarness } from '../support/product';

jest.setTimeout(120_000);

let product: ProductHarness;

beforeAll(async () => {
  product = await startProduct({ env: { REDEMPTION_MAX_FAILURES: '3' } });
});

afterAll(async () => {
  await product?.close();
});

beforeEach(async () => {
  // Every request comes from 127.0.0.1, so wrong guesses of one test would limit the next.
  await product.prisma.rateLimitBucket.deleteMany({});
});

async function newCode(options: { faceValue?: number; expiresAt?: Date } = {}): Promise<string> {
  const { codes } = await createRedemptionBatch(product.prisma, { faceValue: options.faceValue ?? 100, bonus: 10, count: 1, label: 'api test', createdById: null, ...(options.expiresAt ? { expiresAt: options.expiresAt } : {}) });
  return codes[0]!;
}

describe('redeem', () => {
  test('50 concurrent redemptions by 5 accounts credit once', async () => {
    const accounts = await Promise.all(Array.from({ length: 5 }, () => product.createAccount(0)));
    const code = await newCode();

    const responses = await Promise.all(
      Array.from({ length: 50 }, (_, index) => product.request('POST', '/v1/wallet/redeem', { body: { code }, apiKey: accounts[index % 5]!.apiKey })),
    );

    const successes = responses.filter((response) => response.status === 200);
    const refusals = responses.filter((response) => response.status === 409);
    const credits = await product.prisma.ledgerEntry.count({ where: { kind: 'redemption', accountId: { in: accounts.map((account) => account.id) } } });
    expect(successes).toHaveLength(1);
    expect(refusals).toHaveLength(49);
    expect(new Set(refusals.map((response) => response.body.error.code))).toEqual(new Set(['REDEMPTION_CODE_ALREADY_REDEEMED']));
    expect(credits).toBe(1);
  });

  test('credits the face value and bonus', async () => {
    const account = await product.createAccount(0);

    const response = await product.request('POST', '/v1/wallet/redeem', { body: { code: (await newCode()).toLowerCase() }, apiKey: account.apiKey });

    expect(response.status).toBe(200);
    expect(response.body).toMatchObject({ credited: { balance: 100, bonus: 10 }, balance: 100, bonus: 10 });
  });

  test('each refusal has its own code', async () => {
    const account = await product.createAccount(0);
    const expired = await newCode();
    await product.prisma.redemptionBatch.updateMany({ where: { codes: { some: { codeHash: hashCode(normalizeCode(expired)!) } } }, data: { expiresAt: new Date(Date.now() - 1000) } });
    const redeem = (code: string) => product.request('POST', '/v1/wallet/redeem', { body: { code }, apiKey: account.apiKey });

    const malformed = await redeem('NOT-A-CODE');
    const unknown = await redeem(generateCode());
    const outdated = await redeem(expired);

    expect([malformed.status, malformed.body.error.code]).toEqual([400, 'REDEMPTION_CODE_MALFORMED']);
    expect([unknown.status, unknown.body.error.code]).toEqual([404, 'REDEMPTION_CODE_UNKNOWN']);
    expect([outdated.status, outdated.body.error.code]).toEqual([410, 'REDEMPTION_CODE_EXPIRED']);
  });

  test('wrong guesses are rate-limited per account', async () => {
    const account = await product.createAccount(0);
    const valid = await newCode();
    const redeem = (code: string) => product.request('POST', '/v1/wallet/redeem', { body: { code }, apiKey: account.apiKey });

    for (let attempt = 0; attempt < 3; attempt += 1) await redeem('WRONG');
    const blocked = await redeem(valid);

    expect(blocked.status).toBe(429);
    expect(blocked.body.error.code).toBe('RATE_LIMITED');
    expect(await product.prisma.ledgerEntry.count({ where: { accountId: account.id, kind: 'redemption' } })).toBe(0);
  });

  test('wrong guesses are rate-limited per IP across accounts', async () => {
    const guessers = await Promise.all([product.createAccount(0), product.createAccount(0), product.createAccount(0), product.createAccount(0)]);

    for (const guesser of guessers.slice(0, 3)) await product.request('POST', '/v1/wallet/redeem', { body: { code: 'WRONG' }, apiKey: guesser.apiKey });
    const blocked = await product.request('POST', '/v1/wallet/redeem', { body: { code: await newCode() }, apiKey: guessers[3]!.apiKey });

    expect(blocked.status).toBe(429);
  });
});

describe('wallet reads', () => {
  test('summary shows both buckets', async () => {
    const account = await product.createAccount(70);

    const response = await product.request('GET', '/v1/wallet', { apiKey: account.apiKey });

    expect(response.status).toBe(200);
    expect(response.body).toMatchObject({ balance: 70, bonus: 0, total: 70, lowBalance: false });
  });

  test('ledger pages by cursor and filters by kind', async () => {
    const account = await product.createAccount(5);
    for (let index = 0; index < 3; index += 1) {
      await product.request('POST', '/v1/wallet/redeem', { body: { code: await newCode({ faceValue: index + 1 }) }, apiKey: account.apiKey });
    }

    const first = await product.request('GET', '/v1/wallet/ledger?limit=2', { apiKey: account.apiKey });
    const second = await product.request('GET', `/v1/wallet/ledger?limit=2&cursor=${first.body.nextCursor}`, { apiKey: account.apiKey });
    const redemptions = await product.request('GET', '/v1/wallet/ledger?kind=redemption', { apiKey: account.apiKey });

    expect(first.body.data.map((entry: { balanceDelta: number }) => entry.balanceDelta)).toEqual([3, 2]);
    expect(second.body.data.map((entry: { balanceDelta: number }) => entry.balanceDelta)).toEqual([1, 5]);
    expect(second.body.nextCursor).toBeNull();
    expect(redemptions.body.data).toHaveLength(3);
  });

  test('a bad cursor is a 400', async () => {
    const response = await product.request('GET', '/v1/wallet/ledger?cursor=bm9wZQ');

    expect(response.status).toBe(400);
    expect(response.body.error.code).toBe('VALIDATION_FAILED');
  });

  test('ledger exports as CSV', async () => {
    const account = await product.createAccount(40);

    const response = await product.request('GET', '/v1/wallet/ledger.csv', { apiKey: account.apiKey });

    const lines = String(response.body).trim().split('\n');
    expect(response.headers.get('content-type')).toContain('text/csv');
    expect(lines[0]).toBe('id,created_at,kind,balance_delta,bonus_delta,balance_after,bonus_after,task_id,reference');
    expect(lines[1]).toContain(',recharge,40,0,40,0,');
  });

  test('quotes the price table', async () => {
    const response = await product.request('GET', `/v1/wallet/quote?model=${TEST_MODEL}&size=512x512&imageCount=3`);

    expect(response.status).toBe(200);
    expect(response.body).toMatchObject({ unitPrice: TEST_UNIT_PRICE, total: 3 * TEST_UNIT_PRICE, imageCount: 3 });
  });

  test('referral info has a code and a link', async () => {
    const response = await product.request('GET', '/v1/wallet/referral');

    expect(response.status).toBe(200);
    expect(response.body.inviteLink).toBe(`${product.config.publicUrl}/signup?invite=${response.body.inviteCode}`);
    expect(response.body.stats).toEqual({ invited: 0, rewarded: 0, pending: 0, rewardCredits: 0 });
  });
});

describe('reconciliation schedule', () => {
  test('exists daily and runs when triggered', async () => {
    const tampered = await product.createAccount(10);
    await product.prisma.$executeRaw`UPDATE wallets SET bonus = bonus + 7 WHERE account_id = ${tampered.id}::uuid`;
    const handle = product.temporal.schedule.getHandle(reconciliationScheduleId(product.config.TEMPORAL_TASK_QUEUE));

    const description = await handle.describe();
    await handle.trigger();
    const finding = await waitFor(() => product.prisma.reconciliationFinding.findFirst({ where: { accountId: tampered.id, kind: 'wallet_ledger_mismatch' } }));

    expect(description.spec.calendars?.length ?? 0).toBeGreaterThan(0);
    expect(finding.details).toMatchObject({ bonus: 7, ledgerBonus: 0 });
  });
});

async function waitFor<T>(probe: () => Promise<T | null>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error('condition not reached in time');
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}
