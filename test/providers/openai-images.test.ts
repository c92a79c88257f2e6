import { createServer } from 'node:net';
import sharp from 'sharp';
import { renderImage } from '../../activities/providers/builtin-renderer';
import { createOpenAIImagesProvider } from '../../activities/providers/openai-images';
import { UpstreamError, type GenerationRequest, type ImageProvider } from '../../activities/providers/types';
import { startFakeUpstream, type FakeUpstream, type MultipartSummary } from '../support/fake-upstream';

const API_KEY = 'sk-test-fake-key';

const request: GenerationRequest = {
  prompt: 'a red fox in snow',
  model: 'gpt-image-1',
  width: 512,
  height: 256,
  count: 2,
  seed: 7,
  referenceImages: [],
};

let upstream: FakeUpstream;
let provider: ImageProvider;

beforeEach(async () => {
  upstream = await startFakeUpstream({ apiKey: API_KEY });
  provider = createOpenAIImagesProvider({ id: 'openai', baseUrl: upstream.url, apiKey: API_KEY, timeoutMs: 2_000 });
});

afterEach(async () => {
  await upstream.close();
});

async function failure(promise: Promise<unknown>): Promise<UpstreamError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof UpstreamError) return error;
    throw error;
  }
  throw new Error('expected an UpstreamError');
}

describe('OpenAI-compatible client', () => {
  test('returns the generated PNGs', async () => {
    const result = await provider.generate(request);

    expect(result.kind).toBe('completed');
    const images = result.kind === 'completed' ? result.images : [];
    expect(images).toHaveLength(2);
    expect(images[0]?.mimeType).toBe('image/png');
    const metadata = await sharp(images[0]!.data).metadata();
    expect(metadata.width).toBe(512);
    expect(metadata.height).toBe(256);
  });

  test('sends fields and bearer key', async () => {
    await provider.generate(request);

    const call = upstream.calls[0];
    expect(call?.path).toBe('/v1/images/generations');
    expect(call?.authorization).toBe(`Bearer ${API_KEY}`);
    expect(call?.body).toEqual({ model: 'gpt-image-1', prompt: 'a red fox in snow', n: 2, size: '512x256', response_format: 'b64_json' });
  });

  test('downloads images returned as URLs', async () => {
    upstream.script('generations', ['url-images']);

    const result = await provider.generate(request);

    const images = result.kind === 'completed' ? result.images : [];
    expect(images).toHaveLength(2);
    expect(images[1]?.mimeType).toBe('image/png');
    expect(upstream.calls.filter((call) => call.endpoint === 'files')).toHaveLength(2);
  });

  test('sends references as multipart files', async () => {
    const reference = await renderImage({ prompt: 'reference', seed: 1, width: 256, height: 256 });
    const jpeg = await sharp(reference).jpeg().toBuffer();
    const references = [
      { data: reference, mimeType: 'image/png' },
      { data: jpeg, mimeType: 'image/jpeg' },
    ];

    const result = await provider.generate({ ...request, referenceImages: references });

    expect(result.kind).toBe('completed');
    const call = upstream.calls[0];
    expect(call?.path).toBe('/v1/images/edits');
    expect(call?.contentType).toMatch(/^multipart\/form-data; boundary=/);
    const body = call?.body as MultipartSummary;
    expect(body.fields).toEqual({ model: 'gpt-image-1', prompt: 'a red fox in snow', n: '2', size: '512x256', response_format: 'b64_json' });
    expect(body.files).toEqual([
      { field: 'image[]', filename: 'reference-1.png', type: 'image/png', size: reference.length },
      { field: 'image[]', filename: 'reference-2.jpg', type: 'image/jpeg', size: jpeg.length },
    ]);
  });

  test('treats a 500 as transient', async () => {
    upstream.script('generations', [500]);

    const error = await failure(provider.generate(request));

    expect(error.code).toBe('UPSTREAM_UNAVAILABLE');
    expect(error.transient).toBe(true);
    expect(error.status).toBe(500);
  });

  test('succeeds after two 500s', async () => {
    upstream.script('generations', [500, 500, 200]);

    const first = await failure(provider.generate(request));
    const second = await failure(provider.generate(request));
    const third = await provider.generate(request);

    expect(first.transient).toBe(true);
    expect(second.transient).toBe(true);
    expect(third.kind).toBe('completed');
  });

  test('keeps the Retry-After delay of a 429', async () => {
    upstream.script('generations', [{ status: 429, retryAfter: 7 }]);

    const error = await failure(provider.generate(request));

    expect(error.code).toBe('UPSTREAM_RATE_LIMITED');
    expect(error.transient).toBe(true);
    expect(error.retryAfterMs).toBe(7_000);
  });

  test('treats an exhausted quota as permanent', async () => {
    upstream.script('generations', [{ status: 429, body: { error: { code: 'insufficient_quota', message: 'You exceeded your quota' } } }]);

    const error = await failure(provider.generate(request));

    expect(error.code).toBe('UPSTREAM_REJECTED');
    expect(error.transient).toBe(false);
  });

  test('treats a 400 as permanent', async () => {
    upstream.script('generations', [400]);

    const error = await failure(provider.generate(request));

    expect(error.code).toBe('UPSTREAM_REJECTED');
    expect(error.transient).toBe(false);
    expect(error.message).toContain('scripted response 400');
  });

  test('treats a wrong API key as permanent', async () => {
    const stranger = createOpenAIImagesProvider({ id: 'openai', baseUrl: upstream.url, apiKey: 'sk-wrong', timeoutMs: 2_000 });

    const error = await failure(stranger.generate(request));

    expect(error.code).toBe('UPSTREAM_REJECTED');
    expect(error.status).toBe(401);
    expect(error.message).not.toContain('sk-wrong');
  });

  test('reports content policy as permanent', async () => {
    upstream.script('generations', ['content-policy']);

    const error = await failure(provider.generate(request));

    expect(error.code).toBe('CONTENT_POLICY');
    expect(error.transient).toBe(false);
  });

  test('reports a 200 without images', async () => {
    upstream.script('generations', ['empty']);

    const error = await failure(provider.generate(request));

    expect(error.code).toBe('UPSTREAM_EMPTY_RESULT');
    expect(error.transient).toBe(false);
  });

  test('times out when the upstream hangs', async () => {
    const impatient = createOpenAIImagesProvider({ id: 'openai', baseUrl: upstream.url, apiKey: API_KEY, timeoutMs: 200 });
    upstream.script('generations', ['hang']);

    const error = await failure(impatient.generate(request));

    expect(error.code).toBe('UPSTREAM_TIMEOUT');
    expect(error.transient).toBe(true);
  });

  test('reports malformed JSON as a bad response', async () => {
    upstream.script('generations', ['malformed-json']);

    const error = await failure(provider.generate(request));

    expect(error.code).toBe('UPSTREAM_BAD_RESPONSE');
    expect(error.transient).toBe(false);
  });

  test('rejects bytes that are not an image', async () => {
    upstream.script('generations', ['not-an-image']);

    const error = await failure(provider.generate(request));

    expect(error.code).toBe('UPSTREAM_BAD_RESPONSE');
    expect(error.message).toContain('not a PNG, JPEG or WebP');
  });

  test('treats a reset connection as transient', async () => {
    upstream.script('generations', ['reset']);

    const error = await failure(provider.generate(request));

    expect(error.code).toBe('UPSTREAM_UNAVAILABLE');
    expect(error.transient).toBe(true);
  });

  test('treats a refused connection as transient', async () => {
    const closedPort = await freePort();
    const unreachable = createOpenAIImagesProvider({ id: 'openai', baseUrl: `http://127.0.0.1:${closedPort}`, apiKey: API_KEY, timeoutMs: 2_000 });

    const error = await failure(unreachable.generate(request));

    expect(error.code).toBe('UPSTREAM_UNAVAILABLE');
    expect(error.transient).toBe(true);
    expect(error.message).toContain('ECONNREFUSED');
  });

  test('rethrows the caller abort reason', async () => {
    upstream.script('generations', ['hang']);
    const controller = new AbortController();
    const reason = new Error('activity cancelled');

    const pending = provider.generate(request, { signal: controller.signal });
    controller.abort(reason);

    await expect(pending).rejects.toBe(reason);
  });
});

/** Returns a port that was free a moment ago, with nothing listening once the probe closes. */
async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const address = probe.address();
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return typeof address === 'object' && address ? address.port : 0;
}
