import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { PROVIDER_SIGNATURE_HEADER, signProviderCallback } from '../../activities/providers/async-jobs';
import { renderImages } from '../../activities/providers/builtin-renderer';

/**
 * A real HTTP server on 127.0.0.1 that plays an upstream image provider for
 * tests and benchmarks. It serves the OpenAI-compatible Images API and the
 * async-jobs API, returns real PNGs from the built-in renderer, and plays a
 * per-endpoint script of failures before it responds normally.
 */

export type FakeEndpoint = 'generations' | 'edits' | 'jobs.create' | 'jobs.get';

/**
 * One scripted response. A number is a status code: 200 is a normal success,
 * and others get an OpenAI-style error body. An object sets status, headers
 * and body exactly. The named responses are:
 * - `content-policy`: 400 with `content_policy_violation`
 * - `empty`: 200 without images (`data: []`, or a succeeded job with no images)
 * - `hang`: sends nothing until the client gives up or the server closes
 * - `malformed-json`: 200 with a truncated JSON body
 * - `reset`: destroys the connection without a response
 * - `url-images`: 200 with image URLs served by this server
 * - `not-an-image`: 200 with base64 bytes that are not an image
 * - `job-failed`, `job-content-policy`: accepts a job that then fails
 */
export type ScriptedResponse =
  | number
  | 'ok'
  | 'content-policy'
  | 'empty'
  | 'hang'
  | 'malformed-json'
  | 'reset'
  | 'url-images'
  | 'not-an-image'
  | 'job-failed'
  | 'job-content-policy'
  | { status: number; body?: unknown; headers?: Record<string, string>; retryAfter?: string | number };

export interface FakeUpstreamOptions {
  /** Fixed delay before each response, inside the concurrency slot. */
  latencyMs?: number;
  /** Maximum requests served at once, with more waiting in a queue. Unlimited when unset. */
  concurrency?: number;
  /** When set, requests without `Authorization: Bearer <apiKey>` get 401. */
  apiKey?: string;
  /** Secret that signs job callbacks. Callbacks are sent only when it is set. */
  callbackSecret?: string;
  /** Delay between accepting a job and POSTing its callback. */
  callbackDelayMs?: number;
  /** Number of polls after which GET /jobs/:id returns the final status, with queued and running before. */
  pollsUntilDone?: number;
}

export interface MultipartSummary {
  fields: Record<string, string>;
  files: Array<{ field: string; filename: string; type: string; size: number }>;
}

export interface FakeCall {
  endpoint: FakeEndpoint | 'files' | 'unknown';
  method: string;
  path: string;
  authorization?: string;
  contentType?: string;
  /** Parsed JSON, a multipart summary, or undefined for an empty body. */
  body: unknown;
  /** What the server sent: `ok`, a status code, or a named scripted response. */
  result: string;
  /** Time from receiving the request to finishing the response, set once it is finished. */
  serviceMs?: number;
}

export interface FakeCallback {
  url: string;
  jobId: string;
  status?: number;
  error?: string;
}

export interface FakeUpstream {
  url: string;
  calls: FakeCall[];
  callbacks: FakeCallback[];
  /** Requests being served now, the peak served at once, and requests waiting. */
  stats: { active: number; peak: number; queued: number };
  script(endpoint: FakeEndpoint, responses: ScriptedResponse[]): void;
  close(): Promise<void>;
}

interface Job {
  id: string;
  request: JobRequest;
  outcome: 'succeeded' | 'failed' | 'content-policy' | 'empty';
  polls: number;
  /** Set once the job's callback was sent: from then on, polls return the final status too. */
  settled?: boolean;
}

interface JobRequest {
  prompt: string;
  negativePrompt?: string;
  width: number;
  height: number;
  count: number;
  seed: number;
}

const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '[::1]']);

export async function startFakeUpstream(options: FakeUpstreamOptions = {}): Promise<FakeUpstream> {
  const calls: FakeCall[] = [];
  const callbacks: FakeCallback[] = [];
  const stats = { active: 0, peak: 0, queued: 0 };
  const scripts = new Map<FakeEndpoint, ScriptedResponse[]>();
  const jobs = new Map<string, Job>();
  const files = new Map<string, Buffer>();
  const timers = new Set<NodeJS.Timeout>();
  const waiting: Array<() => void> = [];
  let baseUrl = '';

  const acquire = async () => {
    if (options.concurrency !== undefined && stats.active >= options.concurrency) {
      stats.queued += 1;
      await new Promise<void>((resolve) => waiting.push(resolve));
      stats.queued -= 1;
    }
    stats.active += 1;
    stats.peak = Math.max(stats.peak, stats.active);
  };
  const release = () => {
    stats.active -= 1;
    waiting.shift()?.();
  };
  const delay = (milliseconds: number) =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        timers.delete(timer);
        resolve();
      }, milliseconds);
      timers.add(timer);
    });

  const nextScripted = (endpoint: FakeEndpoint): ScriptedResponse => scripts.get(endpoint)?.shift() ?? 'ok';

  const storeImages = async (request: JobRequest, asUrls: boolean) => {
    const images = await renderImages(request);
    if (!asUrls) return images.map((image) => ({ base64: image.data.toString('base64') }));
    return images.map((image) => {
      const name = `${randomUUID()}.png`;
      files.set(name, image.data);
      return { url: `${baseUrl}/files/${name}` };
    });
  };

  const sendCallback = async (job: Job, callbackUrl: string) => {
    const record: FakeCallback = { url: callbackUrl, jobId: job.id };
    callbacks.push(record);

    // The fake only ever calls back to this machine.
    const target = new URL(callbackUrl);
    if (!LOOPBACK_HOSTS.has(target.hostname)) {
      record.error = 'rejected: callback URL is not on the loopback interface';
      return;
    }

    const body = JSON.stringify(await finalJobStatus(job));
    try {
      const response = await fetch(callbackUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/json', [PROVIDER_SIGNATURE_HEADER]: signProviderCallback(body, options.callbackSecret ?? '') },
        body,
      });
      record.status = response.status;
      await response.body?.cancel();
    } catch (error) {
      record.error = String(error);
    }
  };

  const finalJobStatus = async (job: Job) => {
    switch (job.outcome) {
      case 'failed':
        return { id: job.id, status: 'failed', error: { code: 'generation_failed', message: 'scripted failure' } };
      case 'content-policy':
        return { id: job.id, status: 'failed', error: { code: 'content_policy', message: 'scripted rejection' } };
      case 'empty':
        return { id: job.id, status: 'succeeded', images: [] };
      case 'succeeded': {
        const images = await renderImages(job.request);
        return { id: job.id, status: 'succeeded', images: images.map((image) => ({ b64: image.data.toString('base64') })) };
      }
    }
  };

  const handle = async (request: IncomingMessage, response: ServerResponse) => {
    const receivedAt = performance.now();
    const url = new URL(request.url ?? '/', baseUrl);
    const raw = await readRaw(request);
    const endpoint = endpointOf(request.method ?? 'GET', url.pathname);
    const call: FakeCall = {
      endpoint,
      method: request.method ?? 'GET',
      path: url.pathname,
      body: await summarise(raw, request),
      result: 'pending',
      ...(request.headers.authorization ? { authorization: request.headers.authorization } : {}),
      ...(request.headers['content-type'] ? { contentType: request.headers['content-type'] } : {}),
    };
    calls.push(call);
    response.once('finish', () => {
      call.serviceMs = performance.now() - receivedAt;
    });

    if (endpoint === 'files') {
      const file = files.get(url.pathname.slice('/files/'.length));
      call.result = file ? 'ok' : '404';
      if (file) return send(response, 200, file, { 'content-type': 'image/png' });
      return sendJson(response, 404, { error: { code: 'not_found', message: 'no such file' } });
    }
    if (endpoint === 'unknown') {
      call.result = '404';
      return sendJson(response, 404, { error: { code: 'not_found', message: `no route for ${call.method} ${call.path}` } });
    }
    if (options.apiKey !== undefined && request.headers.authorization !== `Bearer ${options.apiKey}`) {
      call.result = '401';
      return sendJson(response, 401, { error: { code: 'invalid_api_key', message: 'Incorrect API key provided', type: 'invalid_request_error' } });
    }

    const scripted = nextScripted(endpoint);
    call.result = typeof scripted === 'object' ? String(scripted.status) : String(scripted);
    if (options.latencyMs) await delay(options.latencyMs);

    if (scripted === 'hang') {
      // The slot stays held until the client gives up or the server closes.
      return new Promise<void>((resolve) => response.on('close', resolve));
    }
    if (scripted === 'reset') {
      request.socket.destroy();
      return;
    }
    if (scripted === 'malformed-json') return send(response, 200, Buffer.from('{"data": [{"b64_json": "iVBO'), { 'content-type': 'application/json' });
    if (scripted === 'content-policy') {
      return sendJson(response, 400, {
        error: { code: 'content_policy_violation', message: 'Your request was rejected by the safety system.', type: 'invalid_request_error' },
      });
    }
    if (typeof scripted === 'object') {
      const headers = { ...scripted.headers, ...(scripted.retryAfter === undefined ? {} : { 'retry-after': String(scripted.retryAfter) }) };
      return sendJson(response, scripted.status, scripted.body ?? errorBody(scripted.status), headers);
    }
    if (typeof scripted === 'number' && scripted !== 200) return sendJson(response, scripted, errorBody(scripted));

    switch (endpoint) {
      case 'generations':
      case 'edits':
        return respondImages(response, scripted, imagesRequestOf(call.body));
      case 'jobs.create':
        return respondJobCreate(response, scripted, call.body);
      case 'jobs.get':
        return respondJobGet(response, url.pathname.slice('/jobs/'.length));
    }
  };

  const respondImages = async (response: ServerResponse, scripted: ScriptedResponse, request: JobRequest) => {
    if (scripted === 'empty') return sendJson(response, 200, { created: now(), data: [] });
    if (scripted === 'not-an-image') return sendJson(response, 200, { created: now(), data: [{ b64_json: Buffer.from('<html>oops</html>').toString('base64') }] });

    const images = await storeImages(request, scripted === 'url-images');
    const data = images.map((image) => ('url' in image ? { url: image.url } : { b64_json: image.base64 }));
    return sendJson(response, 200, { created: now(), data });
  };

  const respondJobCreate = (response: ServerResponse, scripted: ScriptedResponse, body: unknown) => {
    const fields = (body ?? {}) as Record<string, unknown>;
    const outcomes: Partial<Record<string, Job['outcome']>> = { 'job-failed': 'failed', 'job-content-policy': 'content-policy', empty: 'empty' };
    const job: Job = {
      id: `job_${randomUUID()}`,
      request: {
        prompt: String(fields.prompt ?? ''),
        negativePrompt: String(fields.negative_prompt ?? ''),
        width: Number(fields.width ?? 1024),
        height: Number(fields.height ?? 1024),
        count: Number(fields.n ?? 1),
        seed: Number(fields.seed ?? 0),
      },
      outcome: outcomes[String(scripted)] ?? 'succeeded',
      polls: 0,
    };
    jobs.set(job.id, job);

    if (typeof fields.callback_url === 'string' && options.callbackSecret !== undefined) {
      const callbackUrl = fields.callback_url;
      const timer = setTimeout(() => {
        timers.delete(timer);
        job.settled = true;
        void sendCallback(job, callbackUrl);
      }, options.callbackDelayMs ?? 0);
      timers.add(timer);
    }
    return sendJson(response, 202, { id: job.id, status: 'queued' });
  };

  const respondJobGet = async (response: ServerResponse, jobId: string) => {
    const job = jobs.get(decodeURIComponent(jobId));
    if (!job) return sendJson(response, 404, { error: { code: 'not_found', message: 'no such job' } });

    job.polls += 1;
    const pollsUntilDone = options.pollsUntilDone ?? 2;
    if (!job.settled && job.polls < pollsUntilDone) return sendJson(response, 200, { id: job.id, status: job.polls === 1 ? 'queued' : 'running' });
    return sendJson(response, 200, await finalJobStatus(job));
  };

  const server = createServer((request, response) => {
    void (async () => {
      await acquire();
      try {
        await handle(request, response);
      } catch (error) {
        if (!response.headersSent) sendJson(response, 500, { error: { code: 'fake_upstream_bug', message: String(error) } });
      } finally {
        release();
      }
    })();
  });

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  return {
    url: baseUrl,
    calls,
    callbacks,
    stats,
    script(endpoint, responses) {
      scripts.set(endpoint, [...(scripts.get(endpoint) ?? []), ...responses]);
    },
    async close() {
      for (const timer of timers) clearTimeout(timer);
      timers.clear();
      server.closeAllConnections();
      await new Promise<void>((resolve, reject) => server.close((error) => (error ? reject(error) : resolve())));
    },
  };
}

function endpointOf(method: string, pathname: string): FakeCall['endpoint'] {
  if (method === 'POST' && pathname === '/v1/images/generations') return 'generations';
  if (method === 'POST' && pathname === '/v1/images/edits') return 'edits';
  if (method === 'POST' && pathname === '/jobs') return 'jobs.create';
  if (method === 'GET' && /^\/jobs\/[^/]+$/.test(pathname)) return 'jobs.get';
  if (method === 'GET' && pathname.startsWith('/files/')) return 'files';
  return 'unknown';
}

/** Reads the size and count of an Images API request from its JSON or multipart summary. */
function imagesRequestOf(body: unknown): JobRequest {
  const fields = ((body as MultipartSummary | undefined)?.fields ?? body ?? {}) as Record<string, unknown>;
  const [width, height] = String(fields.size ?? '1024x1024').split('x').map(Number);
  return {
    prompt: String(fields.prompt ?? ''),
    width: width || 1024,
    height: height || 1024,
    count: Number(fields.n ?? 1),
    seed: 0,
  };
}

async function readRaw(request: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** Summarises a request body: JSON is parsed, and multipart is reduced to its fields and file sizes. */
async function summarise(raw: Buffer, request: IncomingMessage): Promise<unknown> {
  if (raw.length === 0) return undefined;

  const contentType = request.headers['content-type'] ?? '';
  if (contentType.startsWith('multipart/form-data')) {
    // The fetch Request class parses multipart bodies, so no parser is written here.
    const form = await new Request('http://fake.invalid/', { method: 'POST', headers: { 'content-type': contentType }, body: raw }).formData();
    const summary: MultipartSummary = { fields: {}, files: [] };
    for (const [field, value] of form.entries()) {
      if (typeof value === 'string') summary.fields[field] = value;
      else summary.files.push({ field, filename: value.name, type: value.type, size: value.size });
    }
    return summary;
  }

  try {
    return JSON.parse(raw.toString('utf8'));
  } catch {
    return raw.toString('utf8');
  }
}

function errorBody(status: number) {
  const type = status >= 500 ? 'server_error' : 'invalid_request_error';
  return { error: { code: `scripted_${status}`, message: `scripted response ${status}`, type } };
}

function sendJson(response: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  send(response, status, Buffer.from(JSON.stringify(body)), { 'content-type': 'application/json', ...headers });
}

function send(response: ServerResponse, status: number, body: Buffer, headers: Record<string, string>): void {
  if (response.destroyed) return;
  response.writeHead(status, { ...headers, 'content-length': String(body.length) });
  response.end(body);
}

function now(): number {
  return Math.floor(Date.now() / 1000);
}
