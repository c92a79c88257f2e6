import { z } from 'zod';
import {
  MAX_RESPONSE_BYTES,
  describeRequest,
  errorForStatus,
  parseJson,
  resolveImageItems,
  sendUpstream,
  truncate,
  tryParseJson,
  type ImageItem,
  type UpstreamResponse,
} from './http';
import { formatSize } from './sizes';
import { UpstreamError, type GenerateOptions, type GenerationRequest, type ImageProvider, type ReferenceImage } from './types';

/**
 * Client of the OpenAI Images API and the many servers that copy it:
 * `/v1/images/generations` for text-to-image and `/v1/images/edits` when
 * reference images are given.
 */

export interface OpenAIImagesOptions {
  id: string;
  /** Server root without `/v1`, for example `https://api.openai.com`. */
  baseUrl: string;
  apiKey?: string;
  timeoutMs: number;
}

/** Upstream error codes meaning that moderation rejected the prompt or an image. */
const CONTENT_POLICY_CODES = new Set(['content_policy_violation', 'moderation_blocked', 'content_filter']);

const imagesResponseSchema = z.object({
  data: z
    .array(
      z.looseObject({
        b64_json: z.string().min(1).optional(),
        url: z.string().min(1).optional(),
      }),
    )
    .nullish(),
});

const errorBodySchema = z.object({
  error: z.looseObject({
    code: z.string().nullish(),
    type: z.string().nullish(),
    message: z.string().nullish(),
  }),
});

export function createOpenAIImagesProvider(options: OpenAIImagesOptions): ImageProvider {
  const root = options.baseUrl.replace(/\/+$/, '');

  return {
    id: options.id,
    kind: 'openai',
    async generate(request: GenerationRequest, generateOptions: GenerateOptions = {}) {
      const editing = request.referenceImages.length > 0;
      const url = `${root}/v1/images/${editing ? 'edits' : 'generations'}`;
      const requestLabel = describeRequest('POST', url);
      const limits = { timeoutMs: options.timeoutMs, ...(generateOptions.signal ? { signal: generateOptions.signal } : {}) };

      // NOTE: the Images API has no negative prompt or seed, so both are left out here.
      const fields = { model: request.model, prompt: request.prompt, n: request.count, size: formatSize(request), response_format: 'b64_json' };
      const headers: Record<string, string> = { accept: 'application/json' };
      if (options.apiKey) headers.authorization = `Bearer ${options.apiKey}`;

      const init: RequestInit = editing
        ? { method: 'POST', headers, body: editForm(fields, request.referenceImages) }
        : { method: 'POST', headers: { ...headers, 'content-type': 'application/json' }, body: JSON.stringify(fields) };
      const response = await sendUpstream(url, init, { ...limits, maxBytes: MAX_RESPONSE_BYTES });

      if (response.status < 200 || response.status >= 300) throw errorForResponse(response, requestLabel);
      const body = imagesResponseSchema.safeParse(parseJson(response, requestLabel));
      if (!body.success) {
        throw contentPolicyError(response, requestLabel) ?? new UpstreamError('UPSTREAM_BAD_RESPONSE', `${requestLabel} returned status 200 without an images list`);
      }

      const items = (body.data.data ?? []).map((item): ImageItem => {
        if (item.b64_json) return { base64: item.b64_json };
        if (item.url) return { url: item.url };
        throw new UpstreamError('UPSTREAM_BAD_RESPONSE', `${requestLabel} returned an image item with neither b64_json nor url`);
      });
      if (items.length === 0) {
        throw contentPolicyError(response, requestLabel) ?? new UpstreamError('UPSTREAM_EMPTY_RESULT', `${requestLabel} returned status 200 without any image`);
      }

      return { kind: 'completed', images: await resolveImageItems(items, requestLabel, limits) };
    },
  };
}

function editForm(fields: Record<string, string | number>, references: ReferenceImage[]): FormData {
  const form = new FormData();
  for (const [name, value] of Object.entries(fields)) form.append(name, String(value));

  references.forEach((reference, index) => {
    const extension = reference.mimeType.split('/')[1]?.replace('jpeg', 'jpg') ?? 'bin';
    form.append('image[]', new Blob([reference.data], { type: reference.mimeType }), `reference-${index + 1}.${extension}`);
  });
  return form;
}

/** Maps an OpenAI-style error response, detecting moderation rejections and exhausted quotas. */
function errorForResponse(response: UpstreamResponse, requestLabel: string): UpstreamError {
  const rejection = contentPolicyError(response, requestLabel);
  if (rejection) return rejection;

  const parsed = errorBodySchema.safeParse(tryParseJson(response.body));
  const fault = parsed.success ? parsed.data.error : undefined;
  const code = fault?.code ?? fault?.type ?? undefined;
  const error = errorForStatus(response, requestLabel, { ...(code ? { code } : {}), ...(fault?.message ? { message: fault.message } : {}) });

  // An exhausted quota also returns 429, but waiting will not refill it.
  if (code === 'insufficient_quota') return new UpstreamError('UPSTREAM_REJECTED', error.message, { status: response.status, transient: false });
  return error;
}

function contentPolicyError(response: UpstreamResponse, requestLabel: string): UpstreamError | undefined {
  const parsed = errorBodySchema.safeParse(tryParseJson(response.body));
  if (!parsed.success) return undefined;

  const { code, type, message } = parsed.data.error;
  if (!CONTENT_POLICY_CODES.has(code ?? '') && !CONTENT_POLICY_CODES.has(type ?? '')) return undefined;
  return new UpstreamError('CONTENT_POLICY', `${requestLabel} rejected the request under its content policy${message ? `: ${truncate(message)}` : ''}`, {
    status: response.status,
  });
}
