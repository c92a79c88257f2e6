import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';

import { AppError } from '../../lib/errors';
import { deliverWebhook, WebhookDeliveryError, type DeliverWebhookOptions } from '../../lib/webhooks/delivery';
import { generateWebhookSecret } from '../../lib/webhooks/signing';
import { checkWebhookUrl, type WebhookLookup } from '../../lib/webhooks/url-policy';
import { startWebhookReceiver, type ReceiverStep, type WebhookReceiver } from '../support/webhook-receiver';

// Every request in this file goes to 127.0.0.1. Names are resolved by injected
// lookups, and any other address must be rejected before a connection is made.
const LOOPBACK_ONLY = ['127.0.0.0/8'];

const secret = generateWebhookSecret();
const body = JSON.stringify({ type: 'task.succeeded', data: { id: 'task-1', note: 'café ✓' } });

let receivers: WebhookReceiver[] = [];

async function receiver(script: ReceiverStep[] = []): Promise<WebhookReceiver> {
  const started = await startWebhookReceiver({ script });
  receivers.push(started);
  return started;
}

afterEach(async () => {
  await Promise.all(receivers.map((started) => started.close()));
  receivers = [];
});

function options(url: string, overrides: Partial<DeliverWebhookOptions> = {}): DeliverWebhookOptions {
  return {
    url,
    secret,
    webhookId: 'msg_task-1_succeeded',
    body,
    timeoutMs: 5_000,
    allowedCidrs: LOOPBACK_ONLY,
    ...overrides,
  };
}

async function failureOf(promise: Promise<unknown>): Promise<WebhookDeliveryError> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  if (!(error instanceof WebhookDeliveryError)) throw new Error(`expected a WebhookDeliveryError, got ${String(error)}`);
  return error;
}

function headerText(value: string | string[] | undefined): string {
  return Array.isArray(value) ? value.join(',') : (value ?? '');
}

describe('deliverWebhook', () => {
  test('sends a body that verifies', async () => {
    const target = await receiver([200]);

    const result = await deliverWebhook(options(`${target.url}/hooks?source=novart`));

    expect(result.statusCode).toBe(200);
    expect(result.durationMs).toBeGreaterThanOrEqual(0);
    expect(target.requests).toHaveLength(1);
    const request = target.requests[0]!;
    expect(request.method).toBe('POST');
    expect(request.url).toBe('/hooks?source=novart');
    expect(request.headers['content-type']).toBe('application/json');
    expect(request.headers['webhook-id']).toBe('msg_task-1_succeeded');
    expect(request.body.equals(Buffer.from(body, 'utf8'))).toBe(true);
    const verified = new Webhook(secret).verify(request.body.toString('utf8'), {
      'webhook-id': headerText(request.headers['webhook-id']),
      'webhook-timestamp': headerText(request.headers['webhook-timestamp']),
      'webhook-signature': headerText(request.headers['webhook-signature']),
    });
    expect(verified).toEqual(JSON.parse(body));
  });

  test('keeps the webhook id across retries', async () => {
    const target = await receiver([503, 200]);

    const firstAttempt = await failureOf(deliverWebhook(options(target.url)));
    const secondAttempt = await deliverWebhook(options(target.url));

    expect(firstAttempt.statusCode).toBe(503);
    expect(secondAttempt.statusCode).toBe(200);
    expect(target.requests).toHaveLength(2);
    expect(target.requests[0]!.headers['webhook-id']).toBe('msg_task-1_succeeded');
    expect(target.requests[1]!.headers['webhook-id']).toBe('msg_task-1_succeeded');
  });

  test('throws on 503 with the status code', async () => {
    const target = await receiver([503]);

    const error = await failureOf(deliverWebhook(options(target.url)));

    expect(error.reason).toBe('non_2xx');
    expect(error.statusCode).toBe(503);
    expect(error.permanent).toBe(false);
    expect(error.durationMs).toBeGreaterThanOrEqual(0);
  });

  test('throws timeout when the receiver is slow', async () => {
    const target = await receiver([{ status: 200, delayMs: 30_000 }]);

    const error = await failureOf(deliverWebhook(options(target.url, { timeoutMs: 200 })));

    expect(error.reason).toBe('timeout');
    expect(error.statusCode).toBeUndefined();
    expect(error.permanent).toBe(false);
  });

  test('throws timeout when resolution hangs', async () => {
    const lookup: WebhookLookup = () => new Promise(() => undefined);

    const error = await failureOf(deliverWebhook(options('http://slow-dns.test/', { timeoutMs: 200, lookup })));

    expect(error.reason).toBe('timeout');
  });

  test('does not follow a redirect', async () => {
    const elsewhere = await receiver([200]);
    const target = await receiver([{ status: 302, headers: { location: `${elsewhere.url}/stolen` } }]);

    const error = await failureOf(deliverWebhook(options(target.url)));

    expect(error.reason).toBe('non_2xx');
    expect(error.statusCode).toBe(302);
    expect(target.requests).toHaveLength(1);
    expect(elsewhere.connectionCount()).toBe(0);
  });

  test('throws network error on a closed port', async () => {
    const closedPort = await unusedPort();

    const error = await failureOf(deliverWebhook(options(`http://127.0.0.1:${closedPort}/`)));

    expect(error.reason).toBe('network');
    expect(error.permanent).toBe(false);
    expect(error.message).toContain('ECONNREFUSED');
  });

  test('treats an unresolvable host as retryable', async () => {
    const lookup: WebhookLookup = async () => {
      throw Object.assign(new Error('getaddrinfo ENOTFOUND missing.test'), { code: 'ENOTFOUND' });
    };

    const error = await failureOf(deliverWebhook(options('http://missing.test/', { lookup })));

    expect(error.reason).toBe('network');
    expect(error.permanent).toBe(false);
  });

  test('resolves despite a large response body', async () => {
    const target = await receiver([{ status: 200, body: Buffer.alloc(4 * 1024 * 1024, 0x61) }]);

    const result = await deliverWebhook(options(target.url));

    expect(result.statusCode).toBe(200);
  });

  test('connects only to the checked address', async () => {
    const target = await receiver([200]);
    const answers = ['127.0.0.1', '127.0.0.2'];
    const calls: string[] = [];
    const lookup: WebhookLookup = async (hostname) => {
      calls.push(hostname);
      // A second lookup result would be a rebinding, and 127.0.0.2 has no listener, so using it would fail.
      return [{ address: answers[calls.length - 1] ?? '127.0.0.2', family: 4 }];
    };

    const result = await deliverWebhook(options(`http://hooks.example.test:${target.port}/in`, { lookup }));

    expect(result.statusCode).toBe(200);
    expect(calls).toEqual(['hooks.example.test']);
    expect(target.requests[0]!.headers.host).toBe(`hooks.example.test:${target.port}`);
  });

  test('allowed CIDR lets 127.0.0.1 through', async () => {
    const target = await receiver([204]);

    const result = await deliverWebhook(options(target.url, { allowedCidrs: ['127.0.0.1/32'] }));

    expect(result.statusCode).toBe(204);
  });
});

describe('deliverWebhook rejections', () => {
  // Spellings of loopback aimed at a live receiver: a connection would show up in its count.
  const loopbackSpellings = [
    (port: number | string) => `http://127.0.0.1:${port}/`,
    (port: number | string) => `http://[::1]:${port}/`,
    (port: number | string) => `http://2130706433:${port}/`,
    (port: number | string) => `http://0x7f.1:${port}/`,
    (port: number | string) => `http://[::ffff:127.0.0.1]:${port}/`,
    (port: number | string) => `http://localhost.example.test:${port}/`,
  ];

  test.each(loopbackSpellings.map((spell) => [spell('PORT'), spell]))(
    'rejects %s without connecting',
    async (_label, spell) => {
      const target = await receiver([200]);
      const lookup: WebhookLookup = async () => [{ address: '127.0.0.1', family: 4 }];

      const error = await failureOf(deliverWebhook(options(spell(target.port), { allowedCidrs: [], lookup })));

      expect(error.reason).toBe('rejected_address');
      expect(error.permanent).toBe(true);
      expect(error.rejection?.reason).toBe('non_public_address');
      expect(target.connectionCount()).toBe(0);
    },
  );

  const otherRejected: Array<[string, string]> = [
    ['http://10.1.2.3/', 'non_public_address'],
    ['http://169.254.169.254/latest', 'metadata_address'],
    ['http://[::ffff:10.0.0.1]/', 'non_public_address'],
    ['ftp://example.com', 'scheme'],
    ['http://user:pass@example.com', 'credentials'],
  ];

  test.each(otherRejected)('rejects %s', async (url, reason) => {
    const lookup: WebhookLookup = async () => {
      throw new Error('lookup must not be called');
    };
    // The policy alone must reject first, so a faulty delivery can never reach a non-loopback address.
    await expect(checkWebhookUrl(url, { allowedCidrs: LOOPBACK_ONLY, lookup })).rejects.toBeInstanceOf(AppError);

    const error = await failureOf(deliverWebhook(options(url, { lookup })));

    expect(error.reason).toBe('rejected_address');
    expect(error.permanent).toBe(true);
    expect(error.rejection?.reason).toBe(reason);
  });

  test('rejects a name rebound to a private address', async () => {
    let answer = '93.184.216.34';
    const lookup: WebhookLookup = async () => [{ address: answer, family: 4 }];
    const url = 'https://hooks.rebind.test/novart';
    const atCreation = await checkWebhookUrl(url, { allowedCidrs: [], lookup });
    answer = '10.0.0.5';
    await expect(checkWebhookUrl(url, { allowedCidrs: [], lookup })).rejects.toBeInstanceOf(AppError);

    const error = await failureOf(deliverWebhook(options(url, { allowedCidrs: [], lookup })));

    expect(atCreation.addresses).toEqual([{ address: '93.184.216.34', family: 4 }]);
    expect(error.reason).toBe('rejected_address');
    expect(error.permanent).toBe(true);
    expect(error.rejection?.address).toBe('10.0.0.5');
  });
});

async function unusedPort(): Promise<number> {
  const server = http.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
