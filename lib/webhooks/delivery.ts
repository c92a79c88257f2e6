import http from 'node:http';
import https from 'node:https';
import type { LookupFunction } from 'node:net';
import { performance } from 'node:perf_hooks';

import { AppError } from '../errors';
import { buildWebhookHeaders } from './signing';
import { checkWebhookUrl, type CheckedWebhookUrl, type WebhookAddress, type WebhookLookup } from './url-policy';

/** Response bytes read before the connection is closed; the body itself is discarded. */
export const MAX_WEBHOOK_RESPONSE_BYTES = 64 * 1024;

const USER_AGENT = 'NovartStudio-Webhooks/1';

export interface DeliverWebhookOptions {
  url: string;
  /** The account's `whsec_…` signing secret, or the current and previous one during a rotation's grace period. */
  secret: string | readonly string[];
  /** The `webhook-id` header: one per event, the same on every retry. */
  webhookId: string;
  /** JSON text serialised once by the caller. Exactly these bytes are signed and sent. */
  body: string;
  /** Hard limit of the whole attempt: resolution, connection, response headers and body. */
  timeoutMs: number;
  allowedCidrs: readonly string[];
  lookup?: WebhookLookup;
}

export interface WebhookDeliveryResult {
  statusCode: number;
  durationMs: number;
}

export type WebhookFailureReason = 'timeout' | 'network' | 'non_2xx' | 'rejected_address';

/**
 * A failed delivery attempt. Callers retry unless `permanent` is set, which
 * only a rejected address sets: retrying a URL that points at a private
 * network would not change the outcome.
 */
export class WebhookDeliveryError extends Error {
  readonly reason: WebhookFailureReason;
  readonly statusCode?: number;
  readonly durationMs: number;
  readonly permanent: boolean;
  /** The policy's details (reason, hostname, address) when the address was rejected. */
  readonly rejection?: Record<string, unknown>;

  constructor(
    message: string,
    fields: { reason: WebhookFailureReason; durationMs: number; statusCode?: number; rejection?: Record<string, unknown> },
  ) {
    super(message);
    this.name = 'WebhookDeliveryError';
    this.reason = fields.reason;
    this.durationMs = fields.durationMs;
    this.permanent = fields.reason === 'rejected_address';
    if (fields.statusCode !== undefined) this.statusCode = fields.statusCode;
    if (fields.rejection !== undefined) this.rejection = fields.rejection;
  }
}

/**
 * Sends one signed delivery attempt. The host is resolved and checked against
 * the URL policy, and the connection goes to exactly the checked addresses, so
 * a DNS answer that changes between check and connect (rebinding) is never
 * used. Redirects are not followed. Resolves only on a 2xx response and
 * throws `WebhookDeliveryError` otherwise.
 */
export async function deliverWebhook(options: DeliverWebhookOptions): Promise<WebhookDeliveryResult> {
  const startedAt = performance.now();
  const elapsed = () => Math.round(performance.now() - startedAt);
  const deadline = AbortSignal.timeout(options.timeoutMs);

  const checked = await checkAddress(options, deadline, elapsed);

  const bodyBytes = Buffer.from(options.body, 'utf8');
  const headers = {
    ...buildWebhookHeaders(options.secret, options.webhookId, new Date(), options.body),
    'content-type': 'application/json',
    'content-length': String(bodyBytes.length),
    'user-agent': USER_AGENT,
  };

  const statusCode = await postToPinnedAddress(checked, headers, bodyBytes, deadline, elapsed);

  const durationMs = elapsed();
  if (statusCode < 200 || statusCode > 299) {
    const hint = statusCode >= 300 && statusCode < 400 ? ' Redirects are not followed.' : '';
    throw new WebhookDeliveryError(`Webhook receiver returned HTTP ${statusCode}.${hint}`, {
      reason: 'non_2xx',
      statusCode,
      durationMs,
    });
  }
  return { statusCode, durationMs };
}

async function checkAddress(
  options: DeliverWebhookOptions,
  deadline: AbortSignal,
  elapsed: () => number,
): Promise<CheckedWebhookUrl> {
  try {
    return await untilAborted(
      checkWebhookUrl(options.url, { allowedCidrs: options.allowedCidrs, lookup: options.lookup }),
      deadline,
    );
  } catch (error) {
    if (deadline.aborted) {
      throw new WebhookDeliveryError('Webhook host resolution timed out.', { reason: 'timeout', durationMs: elapsed() });
    }
    if (!(error instanceof AppError) || error.code !== 'WEBHOOK_URL_REJECTED') throw error;

    // A resolver failure may be temporary, so it is retried like a network error.
    if (error.details?.reason === 'unresolvable') {
      throw new WebhookDeliveryError(error.message, { reason: 'network', durationMs: elapsed() });
    }
    throw new WebhookDeliveryError(error.message, {
      reason: 'rejected_address',
      durationMs: elapsed(),
      rejection: error.details,
    });
  }
}

/**
 * POSTs the body and returns the response status once the response body is
 * read (up to the cap) or the deadline passes after the headers arrived.
 */
function postToPinnedAddress(
  checked: CheckedWebhookUrl,
  headers: Record<string, string>,
  bodyBytes: Buffer,
  deadline: AbortSignal,
  elapsed: () => number,
): Promise<number> {
  return new Promise((resolve, reject) => {
    let statusCode: number | undefined;
    let settled = false;

    const settle = (error?: Error) => {
      if (settled) return;
      settled = true;
      request.destroy();

      if (statusCode !== undefined) {
        resolve(statusCode);
      } else if (deadline.aborted) {
        reject(new WebhookDeliveryError('Webhook delivery timed out.', { reason: 'timeout', durationMs: elapsed() }));
      } else {
        const detail = error ? `: ${describeNetworkError(error)}` : '';
        reject(new WebhookDeliveryError(`Webhook delivery failed${detail}.`, { reason: 'network', durationMs: elapsed() }));
      }
    };

    const transport = checked.url.protocol === 'https:' ? https : http;
    // No shared agent: every attempt opens its own connection to the pinned address.
    // The URL keeps the host name, so the Host header and TLS server name stay the URL's.
    const request = transport.request(checked.url, {
      method: 'POST',
      headers,
      agent: false,
      lookup: pinnedLookup(checked.hostname, checked.addresses),
      signal: deadline,
    });

    request.on('response', (response) => {
      statusCode = response.statusCode ?? 0;

      let receivedBytes = 0;
      response.on('data', (chunk: Buffer) => {
        receivedBytes += chunk.length;
        if (receivedBytes >= MAX_WEBHOOK_RESPONSE_BYTES) settle();
      });
      response.on('end', () => settle());
      response.on('error', () => settle());
      response.on('close', () => settle());
    });
    request.on('error', (error) => settle(error));
    request.on('close', () => settle());

    request.end(bodyBytes);
  });
}

/**
 * A resolver for `http.request` that returns only the addresses the policy
 * checked. Node skips it for IP-literal hosts, which were checked as they are.
 */
function pinnedLookup(hostname: string, addresses: WebhookAddress[]): LookupFunction {
  return (requestedHostname, options, callback) => {
    let family = options.family;
    if (family === 'IPv4') family = 4;
    if (family === 'IPv6') family = 6;
    const matching = addresses.filter((entry) => !family || entry.family === family);
    const first = matching[0];

    if (requestedHostname !== hostname || first === undefined) {
      const error: NodeJS.ErrnoException = new Error(`No checked address for host "${requestedHostname}".`);
      error.code = 'ENOTFOUND';
      callback(error, '', 0);
      return;
    }

    if (options.all) {
      callback(null, matching);
    } else {
      callback(null, first.address, first.family);
    }
  };
}

function describeNetworkError(error: Error): string {
  const code = (error as NodeJS.ErrnoException).code;
  return code ? `${code} ${error.message}` : error.message;
}

function untilAborted<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  return new Promise((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    if (signal.aborted) return onAbort();
    signal.addEventListener('abort', onAbort, { once: true });

    promise.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}
