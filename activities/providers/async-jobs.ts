import { createHmac, timingSafeEqual } from 'node:crypto';
import { z } from 'zod';
import { appError } from '../../lib/errors';
import { MAX_RESPONSE_BYTES, describeRequest, errorForStatus, parseJson, resolveImageItems, sendUpstream, truncate, type ImageItem } from './http';
import { UpstreamError, type GenerateOptions, type GenerationRequest, type ImageProvider, type PollResult } from './types';

/**
 * Client of a submit-then-poll image API: `POST /jobs` accepts a job,
 * `GET /jobs/:id` reports its status, and the upstream may also POST the final
 * status to a callback URL, signed with HMAC-SHA256 over the raw body.
 */

export const PROVIDER_SIGNATURE_HEADER = 'x-provider-signature';

export interface AsyncJobsOptions {
  id: string;
  baseUrl: string;
  apiKey?: string;
  timeoutMs: number;
}

const imageItemSchema = z.union([z.object({ b64: z.string().min(1) }), z.object({ url: z.string().min(1) })]);

export const jobStatusSchema = z.object({
  id: z.string().min(1).optional(),
  status: z.enum(['queued', 'running', 'succeeded', 'failed']),
  images: z.array(imageItemSchema).nullish(),
  error: z.union([z.string(), z.looseObject({ code: z.string().nullish(), message: z.string().nullish() })]).nullish(),
});

export type JobStatus = z.infer<typeof jobStatusSchema>;

/** A verified callback: the final (or intermediate) status of one job. */
export type ProviderCallback = JobStatus & { id: string };

export interface AsyncJobsProvider extends ImageProvider {
  poll(jobId: string, options?: { signal?: AbortSignal }): Promise<PollResult>;
  /** Converts a job status, from polling or from a verified callback, into a poll result. */
  resultFromJob(job: JobStatus, options?: { signal?: AbortSignal }): Promise<PollResult>;
}

const submitResponseSchema = z.looseObject({ id: z.union([z.string().min(1), z.number()]).transform(String) });

const CONTENT_POLICY_CODES = new Set(['content_policy', 'content_policy_violation', 'moderation_blocked', 'nsfw']);

export function createAsyncJobsProvider(options: AsyncJobsOptions): AsyncJobsProvider {
  const root = options.baseUrl.replace(/\/+$/, '');
  const headers: Record<string, string> = { accept: 'application/json' };
  if (options.apiKey) headers.authorization = `Bearer ${options.apiKey}`;
  const limitsFor = (signal: AbortSignal | undefined) => ({ timeoutMs: options.timeoutMs, ...(signal ? { signal } : {}) });

  const resultFromJob: AsyncJobsProvider['resultFromJob'] = async (job, resultOptions = {}) => {
    const jobLabel = `job ${job.id ?? '(no id)'} at ${options.id}`;
    if (job.status === 'queued' || job.status === 'running') return { kind: 'pending' };
    if (job.status === 'failed') return { kind: 'failed', error: jobFailure(job, jobLabel) };

    const items = (job.images ?? []).map((item): ImageItem => ('b64' in item ? { base64: item.b64 } : { url: item.url }));
    if (items.length === 0) {
      return { kind: 'failed', error: new UpstreamError('UPSTREAM_EMPTY_RESULT', `${jobLabel} succeeded without any image`) };
    }
    return { kind: 'completed', images: await resolveImageItems(items, jobLabel, limitsFor(resultOptions.signal)) };
  };

  return {
    id: options.id,
    kind: 'async',
    resultFromJob,

    async generate(request: GenerationRequest, generateOptions: GenerateOptions = {}) {
      const url = `${root}/jobs`;
      const requestLabel = describeRequest('POST', url);

      // NOTE: this API has no field for reference images, so route such tasks to providers that accept them.
      const body = {
        model: request.model,
        prompt: request.prompt,
        negative_prompt: request.negativePrompt ?? '',
        width: request.width,
        height: request.height,
        n: request.count,
        seed: request.seed,
        ...(generateOptions.callbackUrl ? { callback_url: generateOptions.callbackUrl } : {}),
      };
      const response = await sendUpstream(
        url,
        { method: 'POST', headers: { ...headers, 'content-type': 'application/json' }, body: JSON.stringify(body) },
        { ...limitsFor(generateOptions.signal), maxBytes: MAX_RESPONSE_BYTES },
      );
      if (response.status < 200 || response.status >= 300) throw errorForStatus(response, requestLabel, faultOf(response.body));

      const accepted = submitResponseSchema.safeParse(parseJson(response, requestLabel));
      if (!accepted.success) throw new UpstreamError('UPSTREAM_BAD_RESPONSE', `${requestLabel} accepted the job without returning its id`);
      return { kind: 'submitted', jobId: accepted.data.id };
    },

    async poll(jobId: string, pollOptions: { signal?: AbortSignal } = {}) {
      const url = `${root}/jobs/${encodeURIComponent(jobId)}`;
      const requestLabel = describeRequest('GET', url);

      const response = await sendUpstream(url, { method: 'GET', headers }, { ...limitsFor(pollOptions.signal), maxBytes: MAX_RESPONSE_BYTES });
      if (response.status < 200 || response.status >= 300) throw errorForStatus(response, requestLabel, faultOf(response.body));

      const job = jobStatusSchema.safeParse(parseJson(response, requestLabel));
      if (!job.success) throw new UpstreamError('UPSTREAM_BAD_RESPONSE', `${requestLabel} returned a job status of unknown shape`);
      return resultFromJob({ ...job.data, id: job.data.id ?? jobId }, pollOptions);
    },
  };
}

/** Maps a failed job to an error, with content-policy rejections kept apart from other failures. */
function jobFailure(job: JobStatus, jobLabel: string): UpstreamError {
  const fault = typeof job.error === 'string' ? { message: job.error } : (job.error ?? {});
  const code = fault.code ?? undefined;
  const message = fault.message ? `: ${truncate(fault.message)}` : '';

  if (code && CONTENT_POLICY_CODES.has(code)) {
    return new UpstreamError('CONTENT_POLICY', `${jobLabel} was rejected under the content policy${message}`);
  }
  return new UpstreamError('UPSTREAM_REJECTED', `${jobLabel} failed${code ? ` (${code})` : ''}${message}`);
}

function faultOf(body: Buffer): { code?: string; message?: string } {
  try {
    const parsed = JSON.parse(body.toString('utf8')) as { error?: unknown };
    const error = parsed.error;
    if (typeof error === 'string') return { message: error };
    if (error && typeof error === 'object') {
      const { code, message } = error as { code?: unknown; message?: unknown };
      return { ...(typeof code === 'string' ? { code } : {}), ...(typeof message === 'string' ? { message } : {}) };
    }
  } catch {
    // A non-JSON error body carries no detail worth keeping.
  }
  return {};
}

/** Computes the signature header value for a raw body: `sha256=<hex HMAC-SHA256>`. */
export function signProviderCallback(rawBody: Buffer | string, secret: string): string {
  return `sha256=${createHmac('sha256', secret).update(rawBody).digest('hex')}`;
}

type HeaderBag = Headers | Record<string, string | string[] | undefined>;

/**
 * Checks the callback's HMAC-SHA256 signature in constant time, then parses
 * the body. Throws UNAUTHENTICATED for a missing or wrong signature.
 */
export function verifyProviderCallback(rawBody: Buffer | string, headers: HeaderBag, secret: string): ProviderCallback {
  const header = readHeader(headers, PROVIDER_SIGNATURE_HEADER);
  const match = /^sha256=([0-9a-f]{64})$/i.exec(header?.trim() ?? '');
  if (!match) throw appError('UNAUTHENTICATED', `missing or malformed ${PROVIDER_SIGNATURE_HEADER} header`);

  // NOTE: the signature covers the body only, so a captured callback can be replayed. Handlers must be idempotent per job.
  const expected = createHmac('sha256', secret).update(rawBody).digest();
  const received = Buffer.from(match[1]!, 'hex');
  if (!timingSafeEqual(expected, received)) throw appError('UNAUTHENTICATED', 'provider callback signature does not match');

  let json: unknown;
  try {
    json = JSON.parse(Buffer.isBuffer(rawBody) ? rawBody.toString('utf8') : rawBody);
  } catch {
    throw appError('INVALID_JSON', 'provider callback body is not valid JSON');
  }

  const parsed = jobStatusSchema.safeParse(json);
  if (!parsed.success || parsed.data.id === undefined) {
    throw appError('VALIDATION_FAILED', 'provider callback body is not a job status with an id');
  }
  return { ...parsed.data, id: parsed.data.id };
}

function readHeader(headers: HeaderBag, name: string): string | undefined {
  if (headers instanceof Headers) return headers.get(name) ?? undefined;

  const entry = Object.entries(headers).find(([key]) => key.toLowerCase() === name);
  const value = entry?.[1];
  return Array.isArray(value) ? value[0] : value;
}
