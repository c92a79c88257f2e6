import type { ErrorCode } from '../../../lib/errors';

/** Failures the Studio detects itself, next to the codes the server sends in its error envelope. */
export type ClientErrorCode = 'NETWORK_ERROR' | 'UNEXPECTED_RESPONSE';

/** A failed API call, keyed by a code that `errors.<code>` translates. */
export class ApiError extends Error {
  constructor(
    readonly code: ErrorCode | ClientErrorCode,
    message: string,
    readonly status?: number,
    readonly requestId?: string,
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

export interface GetJsonOptions {
  signal?: AbortSignal;
  /** Non-2xx statuses whose body is still a valid response, such as 503 from a readiness probe. */
  acceptedStatuses?: readonly number[];
}

/**
 * Sends a GET request to the Studio's own origin and parses the JSON body.
 * Throws ApiError with the server's error code, or NETWORK_ERROR and UNEXPECTED_RESPONSE.
 * An aborted request rethrows the AbortError so that callers can ignore it.
 */
export async function getJson(path: string, options: GetJsonOptions = {}): Promise<unknown> {
  let response: Response;
  try {
    response = await fetch(path, {
      headers: { accept: 'application/json' },
      credentials: 'same-origin',
      signal: options.signal,
    });
  } catch (error) {
    if (options.signal?.aborted) throw error;
    throw new ApiError('NETWORK_ERROR', `GET ${path} failed: ${String(error)}`);
  }

  const body = await readJsonBody(response);
  const accepted = response.ok || (options.acceptedStatuses ?? []).includes(response.status);
  if (accepted && body !== undefined) return body;

  throw toApiError(path, response.status, body);
}

export interface RequestOptions {
  signal?: AbortSignal;
  /** A JSON body; sent with `Content-Type: application/json`. */
  json?: unknown;
  /** Raw bytes, such as an image upload; sent with the blob's own type. */
  blob?: Blob;
  headers?: Record<string, string>;
}

/**
 * Sends any request to the Studio's own origin with the session cookie and
 * parses the JSON response (undefined for 204). Throws ApiError like getJson.
 */
export async function requestJson<T = unknown>(method: string, path: string, options: RequestOptions = {}): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json', ...options.headers };
  let body: BodyInit | undefined;
  if (options.json !== undefined) {
    headers['content-type'] = 'application/json';
    body = JSON.stringify(options.json);
  } else if (options.blob) {
    headers['content-type'] = options.blob.type || 'application/octet-stream';
    body = options.blob;
  }

  let response: Response;
  try {
    response = await fetch(path, { method, headers, body, credentials: 'same-origin', signal: options.signal });
  } catch (error) {
    if (options.signal?.aborted) throw error;
    throw new ApiError('NETWORK_ERROR', `${method} ${path} failed: ${String(error)}`);
  }

  if (response.status === 204) return undefined as T;
  const parsed = await readJsonBody(response);
  if (response.ok && parsed !== undefined) return parsed as T;

  throw toApiError(path, response.status, parsed);
}

async function readJsonBody(response: Response): Promise<unknown> {
  try {
    return await response.json();
  } catch {
    return undefined;
  }
}

function toApiError(path: string, status: number, body: unknown): ApiError {
  const envelope = (body as { error?: { code?: unknown; message?: unknown; requestId?: unknown; details?: unknown } } | undefined)?.error;

  if (typeof envelope?.code === 'string' && typeof envelope.message === 'string') {
    const requestId = typeof envelope.requestId === 'string' ? envelope.requestId : undefined;
    const details = typeof envelope.details === 'object' && envelope.details !== null ? (envelope.details as Record<string, unknown>) : undefined;
    return new ApiError(envelope.code as ErrorCode, envelope.message, status, requestId, details);
  }

  // A proxy in front of a stopped API responds with 502 to 504 with its own HTML page.
  const code = status >= 502 && status <= 504 ? 'SERVICE_UNAVAILABLE' : 'UNEXPECTED_RESPONSE';
  return new ApiError(code, `${path} returned HTTP ${status} without a JSON error envelope`, status);
}
