import { startWebhookReceiver } from '../support/webhook-receiver';
import { startProduct, TEST_MODEL, type ProductHarness } from '../support/product';
import { waitFor } from '../support/wait';

jest.setTimeout(120_000);

const CALLBACK_SECRET = 'provider-callback-secret-for-tests';

function createTask(product: ProductHarness, body: Record<string, unknown> = {}) {
  return product.request('POST', '/v1/tasks', { body: { prompt: 'routing check', model: TEST_MODEL, size: '256x256', ...body } });
}

async function ledgerKinds(product: ProductHarness, taskId: string): Promise<string[]> {
  const entries = await product.prisma.ledgerEntry.findMany({ where: { taskId }, orderBy: { createdAt: 'asc' } });
  return entries.map((entry) => entry.kind);
}

describe('fallback and deadline', () => {
  let product: ProductHarness;

  beforeAll(async () => {
    product = await startProduct({
      env: { TASK_DEADLINE: '4s', UPSTREAM_MAX_ATTEMPTS: '2' },
      providers: (upstreamUrl) => ({
        providers: [
          { id: 'primary', kind: 'openai', baseUrl: upstreamUrl, timeoutMs: 2_000 },
          { id: 'fallback', kind: 'builtin' },
        ],
        models: [
          { id: TEST_MODEL, label: 'Test model', providers: ['primary', 'fallback'], defaultUnitPrice: 10 },
          { id: 'primary-only', label: 'Primary only', providers: ['primary'], defaultUnitPrice: 10 },
        ],
      }),
    });
  });

  afterAll(async () => {
    await product?.close();
  });

  test('falls back to the next provider after retries', async () => {
    product.upstream.script('generations', [503, 503]);

    const created = await createTask(product);
    const task = await product.waitForTask(created.body.id, ['succeeded', 'failed']);

    expect(task.status).toBe('succeeded');
    expect((await product.prisma.task.findUniqueOrThrow({ where: { id: task.id } })).provider).toBe('fallback');
    expect(await ledgerKinds(product, task.id)).toEqual(['debit']);
  });

  test('deadline fails and refunds a task that never gets images', async () => {
    product.upstream.script('generations', ['hang', 'hang', 'hang']);

    const created = await createTask(product, { model: 'primary-only' });
    const task = await product.waitForTask(created.body.id, ['succeeded', 'failed']);

    expect(task.status).toBe('failed');
    expect(task.errorCode).toBe('TASK_DEADLINE_EXCEEDED');
    expect(await ledgerKinds(product, task.id)).toEqual(['debit', 'refund']);
  });

  test('redelivers a webhook on request with the same webhook-id', async () => {
    const receiver = await startWebhookReceiver({});
    try {
      const created = await createTask(product, { webhookUrl: `${receiver.url}/again` });
      await product.waitForTask(created.body.id, ['succeeded']);
      await waitFor(() => receiver.requests.length >= 1);

      const redelivered = await product.request('POST', `/v1/tasks/${created.body.id}/webhook-deliveries/redeliver`);
      await waitFor(() => receiver.requests.length >= 2);

      expect(redelivered.status).toBe(202);
      expect(receiver.requests[1]!.headers['webhook-id']).toBe(receiver.requests[0]!.headers['webhook-id']);
    } finally {
      await receiver.close();
    }
  });
});

describe('asynchronous provider', () => {
  let product: ProductHarness;

  beforeAll(async () => {
    product = await startProduct({
      upstream: { callbackSecret: CALLBACK_SECRET, callbackDelayMs: 300, pollsUntilDone: 1_000 },
      providers: (upstreamUrl) => ({
        providers: [{ id: 'jobs', kind: 'async', baseUrl: upstreamUrl, timeoutMs: 5_000, callbackSecret: CALLBACK_SECRET }],
        models: [{ id: TEST_MODEL, label: 'Test model', providers: ['jobs'], defaultUnitPrice: 10 }],
      }),
    });
  });

  afterAll(async () => {
    await product?.close();
  });

  test('completes through the provider callback signal', async () => {
    const created = await createTask(product);
    const task = await product.waitForTask(created.body.id, ['succeeded', 'failed'], 20_000);

    expect(task.status).toBe('succeeded');
    expect(product.upstream.callbacks.length).toBeGreaterThanOrEqual(1);
    expect(product.upstream.callbacks[0]!.status).toBe(204);
    expect(task.assets).toHaveLength(1);
    expect(await ledgerKinds(product, task.id)).toEqual(['debit']);
  });
});
