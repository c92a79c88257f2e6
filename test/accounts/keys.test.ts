import net from 'node:net';
import { creditWallet } from '../../lib/wallet';
import { createVerifiedAccount, startAccountsApp, type AccountsApp } from './harness';

jest.setTimeout(60_000);

let app: AccountsApp;
let cookie: string;
let accountId: string;

beforeAll(async () => {
  app = await startAccountsApp();
  const email = await createVerifiedAccount(app.prisma);
  accountId = (await app.prisma.account.findUniqueOrThrow({ where: { email } })).id;
  await app.prisma.$transaction((tx) => creditWallet(tx, { accountId, kind: 'recharge', balance: 1_000, bonus: 0, idempotencyKey: `keys:${accountId}` }));
  cookie = await app.signIn(email);
});

afterAll(async () => {
  await app?.close();
});

async function createKey(body: Record<string, unknown> = {}) {
  const answer = await app.request('POST', '/api/keys', { cookie, body: { name: 'test', scopes: ['tasks:read', 'tasks:write', 'wallet:read'], ...body } });
  if (answer.status !== 201) throw new Error(`key creation failed: ${JSON.stringify(answer.body)}`);
  return answer.body as { id: string; key: string; prefix: string };
}

/** Sends raw header bytes, so the key can be any byte sequence a client might send. */
async function rawRequest(authorization: Buffer): Promise<number> {
  const { port } = new URL(app.baseUrl);
  return new Promise((resolve, reject) => {
    const socket = net.connect(Number(port), '127.0.0.1', () => {
      socket.write(Buffer.concat([Buffer.from('GET /v1/wallet HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\nAuthorization: Bearer '), authorization, Buffer.from('\r\n\r\n')]));
    });
    let received = '';
    socket.on('data', (chunk) => (received += chunk.toString('latin1')));
    socket.on('end', () => resolve(Number(/^HTTP\/1\.1 (\d{3})/.exec(received)?.[1] ?? 0)));
    socket.on('error', reject);
  });
}

describe('creation', () => {
  test('the full key is shown once and only its hash is stored', async () => {
    const created = await createKey({ name: 'shown once' });

    const listed = await app.request('GET', '/api/keys', { cookie });
    const row = await app.prisma.apiKey.findUniqueOrThrow({ where: { id: created.id } });
    const secret = created.key.split('_').slice(2).join('_');

    expect(created.key).toMatch(/^nva_[a-z0-9]{12}_[A-Za-z0-9_-]{43}$/);
    expect(JSON.stringify(listed.body)).not.toContain(created.key);
    expect(JSON.stringify(listed.body)).not.toContain(secret);
    expect(listed.body.data.find((key: { id: string }) => key.id === created.id)).toMatchObject({ name: 'shown once', prefix: created.prefix });
    expect(JSON.stringify(row)).not.toContain(secret);
    expect(row.hash).toMatch(/^[0-9a-f]{64}$/);
  });

  test('an unknown scope is a 400', async () => {
    const answer = await app.request('POST', '/api/keys', { cookie, body: { name: 'bad', scopes: ['admin'] } });

    expect(answer.status).toBe(400);
  });

  test('last use is recorded', async () => {
    const created = await createKey();

    await app.request('GET', '/v1/wallet', { apiKey: created.key });
    await waitFor(async () => (await app.prisma.apiKey.findUniqueOrThrow({ where: { id: created.id } })).lastUsedAt !== null);
    const listed = await app.request('GET', '/api/keys', { cookie });

    expect(listed.body.data.find((key: { id: string }) => key.id === created.id).lastUsedAt).not.toBeNull();
  });
});

describe('authentication', () => {
  test.each([
    ['empty', Buffer.from('')],
    ['too short', Buffer.from('nva_abc_def')],
    ['too long', Buffer.from(`nva_${'a'.repeat(12)}_${'b'.repeat(400)}`)],
    ['multibyte', Buffer.from(`nva_${'日'.repeat(12)}_${'本'.repeat(43)}`, 'utf8')],
    ['latin-1 bytes', Buffer.from([0x6e, 0x76, 0x61, 0x5f, 0xe9, 0xff, 0xfe])],
    ['longer than the header limit', Buffer.from('x'.repeat(600))],
  ])('a %s key is a 401', async (_name, key) => {
    const status = await rawRequest(key);

    expect(status).toBe(401);
  });

  test('a right-length key with a wrong secret is a 401', async () => {
    const created = await createKey();
    const wrong = `${created.key.slice(0, -1)}${created.key.endsWith('A') ? 'B' : 'A'}`;

    const answer = await app.request('GET', '/v1/wallet', { apiKey: wrong });

    expect(answer.status).toBe(401);
  });

  test('a revoked key is a 401 at once', async () => {
    const created = await createKey();
    const before = await app.request('GET', '/v1/wallet', { apiKey: created.key });

    const revoke = await app.request('DELETE', `/api/keys/${created.id}`, { cookie, headers: { origin: app.baseUrl } });
    const after = await app.request('GET', '/v1/wallet', { apiKey: created.key });

    expect(before.status).toBe(200);
    expect(revoke.status).toBe(200);
    expect(revoke.body.revokedAt).not.toBeNull();
    expect(after.status).toBe(401);
  });

  test('an expired key is a 401', async () => {
    const created = await createKey({ expiresAt: new Date(Date.now() + 60_000).toISOString() });
    await app.prisma.apiKey.update({ where: { id: created.id }, data: { expiresAt: new Date(Date.now() - 1_000) } });

    const answer = await app.request('GET', '/v1/wallet', { apiKey: created.key });

    expect(answer.status).toBe(401);
  });

  test('a missing scope is a 403', async () => {
    const created = await createKey({ scopes: ['tasks:read'] });

    const answer = await app.request('GET', '/v1/wallet', { apiKey: created.key });

    expect(answer.status).toBe(403);
    expect(answer.body.error.details.scope).toBe('wallet:read');
  });

  test("another account's key cannot be revoked", async () => {
    const created = await createKey();
    const stranger = await app.signIn(await createVerifiedAccount(app.prisma));

    const answer = await app.request('DELETE', `/api/keys/${created.id}`, { cookie: stranger, headers: { origin: app.baseUrl } });

    expect(answer.status).toBe(404);
  });
});

describe('quotas', () => {
  test('requests per minute: headers on every answer, then a 429', async () => {
    const created = await createKey({ requestsPerMinute: 2 });

    const first = await app.request('GET', '/v1/wallet', { apiKey: created.key });
    const second = await app.request('GET', '/v1/wallet', { apiKey: created.key });
    const third = await app.request('GET', '/v1/wallet', { apiKey: created.key });

    expect(first.status).toBe(200);
    expect(first.headers.get('ratelimit-limit')).toBe('2');
    expect(first.headers.get('ratelimit-remaining')).toBe('1');
    expect(second.headers.get('ratelimit-remaining')).toBe('0');
    expect(third.status).toBe(429);
    expect(third.body.error.code).toBe('RATE_LIMITED');
    expect(Number(third.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(Number(third.headers.get('ratelimit-reset'))).toBeGreaterThan(0);
  });

  test('credits per day: a task over the quota is a 429 and is not charged', async () => {
    const created = await createKey({ creditsPerDay: 5 });
    const task = { prompt: 'a quiet harbour', model: 'novart-basic', imageCount: 2 };
    const balanceBefore = async () => (await app.prisma.wallet.findUniqueOrThrow({ where: { accountId } })).balance;

    const first = await app.request('POST', '/v1/tasks', { apiKey: created.key, body: task });
    const balance = await balanceBefore();
    const second = await app.request('POST', '/v1/tasks', { apiKey: created.key, body: task });

    expect(first.status).toBe(201);
    expect(second.status).toBe(429);
    expect(second.body.error.code).toBe('QUOTA_EXCEEDED');
    expect(second.headers.get('retry-after')).not.toBeNull();
    expect(second.headers.get('x-credits-per-day-remaining')).toBe('1');
    expect(await balanceBefore()).toBe(balance);
  });

  test('credits per day: expired tasks still count', async () => {
    const created = await createKey({ creditsPerDay: 10 });
    await app.prisma.task.create({
      data: { accountId, apiKeyId: created.id, prompt: 'paid and kept two days', model: 'novart-basic', width: 512, height: 512, imageCount: 1, price: 3, status: 'expired', workflowId: `task-expired-${created.id}` },
    });

    const answer = await app.request('POST', '/v1/tasks', { apiKey: created.key, body: { prompt: 'a lighthouse', model: 'novart-basic' } });

    expect(answer.headers.get('x-credits-per-day-remaining')).toBe('7');
  });

  test('credits per day: concurrent tasks cannot exceed the quota', async () => {
    const created = await createKey({ creditsPerDay: 5 });
    const task = { prompt: 'a quiet harbour at night', model: 'novart-basic', imageCount: 2 };

    const answers = await Promise.all(Array.from({ length: 6 }, () => app.request('POST', '/v1/tasks', { apiKey: created.key, body: task })));

    const statuses = answers.map((answer) => answer.status).sort();
    expect(statuses).toEqual([201, 429, 429, 429, 429, 429]);
    const accepted = answers.find((answer) => answer.status === 201)!;
    expect(await app.prisma.task.count({ where: { apiKeyId: created.id } })).toBe(1);
    const ledger = await app.prisma.ledgerEntry.findMany({ where: { taskId: accepted.body.id } });
    expect(ledger.map((entry) => entry.balanceDelta + entry.bonusDelta)).toEqual([-accepted.body.price]);
  });
});

async function waitFor(condition: () => Promise<boolean>, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('condition not met');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
