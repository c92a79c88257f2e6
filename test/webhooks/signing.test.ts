import { Webhook } from 'standardwebhooks';

import { buildTaskWebhookPayload } from '../../lib/webhooks/payload';
import { buildWebhookHeaders, generateWebhookSecret, signWebhook } from '../../lib/webhooks/signing';

describe('generateWebhookSecret', () => {
  test('returns whsec_ with 32 random bytes', () => {
    const secret = generateWebhookSecret();

    const key = Buffer.from(secret.slice('whsec_'.length), 'base64');
    expect(secret.startsWith('whsec_')).toBe(true);
    expect(key).toHaveLength(32);
    expect(generateWebhookSecret()).not.toBe(secret);
  });
});

describe('signWebhook', () => {
  test('signature verifies with standardwebhooks', () => {
    const secret = generateWebhookSecret();
    const body = '{"type":"task.failed","data":{"id":"t-1"}}';
    const timestamp = new Date();

    const headers = buildWebhookHeaders(secret, 'msg_1', timestamp, body);

    expect(headers['webhook-signature']).toBe(signWebhook(secret, 'msg_1', timestamp, body));
    expect(headers['webhook-signature']).toMatch(/^v1,[A-Za-z0-9+/]+=*$/);
    expect(headers['webhook-timestamp']).toBe(String(Math.floor(timestamp.getTime() / 1000)));
    expect(new Webhook(secret).verify(body, { ...headers })).toEqual(JSON.parse(body));
  });

  test('signature fails for a changed body', () => {
    const secret = generateWebhookSecret();
    const headers = buildWebhookHeaders(secret, 'msg_1', new Date(), '{"price":10}');

    const verify = () => new Webhook(secret).verify('{"price":1}', { ...headers });

    expect(verify).toThrow();
  });
});

describe('buildTaskWebhookPayload', () => {
  const finishedAt = new Date('2030-01-02T03:04:05.000Z');

  test('describes a succeeded task without its prompt', () => {
    const task = {
      id: 'task-1',
      status: 'succeeded' as const,
      model: 'novart-base',
      price: 40,
      prompt: 'a private prompt',
      errorCode: null,
      errorMessage: null,
      workflowId: 'task-task-1',
      finishedAt,
      assets: [{ id: 'asset-1', width: 1024, height: 768, url: null }],
    };

    const payload = buildTaskWebhookPayload(task);

    expect(payload).toEqual({
      type: 'task.succeeded',
      timestamp: '2030-01-02T03:04:05.000Z',
      data: {
        id: 'task-1',
        status: 'succeeded',
        model: 'novart-base',
        price: 40,
        assets: [{ id: 'asset-1', width: 1024, height: 768 }],
        workflowId: 'task-task-1',
      },
    });
    expect(JSON.stringify(payload)).not.toContain('private prompt');
  });

  test('carries the error of a failed task', () => {
    const payload = buildTaskWebhookPayload({
      id: 'task-2',
      status: 'failed',
      model: 'novart-base',
      price: 40,
      errorCode: 'UPSTREAM_FAILED',
      errorMessage: 'The image provider failed.',
      workflowId: 'task-task-2',
      finishedAt,
      assets: [],
    });

    expect(payload.type).toBe('task.failed');
    expect(payload.data.errorCode).toBe('UPSTREAM_FAILED');
    expect(payload.data.errorMessage).toBe('The image provider failed.');
    expect(payload.data.assets).toEqual([]);
  });

  test('names a canceled task event', () => {
    const payload = buildTaskWebhookPayload({
      id: 'task-3',
      status: 'canceled',
      model: 'novart-base',
      price: 0,
      workflowId: 'task-task-3',
      assets: [{ id: 'asset-9', width: 512, height: 512, url: 'https://studio.example.com/v1/tasks/task-3/assets/asset-9' }],
    });

    expect(payload.type).toBe('task.canceled');
    expect(payload.data.assets[0]?.url).toBe('https://studio.example.com/v1/tasks/task-3/assets/asset-9');
  });
});
