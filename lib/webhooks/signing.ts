import { randomBytes } from 'node:crypto';
import { Webhook } from 'standardwebhooks';

/**
 * Standard Webhooks signatures (https://www.standardwebhooks.com): HMAC-SHA256
 * over `${webhook-id}.${webhook-timestamp}.${body}`, sent as `v1,<base64>`.
 */

export const WEBHOOK_SECRET_PREFIX = 'whsec_';

/** The three headers a receiver needs to verify and deduplicate a delivery. */
export interface WebhookSignatureHeaders {
  'webhook-id': string;
  'webhook-timestamp': string;
  'webhook-signature': string;
}

/** Generates an account's signing secret: `whsec_` and 32 random bytes in base64. */
export function generateWebhookSecret(): string {
  return WEBHOOK_SECRET_PREFIX + randomBytes(32).toString('base64');
}

/** Signs the exact body that will be sent and returns the `webhook-signature` value (`v1,<base64>`). */
export function signWebhook(secret: string, id: string, timestamp: Date, body: string): string {
  return new Webhook(secret).sign(id, timestamp, body);
}

/**
 * Builds the signature headers for one delivery attempt. The id stays the same
 * across retries so receivers can deduplicate, while the timestamp is the
 * attempt's own, because receivers reject timestamps older than a few minutes.
 * With several secrets (during a rotation's grace period) the header carries
 * one space-separated signature per secret, as Standard Webhooks allows.
 */
export function buildWebhookHeaders(secret: string | readonly string[], id: string, timestamp: Date, body: string): WebhookSignatureHeaders {
  const secrets = typeof secret === 'string' ? [secret] : secret;
  return {
    'webhook-id': id,
    'webhook-timestamp': String(Math.floor(timestamp.getTime() / 1000)),
    'webhook-signature': secrets.map((each) => signWebhook(each, id, timestamp, body)).join(' '),
  };
}
