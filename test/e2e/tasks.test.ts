import { randomUUID } from 'node:crypto';
import { Webhook } from 'standardwebhooks';
import { taskProgressQuery, taskWorkflowId } from '../../workflows/definitions';
import { generationTask } from '../../workflows/generation-task';
import { startWebhookReceiver, type WebhookReceiver } from '../support/webhook-receiver';
import { startProduct, TEST_MODEL, TEST_UNIT_PRICE, type ProductHarness } from '../support/product';
import { waitFor } from '../support/wait';

jest.setTimeout(120_000);

let product: ProductHarness;

beforeAll(async () => {
  product = await startProduct();
});

afterAll(async () => {
  await product?.close();
});

async function ledgerOf(taskId: string) {
  return product.prisma.ledgerEntry.findMany({ where: { taskId }, orderBy: { createdAt: 'asc' } });
}

async function createTask(body: Record<string, unknown> = {}, headers: Record<string, string> = {}, apiKey?: string) {
  return product.request('POST', '/v1/tasks', {
    body: { prompt: 'a lighthouse at dawn', model: TEST_MODEL, size: '512x512', ...body },
    headers,
    ...(apiKey ? { apiKey } : {}),
  });
}

describe('task lifecycle', () => {
  let receiver: WebhookReceiver;

  beforeAll(async () => {
    receiver = await startWebhookReceiver({});
  });

  afterAll(async () => {
    await receiver.close();
  });

  test('succeeds with one debit, stored assets and a signed webhook', async () => {
    const created = await createTask({ imageCount: 2, webhookUrl: `${receiver.url}/hook` });

    expect(created.status).toBe(201);
    expect(created.body.workflowId).toBe(`task-${created.body.id}`);
    expect(created.body.workflowUrl).toContain(`/workflows/task-${created.body.id}`);
    const task = await product.waitForTask(created.body.id, ['succeeded', 'failed']);
    expect(task.status).toBe('succeeded');
    expect(task.assets).toHaveLength(2);

    const ledger = await ledgerOf(task.id);
    expect(ledger.map((entry) => entry.kind)).toEqual(['debit']);
    expect(ledger[0]!.balanceDelta + ledger[0]!.bonusDelta).toBe(-2 * TEST_UNIT_PRICE);

    const assets = await product.prisma.taskAsset.findMany({ where: { taskId: task.id } });
    for (const asset of assets) {
      expect(await product.storage.exists(asset.objectKey)).toBe(true);
      expect(await product.storage.exists(asset.previewKey)).toBe(true);
      expect(asset.previewKey).toMatch(/\.webp$/);
    }

    await waitFor(() => receiver.requests.length >= 1);
    const delivery = receiver.requests[0]!;
    const payload = new Webhook(product.account.webhookSecret).verify(delivery.body.toString('utf8'), delivery.headers as Record<string, string>) as {
      type: string;
      data: { id: string };
    };
    expect(payload.type).toBe('task.succeeded');
    expect(payload.data.id).toBe(task.id);
  });

  test('reports progress through a workflow query', async () => {
    const created = await createTask({ prompt: 'query me' });
    await product.waitForTask(created.body.id, ['succeeded']);

    const progress = await product.temporal.workflow.getHandle(created.body.workflowId).query(taskProgressQuery);

    expect(progress.status).toBe('succeeded');
    expect(progress.progress).toBe(100);
    expect(progress.providerId).toBe('primary');
  });

  test('downloads the asset through a short-lived link', async () => {
    const created = await createTask();
    const task = await product.waitForTask(created.body.id, ['succeeded', 'failed']);

    const asset = await product.request('GET', `/v1/assets/${task.assets[0].id}`);
    const download = await fetch(asset.body.downloadUrl);

    expect(asset.status).toBe(200);
    expect(download.status).toBe(200);
    expect(download.headers.get('content-type')).toBe('image/png');
    expect(Buffer.from(await download.arrayBuffer()).subarray(1, 4).toString('ascii')).toBe('PNG');
  });

  test('retries 500 twice, then succeeds with one debit', async () => {
    product.upstream.script('generations', [500, 500, 200]);
    const callsBefore = product.upstream.calls.length;

    const created = await createTask({ prompt: 'retry me' });
    const task = await product.waitForTask(created.body.id, ['succeeded', 'failed']);

    expect(task.status).toBe('succeeded');
    expect(product.upstream.calls.length - callsBefore).toBe(3);
    expect((await ledgerOf(task.id)).map((entry) => entry.kind)).toEqual(['debit']);
  });

  test('debits a task created without debit', async () => {
    const account = await product.createAccount(10 * TEST_UNIT_PRICE);
    const id = randomUUID();
    await product.prisma.task.create({
      data: { id, accountId: account.id, prompt: 'debited late', model: TEST_MODEL, width: 512, height: 512, imageCount: 1, price: TEST_UNIT_PRICE, workflowId: taskWorkflowId(id) },
    });

    await product.temporal.workflow.start(generationTask, {
      workflowId: taskWorkflowId(id),
      taskQueue: product.config.TEMPORAL_TASK_QUEUE,
      args: [{ taskId: id, deadlineMs: 60_000, upstream: { maxAttempts: 3, initialBackoffMs: 100, pollIntervalMs: 1_000 }, webhook: { retryWindowMs: 60_000, timeoutMs: 5_000 } }],
    });
    const task = await product.waitForTask(id, ['succeeded', 'failed']);

    expect(task.status).toBe('succeeded');
    expect((await ledgerOf(id)).map((entry) => entry.kind)).toEqual(['debit']);
    expect((await product.prisma.wallet.findUniqueOrThrow({ where: { accountId: account.id } })).balance).toBe(9 * TEST_UNIT_PRICE);
  });

  test.each([
    [400, 'UPSTREAM_REJECTED'],
    ['content-policy', 'CONTENT_POLICY'],
    ['empty', 'UPSTREAM_EMPTY_RESULT'],
  ] as const)('fails and refunds once on upstream %s', async (answer, code) => {
    product.upstream.script('generations', [answer]);
    const callsBefore = product.upstream.calls.length;

    const created = await createTask({ prompt: `permanent ${code}` });
    const task = await product.waitForTask(created.body.id, ['succeeded', 'failed']);

    expect(task.status).toBe('failed');
    expect(task.errorCode).toBe(code);
    expect(product.upstream.calls.length - callsBefore).toBe(1);
    const ledger = await ledgerOf(task.id);
    expect(ledger.map((entry) => entry.kind)).toEqual(['debit', 'refund']);
    expect(ledger.reduce((sum, entry) => sum + entry.balanceDelta + entry.bonusDelta, 0)).toBe(0);
  });

  test('cancel while running refunds once', async () => {
    product.upstream.script('generations', ['hang']);

    const created = await createTask({ prompt: 'cancel me' });
    await product.waitForTask(created.body.id, ['running']);
    await waitFor(async () => (await product.prisma.task.findUnique({ where: { id: created.body.id } }))!.provider !== null);
    const canceled = await product.request('POST', `/v1/tasks/${created.body.id}/cancel`);
    const task = await product.waitForTask(created.body.id, ['canceled', 'failed', 'succeeded']);

    expect(canceled.status).toBe(202);
    expect(task.status).toBe('canceled');
    expect(task.errorCode).toBe('CANCELED');
    expect((await ledgerOf(task.id)).map((entry) => entry.kind)).toEqual(['debit', 'refund']);
  });

  test('cancel of a finished task is a conflict', async () => {
    const created = await createTask();
    await product.waitForTask(created.body.id, ['succeeded']);

    const canceled = await product.request('POST', `/v1/tasks/${created.body.id}/cancel`);

    expect(canceled.status).toBe(409);
    expect(canceled.body.error.code).toBe('CONFLICT');
  });
});

describe('messages', () => {
  test('mark one read, then all read', async () => {
    const created = await createTask({ prompt: 'message me' });
    await product.waitForTask(created.body.id, ['succeeded']);
    const before = await product.request('GET', '/v1/messages');
    const target = before.body.data.find((message: { taskId: string }) => message.taskId === created.body.id);

    const one = await product.request('POST', `/v1/messages/${target.id}/read`);
    const all = await product.request('POST', '/v1/messages/read-all');
    const after = await product.request('GET', '/v1/messages?unread=true');

    expect(target.kind).toBe('task.succeeded');
    expect(one.status).toBe(200);
    expect(one.body.unreadCount).toBe(before.body.unreadCount - 1);
    expect(all.status).toBe(200);
    expect(after.body.unreadCount).toBe(0);
    expect(after.body.data).toHaveLength(0);
  });

  test('unknown message id is a 404', async () => {
    const response = await product.request('POST', '/v1/messages/00000000-0000-4000-8000-000000000000/read');

    expect(response.status).toBe(404);
    expect(response.body.error.code).toBe('NOT_FOUND');
  });
});

describe('content security policy', () => {
  test('allows images from the storage origin', async () => {
    const response = await fetch(`${product.baseUrl}/healthz`);

    expect(response.headers.get('content-security-policy')).toContain(new URL(product.config.S3_ENDPOINT!).origin);
  });
});

describe('wallet limits', () => {
  test('accepts exactly what the balance covers', async () => {
    const account = await product.createAccount(3 * TEST_UNIT_PRICE);

    const results = await Promise.all(Array.from({ length: 10 }, (_, index) => createTask({ prompt: `burst ${index}` }, {}, account.apiKey)));

    const statuses = results.map((result) => result.status).sort();
    expect(statuses.filter((status) => status === 201)).toHaveLength(3);
    expect(statuses.filter((status) => status === 402)).toHaveLength(7);
    for (const rejected of results.filter((result) => result.status === 402)) {
      expect(rejected.body.error.code).toBe('INSUFFICIENT_FUNDS');
    }
    const wallet = await product.prisma.wallet.findUniqueOrThrow({ where: { accountId: account.id } });
    expect(wallet.balance).toBe(0);
    expect(wallet.bonus).toBe(0);
  });
});

describe('idempotency', () => {
  test('same key and body returns the same task', async () => {
    const headers = { 'Idempotency-Key': `same-${Date.now()}` };

    const first = await createTask({ prompt: 'idempotent' }, headers);
    const second = await createTask({ prompt: 'idempotent' }, headers);

    expect(first.status).toBe(201);
    expect(second.status).toBe(200);
    expect(second.body.id).toBe(first.body.id);
    expect(await product.prisma.task.count({ where: { idempotencyKey: headers['Idempotency-Key'] } })).toBe(1);
  });

  test('same key with another body is rejected', async () => {
    const headers = { 'Idempotency-Key': `other-${Date.now()}` };

    await createTask({ prompt: 'first body' }, headers);
    const second = await createTask({ prompt: 'second body' }, headers);

    expect(second.status).toBe(422);
    expect(second.body.error.code).toBe('IDEMPOTENCY_KEY_REUSED');
  });
});

describe('webhook retries', () => {
  test('records three attempts with one webhook-id', async () => {
    const receiver = await startWebhookReceiver({ script: [503, 503, 200] });
    try {
      const created = await createTask({ webhookUrl: `${receiver.url}/retry` });
      await product.waitForTask(created.body.id, ['succeeded']);
      await waitFor(() => receiver.requests.length >= 3, 60_000);

      const ids = new Set(receiver.requests.map((request) => request.headers['webhook-id']));
      const deliveries = await product.request('GET', `/v1/tasks/${created.body.id}/webhook-deliveries`);
      const task = await product.request('GET', `/v1/tasks/${created.body.id}`);

      expect(ids.size).toBe(1);
      expect(deliveries.body.data[0].attempts.map((attempt: { statusCode: number }) => attempt.statusCode)).toEqual([503, 503, 200]);
      expect(deliveries.body.data[0].status).toBe('delivered');
      expect(task.body.status).toBe('succeeded');
    } finally {
      await receiver.close();
    }
  });

  test('a redirect to a private address is not followed', async () => {
    const receiver = await startWebhookReceiver({ script: [{ status: 302, headers: { location: 'http://10.0.0.1/steal' } }] });
    try {
      const created = await createTask({ webhookUrl: `${receiver.url}/redirect` });
      await product.waitForTask(created.body.id, ['succeeded']);
      await waitFor(async () => (await product.prisma.webhookAttempt.count({ where: { delivery: { taskId: created.body.id } } })) >= 1);

      const attempts = await product.prisma.webhookAttempt.findMany({ where: { delivery: { taskId: created.body.id } } });
      expect(attempts[0]!.statusCode).toBe(302);
      expect(attempts[0]!.error).toBe('non_2xx');
    } finally {
      await receiver.close();
    }
  });
});

describe('webhook URL policy at creation', () => {
  let strict: ProductHarness;

  beforeAll(async () => {
    strict = await startProduct({ env: { WEBHOOK_ALLOWED_CIDRS: '' } });
  });

  afterAll(async () => {
    await strict?.close();
  });

  test.each([
    'http://127.0.0.1/hook',
    'http://10.1.2.3/hook',
    'http://169.254.169.254/latest/meta-data',
    'http://[::1]/hook',
    'http://2130706433/hook',
    'http://localhost/hook',
  ])('rejects %s', async (webhookUrl) => {
    const response = await strict.request('POST', '/v1/tasks', { body: { prompt: 'hook', model: TEST_MODEL, webhookUrl } });

    expect(response.status).toBe(422);
    expect(response.body.error.code).toBe('WEBHOOK_URL_REJECTED');
    expect(await strict.prisma.task.count({ where: { webhookUrl } })).toBe(0);
  });
});

describe('uploads', () => {
  test.each([
    ['an SVG', Buffer.from('<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"></svg>'), 415],
    ['HTML named .png', Buffer.from('<!doctype html><html><body>hi</body></html>'), 415],
    ['a 30000x30000 PNG header', giantPngHeader(30_000, 30_000), 400],
    ['a file over the size limit', Buffer.concat([giantPngHeader(100, 100), Buffer.alloc(11 * 1024 * 1024)]), 413],
  ])('rejects %s', async (_name, bytes, status) => {
    const before = await product.prisma.referenceUpload.count();

    const response = await product.request('POST', '/v1/uploads', { rawBody: bytes, headers: { 'content-type': 'image/png' } });

    expect(response.status).toBe(status);
    expect(typeof response.body.error.code).toBe('string');
    expect(await product.prisma.referenceUpload.count()).toBe(before);
  });

  test('accepts a PNG and uses it as a reference', async () => {
    const sharp = (await import('sharp')).default;
    const png = await sharp({ create: { width: 64, height: 48, channels: 3, background: '#336699' } }).png().toBuffer();

    const upload = await product.request('POST', '/v1/uploads', { rawBody: png, headers: { 'content-type': 'application/octet-stream' } });
    const created = await createTask({ referenceImageIds: [upload.body.id], prompt: 'use my reference' });
    const task = await product.waitForTask(created.body.id, ['succeeded', 'failed']);

    expect(upload.status).toBe(201);
    expect(upload.body.width).toBe(64);
    expect(Date.parse(upload.body.expiresAt) - Date.now()).toBeGreaterThan(23 * 3600 * 1000);
    expect(task.status).toBe('succeeded');
    expect(product.upstream.calls.at(-1)!.endpoint).toBe('edits');
  });
});

describe('authentication', () => {
  test.each([
    ['empty', ''],
    ['wrong length', 'nva_abc_def'],
    ['multibyte', 'nva_ééééééééééé_ключключключключключключключключключключключключ'],
    ['unknown', `nva_000000000000_${'A'.repeat(43)}`],
  ])('rejects key (%s) with 401', async (_name, key) => {
    // Header values travel as bytes: the UTF-8 encoding of the key is sent as it is.
    const authorization = Buffer.from(`Bearer ${key}`, 'utf8').toString('latin1');

    const response = await product.request('GET', '/v1/wallet', { headers: { authorization }, apiKey: null });

    expect(response.status).toBe(401);
    expect(response.body.error.code).toBe('UNAUTHENTICATED');
  });

  test('rejects a key without the scope with 403', async () => {
    const reader = await product.createAccount(100, ['tasks:read']);

    const response = await createTask({}, {}, reader.apiKey);

    expect(response.status).toBe(403);
    expect(response.body.error.code).toBe('FORBIDDEN');
  });

  test('rejects a blocked prompt synchronously and logs it', async () => {
    const response = await createTask({ prompt: 'ｄｅｅｐｆａｋｅ ｎｕｄｅ of a celebrity' });

    expect(response.status).toBe(422);
    expect(response.body.error.code).toBe('PROMPT_BLOCKED');
    expect(await product.prisma.blockedPrompt.count({ where: { accountId: product.account.id } })).toBeGreaterThan(0);
  });
});

/** A PNG signature and IHDR chunk announcing the given size, with no pixel data. */
function giantPngHeader(width: number, height: number): Buffer {
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header.writeUInt8(8, 8);
  header.writeUInt8(2, 9);
  const chunk = Buffer.concat([Buffer.from([0, 0, 0, 13]), Buffer.from('IHDR'), header, Buffer.alloc(4)]);
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk]);
}
