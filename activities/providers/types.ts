/**
 * The contract between generation activities and upstream image providers.
 *
 * A provider either returns images right away, or accepts a job and is
 * polled (or calls back) until the job settles. Every failure is an
 * UpstreamError whose `transient` flag tells the caller whether retrying the
 * same provider can help.
 */

export type ImageMimeType = 'image/png' | 'image/jpeg' | 'image/webp';

export interface ReferenceImage {
  data: Buffer;
  mimeType: string;
}

export interface GeneratedImage {
  data: Buffer;
  mimeType: ImageMimeType;
}

export interface GenerationRequest {
  prompt: string;
  negativePrompt?: string;
  /** The provider's own model name. */
  model: string;
  width: number;
  height: number;
  /** Number of images, 1 to 4. */
  count: number;
  seed: number;
  referenceImages: ReferenceImage[];
}

export interface GenerateOptions {
  /** Aborts the upstream call, for example when the activity is cancelled. */
  signal?: AbortSignal;
  /** URL to which an asynchronous provider POSTs the job's completion. */
  callbackUrl?: string;
}

export type GenerationResult =
  | { kind: 'completed'; images: GeneratedImage[] }
  | { kind: 'submitted'; jobId: string };

export type PollResult =
  | { kind: 'completed'; images: GeneratedImage[] }
  | { kind: 'pending' }
  | { kind: 'failed'; error: UpstreamError };

export type ProviderKind = 'builtin' | 'openai' | 'async';

export interface ImageProvider {
  readonly id: string;
  readonly kind: ProviderKind;
  generate(request: GenerationRequest, options?: GenerateOptions): Promise<GenerationResult>;
  /** Present on asynchronous providers only. */
  poll?(jobId: string, options?: { signal?: AbortSignal }): Promise<PollResult>;
}

export const UPSTREAM_ERROR_CODES = [
  'UPSTREAM_TIMEOUT',
  'UPSTREAM_RATE_LIMITED',
  'UPSTREAM_UNAVAILABLE',
  'UPSTREAM_REJECTED',
  'CONTENT_POLICY',
  'UPSTREAM_EMPTY_RESULT',
  'UPSTREAM_BAD_RESPONSE',
] as const;

export type UpstreamErrorCode = (typeof UPSTREAM_ERROR_CODES)[number];

/** Codes worth retrying on the same provider. The others move on to the next provider or fail the task. */
const TRANSIENT_CODES: ReadonlySet<UpstreamErrorCode> = new Set(['UPSTREAM_TIMEOUT', 'UPSTREAM_RATE_LIMITED', 'UPSTREAM_UNAVAILABLE']);

export interface UpstreamErrorDetails {
  /** HTTP status of the upstream response, when there was one. */
  status?: number;
  /** Delay the upstream asked for in Retry-After. */
  retryAfterMs?: number;
  /** Overrides the code's default transience. */
  transient?: boolean;
  cause?: unknown;
}

/** A failed upstream call with a stable code. Messages leave out credentials. */
export class UpstreamError extends Error {
  readonly transient: boolean;
  readonly status?: number;
  readonly retryAfterMs?: number;

  constructor(
    readonly code: UpstreamErrorCode,
    message: string,
    details: UpstreamErrorDetails = {},
  ) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.name = 'UpstreamError';
    this.transient = details.transient ?? TRANSIENT_CODES.has(code);
    if (details.status !== undefined) this.status = details.status;
    if (details.retryAfterMs !== undefined) this.retryAfterMs = details.retryAfterMs;
  }
}

export function isUpstreamError(error: unknown): error is UpstreamError {
  return error instanceof UpstreamError;
}

export const MAX_IMAGE_COUNT = 4;
