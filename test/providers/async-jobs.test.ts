import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import sharp from 'sharp';
import {
  PROVIDER_SIGNATURE_HEADER,
  createAsyncJobsProvider,
  signProviderCallback,
  verifyProviderCallback,
  type AsyncJobsProvider,
} from '../../activities/providers/async-jobs';
import { AppError } from '../../lib/errors';
import { UpstreamError, type GenerationRequest, type PollResult } from '../../activities/providers/types';
import { startFakeUpstream, type FakeUpstream } from '../support/fake-upstream';

const CALLBACK_SECRET = 'callback-secret-for-tests-0123456789';

const request: GenerationRequest = {
  prompt: 'a paper boat on a pond',
  negativePrompt: 'people',
  model: 'flux-dev',
  width: 384,
  height: 640,
  count: 2,
  seed: 99,
  referenceImages: [],
};

let upstream: FakeUpstream;
let provider: AsyncJobsProvider;

beforeEach(async () => {
  upstream = await startFakeUpstream({ callbackSecret: CALLBACK_SECRET, pollsUntilDone: 3 });
  provider = createAsyncJobsProvider({ id: 'jobs', baseUrl: upstream.url, apiKey: 'jobs-key', timeoutMs: 2_000 });
});

afterEach(async () => {
  await upstream.close();
});

async function submit(): Promise<string> {
  const result = await provider.generate(request);
  if (result.kind !== 'submitted') throw new Error(`expected a submitted job, got ${result.kind}`);
  return result.jobId;
}

async function pollUntilSettled(jobId: string): Promise<PollResult[]> {
  const results: PollResult[] = [];
  for (let attempt = 0; attempt < 10; attempt += 1) {
    const result = await provider.poll(jobId);
    results.push(result);
    if (result.kind !== 'pending') break;
  }
  return results;
}

describe('async jobs client', () => {
  test('submits a job with every field', async () => {
    await submit();

    const call = upstream.calls[0];
    expect(call?.path).toBe('/jobs');
    expect(call?.authorization).toBe('Bearer jobs-key');
    expect(call?.body).toEqual({
      model: 'flux-dev',
      prompt: 'a paper boat on a pond',
      negative_prompt: 'people',
      width: 384,
      height: 640,
      n: 2,
      seed: 99,
    });
  });

  test('polls a job to completion', async () => {
    const jobId = await submit();

    const results = await pollUntilSettled(jobId);

    expect(results.map((result) => result.kind)).toEqual(['pending', 'pending', 'completed']);
    const last = results.at(-1);
    const images = last?.kind === 'completed' ? last.images : [];
    expect(images).toHaveLength(2);
    const metadata = await sharp(images[0]!.data).metadata();
    expect(metadata.width).toBe(384);
    expect(metadata.height).toBe(640);
  });

  test('reports a failed job as permanent', async () => {
    upstream.script('jobs.create', ['job-failed']);
    const jobId = await submit();

    const last = (await pollUntilSettled(jobId)).at(-1);

    expect(last?.kind).toBe('failed');
    const error = last?.kind === 'failed' ? last.error : undefined;
    expect(error?.code).toBe('UPSTREAM_REJECTED');
    expect(error?.transient).toBe(false);
  });

  test('reports a rejected job as content policy', async () => {
    upstream.script('jobs.create', ['job-content-policy']);
    const jobId = await submit();

    const last = (await pollUntilSettled(jobId)).at(-1);

    const error = last?.kind === 'failed' ? last.error : undefined;
    expect(error?.code).toBe('CONTENT_POLICY');
  });

  test('reports a job without images', async () => {
    upstream.script('jobs.create', ['empty']);
    const jobId = await submit();

    const last = (await pollUntilSettled(jobId)).at(-1);

    const error = last?.kind === 'failed' ? last.error : undefined;
    expect(error?.code).toBe('UPSTREAM_EMPTY_RESULT');
  });

  test('treats a 503 on submit as transient', async () => {
    upstream.script('jobs.create', [503]);

    const error = await provider.generate(request).catch((caught: unknown) => caught);

    expect(error).toBeInstanceOf(UpstreamError);
    expect((error as UpstreamError).code).toBe('UPSTREAM_UNAVAILABLE');
    expect((error as UpstreamError).transient).toBe(true);
  });

  test('treats an unknown job as permanent', async () => {
    const error = await provider.poll('job_missing').catch((caught: unknown) => caught);

    expect((error as UpstreamError).code).toBe('UPSTREAM_REJECTED');
    expect((error as UpstreamError).status).toBe(404);
  });
});

describe('provider callbacks', () => {
  let receiver: Server;
  let received: Promise<{ body: Buffer; headers: IncomingHttpHeaders }>;
  let callbackUrl: string;

  beforeEach(async () => {
    let deliver: (value: { body: Buffer; headers: IncomingHttpHeaders }) => void = () => undefined;
    received = new Promise((resolve) => (deliver = resolve));
    receiver = createServer((incoming, response) => {
      const chunks: Buffer[] = [];
      incoming.on('data', (chunk: Buffer) => chunks.push(chunk));
      incoming.on('end', () => {
        response.end();
        deliver({ body: Buffer.concat(chunks), headers: incoming.headers });
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    callbackUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/provider-callbacks/jobs`;
  });

  afterEach(async () => {
    await new Promise<void>((resolve) => receiver.close(() => resolve()));
  });

  test('accepts a signed callback', async () => {
    const result = await provider.generate(request, { callbackUrl });
    const { body, headers } = await received;

    const callback = verifyProviderCallback(body, headers, CALLBACK_SECRET);
    const outcome = await provider.resultFromJob(callback);

    expect(upstream.calls[0]?.body).toMatchObject({ callback_url: callbackUrl });
    expect(result).toEqual({ kind: 'submitted', jobId: callback.id });
    expect(callback.status).toBe('succeeded');
    expect(outcome.kind).toBe('completed');
    expect(outcome.kind === 'completed' ? outcome.images.length : 0).toBe(2);
  });

  test('rejects a tampered body', async () => {
    await provider.generate(request, { callbackUrl });
    const { body, headers } = await received;
    const tampered = Buffer.from(body.toString('utf8').replace('"succeeded"', '"failed"'));

    const verify = () => verifyProviderCallback(tampered, headers, CALLBACK_SECRET);

    expect(verify).toThrow(AppError);
    expect(verify).toThrow('signature does not match');
  });

  test('rejects another secret', async () => {
    await provider.generate(request, { callbackUrl });
    const { body, headers } = await received;

    const verify = () => verifyProviderCallback(body, headers, 'another-secret-0123456789');

    expect(verify).toThrow('signature does not match');
  });

  test('rejects a callback without a signature', () => {
    const body = JSON.stringify({ id: 'job_1', status: 'succeeded', images: [] });

    const verify = () => verifyProviderCallback(body, { 'content-type': 'application/json' }, CALLBACK_SECRET);

    expect(verify).toThrow(`missing or malformed ${PROVIDER_SIGNATURE_HEADER} header`);
  });

  test('reads the signature from fetch Headers', () => {
    const body = JSON.stringify({ id: 'job_2', status: 'running' });
    const headers = new Headers({ [PROVIDER_SIGNATURE_HEADER]: signProviderCallback(body, CALLBACK_SECRET) });

    const callback = verifyProviderCallback(body, headers, CALLBACK_SECRET);

    expect(callback).toEqual({ id: 'job_2', status: 'running' });
  });

  test('rejects a body of unknown shape', () => {
    const body = JSON.stringify({ hello: 'world' });
    const headers = { [PROVIDER_SIGNATURE_HEADER]: signProviderCallback(body, CALLBACK_SECRET) };

    const error = (() => {
      try {
        return verifyProviderCallback(body, headers, CALLBACK_SECRET);
      } catch (caught) {
        return caught;
      }
    })();

    expect((error as AppError).code).toBe('VALIDATION_FAILED');
  });
});
