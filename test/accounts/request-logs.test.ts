import { Webhook } from 'standardwebhooks';
import { webhookSigningSecrets } from '../../lib/auth/webhook-secret';
import { creditWallet } from '../../lib/wallet';
import { buildWebhookHeaders } from '../../lib/webhooks/signing';
import { PASSWORD, startAccountsApp, tokenFromMail, type AccountsApp } from './harness';

jest.setTimeout(60_000);

let app: AccountsApp;
let cookie: string;
let accountId: string;
let key: { id: string; key: string; prefix: string };
let taskId: string;
/** Every secret the suite handled; none may appear in a logged row or log line. */
const secrets: string[] = [];

beforeAll(async () => {
  app = await startAccountsApp();

  const email = await app.registerVerified();
  secrets.push(PASSWORD, tokenFromMail(app.smtp.mails[0]!.text));
  accountId = (await app.prisma.account.findUniqueOrThrow({ where: { email } })).id;
  await app.prisma.$transaction((tx) => creditWallet(tx, { accountId, kind: 'recharge', balance: 100, bonus: 0, idempotencyKey: `logs:${accountId}` }));
  cookie = await app.signIn(email);
  secrets.push(decodeURIComponent(cookie.split('=')[1]!).slice(2).split('.')[0]!);

  key = (await app.request('POST', '/api/keys', { cookie, body: { name: 'logged', scopes: ['tasks:read', 'tasks:write', 'wallet:read'] } })).body;
  secrets.push(key.key, key.key.slice(`nva_${key.prefix}_`.length));

  const created = await app.request('POST', `/v1/tasks?api_key=${key.key}`, {
    apiKey: key.key,
    body: { prompt: `a lighthouse, password ${PASSWORD}`, model: 'novart-basic', size: '512x512', negativePrompt: key.key },
    headers: { 'idempotency-key': 'logs-1', 'user-agent': 'logs-test/1.0' },
  });
  taskId = created.body.id;
  await app.request('GET', `/v1/tasks/${taskId}`, { apiKey: key.key });
  await app.request('GET', '/v1/wallet', { apiKey: `${key.key.slice(0, -2)}xx` });
  await app.request('POST', `/v1/provider-callbacks/none/${taskId}`, {
    rawBody: JSON.stringify({ secret: key.key }),
    headers: { 'webhook-signature': 'v1,c2lnbmF0dXJlLW5ldmVyLWxvZ2dlZA==', 'webhook-id': 'msg_1', 'webhook-timestamp': '1' },
  });
  secrets.push('c2lnbmF0dXJlLW5ldmVyLWxvZ2dlZA==');

  await app.request('POST', '/api/auth/password-reset', { body: { email } });
  secrets.push(tokenFromMail((await app.smtp.waitForMail(email, { skip: 1 })).text));
  const rotated = await app.request('POST', '/api/webhook-secret/rotate', { cookie, headers: { origin: app.baseUrl } });
  const account = await app.prisma.account.findUniqueOrThrow({ where: { id: accountId } });
  secrets.push(rotated.body.secret, account.previousWebhookSecret!);

  await waitFor(async () => (await app.prisma.apiRequestLog.count()) >= 4);
});

afterAll(async () => {
  await app?.close();
});

describe('logged rows', () => {
  test('a task request records who, what, how long and the task', async () => {
    const row = await app.prisma.apiRequestLog.findFirstOrThrow({ where: { method: 'POST', path: '/v1/tasks' } });

    expect(row).toMatchObject({ accountId, apiKeyId: key.id, keyPrefix: key.prefix, status: 201, taskId, ip: '127.0.0.1', userAgent: 'logs-test/1.0' });
    expect(row.durationMs).toBeGreaterThanOrEqual(0);
    expect(row.requestSummary).toMatchObject({ model: 'novart-basic', size: '512x512', query: ['api_key'] });
    expect(row.responseSummary).toEqual({ id: taskId, status: 'queued' });
  });

  test('a refused key is logged without an account', async () => {
    const row = await app.prisma.apiRequestLog.findFirstOrThrow({ where: { path: '/v1/wallet', status: 401 } });

    expect(row.accountId).toBeNull();
    expect(row.responseSummary).toEqual({ errorCode: 'UNAUTHENTICATED' });
  });

  test('no row and no log line holds a key, password, token, cookie, secret or signature', async () => {
    const rows = JSON.stringify(await app.prisma.apiRequestLog.findMany());
    const lines = app.logLines.join('\n');

    for (const secret of secrets) {
      expect(rows).not.toContain(secret);
      expect(lines).not.toContain(secret);
    }
    expect(app.logLines.length).toBeGreaterThan(10);
  });
});

describe('the owner view', () => {
  test('lists the own rows, newest first, with filters', async () => {
    const posts = await app.request('GET', '/api/request-logs?method=POST', { cookie });
    const byTask = await app.request('GET', `/api/request-logs?taskId=${taskId}`, { cookie });

    expect(posts.status).toBe(200);
    expect(posts.body.data.map((row: { path: string }) => row.path)).toEqual(['/v1/tasks']);
    expect(byTask.body.data.map((row: { method: string }) => row.method)).toEqual(['GET', 'POST']);
  });

  test('pages with a cursor', async () => {
    const first = await app.request('GET', '/api/request-logs?limit=1', { cookie });
    const second = await app.request('GET', `/api/request-logs?limit=1&cursor=${first.body.nextCursor}`, { cookie });

    expect(first.body.data).toHaveLength(1);
    expect(second.body.data).toHaveLength(1);
    expect(second.body.data[0].id).not.toBe(first.body.data[0].id);
  });

  test('needs a session', async () => {
    const answer = await app.request('GET', '/api/request-logs');

    expect(answer.status).toBe(401);
  });
});

test('rows older than the retention are swept', async () => {
  const short = await startAccountsApp({ env: { API_REQUEST_LOG_RETENTION: '1d' } });
  try {
    const old = await short.prisma.apiRequestLog.create({
      data: { method: 'GET', path: '/v1/wallet', status: 200, durationMs: 1, createdAt: new Date(Date.now() - 2 * 86_400_000) },
    });

    await short.request('GET', '/v1/wallet');
    await waitFor(async () => (await short.prisma.apiRequestLog.findUnique({ where: { id: old.id } })) === null);

    expect(await short.prisma.apiRequestLog.count()).toBe(1);
  } finally {
    await short.close();
  }
});

describe('webhook secret', () => {
  test('the owner sees the secret and when the previous one stops signing', async () => {
    const answer = await app.request('GET', '/api/webhook-secret', { cookie });

    expect(answer.body.secret).toMatch(/^whsec_/);
    expect(new Date(answer.body.previousSecretExpiresAt).getTime()).toBeGreaterThan(Date.now());
  });

  test('during the grace period deliveries verify with the old and the new secret', async () => {
    const account = await app.prisma.account.findUniqueOrThrow({ where: { id: accountId } });
    const body = JSON.stringify({ type: 'task.succeeded' });

    const headers = buildWebhookHeaders(webhookSigningSecrets(account), 'msg_rotation', new Date(), body);

    expect(headers['webhook-signature'].split(' ')).toHaveLength(2);
    expect(new Webhook(account.webhookSecret).verify(body, { ...headers })).toEqual({ type: 'task.succeeded' });
    expect(new Webhook(account.previousWebhookSecret!).verify(body, { ...headers })).toEqual({ type: 'task.succeeded' });
  });

  test('after the grace period only the new secret signs', async () => {
    const account = await app.prisma.account.findUniqueOrThrow({ where: { id: accountId } });

    const signing = webhookSigningSecrets(account, new Date(account.previousWebhookSecretExpiresAt!.getTime() + 1));

    expect(signing).toEqual([account.webhookSecret]);
  });
});

async function waitFor(condition: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('condition not met');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
