import { UpstreamError, type GeneratedImage, type ImageMimeType } from './types';

/**
 * HTTP plumbing shared by the upstream clients: a hard timeout over the whole
 * exchange, capped response bodies, and one mapping from transport failures
 * and HTTP statuses to UpstreamError codes.
 */

/** Maximum size of a JSON response read from an upstream, enough for four large base64 images. */
export const MAX_RESPONSE_BYTES = 96 * 1024 * 1024;

/** Maximum size of one image downloaded from a URL that an upstream returned. */
export const MAX_IMAGE_BYTES = 32 * 1024 * 1024;

/** Maximum length of upstream error text kept in messages, so a large HTML error page does not flood logs. */
const MAX_ERROR_TEXT = 300;

export interface UpstreamResponse {
  status: number;
  headers: Headers;
  body: Buffer;
}

export interface UpstreamLimits {
  timeoutMs: number;
  maxBytes: number;
  signal?: AbortSignal;
}

/**
 * Sends one request and reads its whole body within `timeoutMs`. Transport
 * failures become UpstreamErrors, and a caller's abort rethrows the abort reason.
 */
export async function sendUpstream(url: string, init: RequestInit, limits: UpstreamLimits): Promise<UpstreamResponse> {
  const timeout = AbortSignal.timeout(limits.timeoutMs);
  const signal = limits.signal ? AbortSignal.any([limits.signal, timeout]) : timeout;
  const requestLabel = describeRequest(init.method ?? 'GET', url);

  try {
    const response = await fetch(url, { ...init, signal });
    const body = await readBody(response, limits.maxBytes, requestLabel);
    return { status: response.status, headers: response.headers, body };
  } catch (error) {
    if (limits.signal?.aborted) throw limits.signal.reason;
    if (error instanceof UpstreamError) throw error;
    if (timeout.aborted) {
      throw new UpstreamError('UPSTREAM_TIMEOUT', `${requestLabel} timed out after ${limits.timeoutMs} ms`, { cause: error });
    }
    throw transportError(error, requestLabel);
  }
}

async function readBody(response: Response, maxBytes: number, requestLabel: string): Promise<Buffer> {
  const declared = Number(response.headers.get('content-length') ?? Number.NaN);
  if (declared > maxBytes) {
    await response.body?.cancel();
    throw tooLarge(requestLabel, maxBytes);
  }
  if (!response.body) return Buffer.alloc(0);

  const chunks: Uint8Array[] = [];
  let total = 0;
  for await (const chunk of response.body) {
    total += chunk.byteLength;
    if (total > maxBytes) throw tooLarge(requestLabel, maxBytes);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks, total);
}

function tooLarge(requestLabel: string, maxBytes: number): UpstreamError {
  return new UpstreamError('UPSTREAM_BAD_RESPONSE', `${requestLabel} returned a response larger than ${maxBytes} bytes`);
}

const TIMEOUT_CAUSES = new Set(['UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT', 'ETIMEDOUT']);

/** fetch rejects with a TypeError whose `cause` carries the socket error code. */
function transportError(error: unknown, requestLabel: string): UpstreamError {
  const cause = (error as { cause?: { code?: unknown; message?: unknown } } | undefined)?.cause;
  const code = typeof cause?.code === 'string' ? cause.code : undefined;
  const reason = code ?? (typeof cause?.message === 'string' ? cause.message : String(error));

  if (code && TIMEOUT_CAUSES.has(code)) {
    return new UpstreamError('UPSTREAM_TIMEOUT', `${requestLabel} timed out (${code})`, { cause: error });
  }
  return new UpstreamError('UPSTREAM_UNAVAILABLE', `${requestLabel} failed: ${reason}`, { cause: error });
}

/** Describes a request by method, host and path only, because query strings may carry credentials. */
export function describeRequest(method: string, url: string): string {
  try {
    const parsed = new URL(url);
    return `${method} ${parsed.host}${parsed.pathname}`;
  } catch {
    return `${method} (invalid URL)`;
  }
}

/** Reads Retry-After as seconds or an HTTP date. */
export function parseRetryAfter(value: string | null | undefined, now: number = Date.now()): number | undefined {
  if (!value) return undefined;

  const text = value.trim();
  if (/^\d+(\.\d+)?$/.test(text)) return Math.round(Number(text) * 1000);

  const date = Date.parse(text);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, date - now);
}

export interface UpstreamFault {
  /** The upstream's own error code, such as `content_policy_violation`. */
  code?: string;
  message?: string;
}

/** Maps a non-2xx response to an UpstreamError. Callers check for content-policy errors first. */
export function errorForStatus(response: UpstreamResponse, requestLabel: string, fault: UpstreamFault = {}): UpstreamError {
  const { status } = response;
  const detail = fault.message ? `: ${truncate(fault.message)}` : '';
  const message = `${requestLabel} failed with status ${status}${fault.code ? ` (${fault.code})` : ''}${detail}`;

  if (status === 429) {
    const retryAfterMs = parseRetryAfter(response.headers.get('retry-after'));
    return new UpstreamError('UPSTREAM_RATE_LIMITED', message, retryAfterMs === undefined ? { status } : { status, retryAfterMs });
  }
  if (status === 408) return new UpstreamError('UPSTREAM_TIMEOUT', message, { status });
  if (status >= 500) {
    const retryAfterMs = parseRetryAfter(response.headers.get('retry-after'));
    return new UpstreamError('UPSTREAM_UNAVAILABLE', message, retryAfterMs === undefined ? { status } : { status, retryAfterMs });
  }
  return new UpstreamError('UPSTREAM_REJECTED', message, { status });
}

export function truncate(text: string, length: number = MAX_ERROR_TEXT): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > length ? `${flat.slice(0, length)}…` : flat;
}

/** Parses a JSON body, or fails with UPSTREAM_BAD_RESPONSE. */
export function parseJson(response: UpstreamResponse, requestLabel: string): unknown {
  try {
    return JSON.parse(response.body.toString('utf8'));
  } catch (error) {
    throw new UpstreamError('UPSTREAM_BAD_RESPONSE', `${requestLabel} returned status ${response.status} with malformed JSON`, { cause: error });
  }
}

/** Parses a JSON body when possible, for reading error details. */
export function tryParseJson(body: Buffer): unknown {
  try {
    return JSON.parse(body.toString('utf8'));
  } catch {
    return undefined;
  }
}

/** Detects PNG, JPEG and WebP by their magic bytes, because a declared content type is not trusted. */
export function detectImageMimeType(data: Buffer): ImageMimeType | undefined {
  if (data.length >= 8 && data.subarray(0, 8).equals(PNG_SIGNATURE)) return 'image/png';
  if (data.length >= 3 && data[0] === 0xff && data[1] === 0xd8 && data[2] === 0xff) return 'image/jpeg';
  if (data.length >= 12 && data.toString('latin1', 0, 4) === 'RIFF' && data.toString('latin1', 8, 12) === 'WEBP') return 'image/webp';
  return undefined;
}

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

/** Checks that bytes are an image of a supported format. */
export function toGeneratedImage(data: Buffer, requestLabel: string): GeneratedImage {
  const mimeType = detectImageMimeType(data);
  if (!mimeType) {
    throw new UpstreamError('UPSTREAM_BAD_RESPONSE', `${requestLabel} returned ${data.length} bytes that are not a PNG, JPEG or WebP image`);
  }
  return { data, mimeType };
}

/** An image item as upstreams return it: inline base64 or a URL to download. */
export type ImageItem = { base64: string } | { url: string };

/** Decodes or downloads every item, with the download cap applied to each. */
export async function resolveImageItems(items: ImageItem[], requestLabel: string, limits: Omit<UpstreamLimits, 'maxBytes'>): Promise<GeneratedImage[]> {
  return Promise.all(
    items.map(async (item) => {
      if ('base64' in item) return toGeneratedImage(Buffer.from(item.base64, 'base64'), requestLabel);
      return downloadImage(item.url, requestLabel, limits);
    }),
  );
}

async function downloadImage(url: string, requestLabel: string, limits: Omit<UpstreamLimits, 'maxBytes'>): Promise<GeneratedImage> {
  if (!URL.canParse(url) || !/^https?:$/.test(new URL(url).protocol)) {
    throw new UpstreamError('UPSTREAM_BAD_RESPONSE', `${requestLabel} returned an image URL that is not http(s)`);
  }

  // NOTE: image URLs come from the configured upstream, which is trusted as much as its base URL.
  const response = await sendUpstream(url, { method: 'GET' }, { ...limits, maxBytes: MAX_IMAGE_BYTES });
  const download = describeRequest('GET', url);
  if (response.status < 200 || response.status >= 300) throw errorForStatus(response, download);

  return toGeneratedImage(response.body, download);
}
