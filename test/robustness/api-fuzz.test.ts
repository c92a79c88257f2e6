import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import fc from 'fast-check';
import type { Express } from 'express';
import { createProviderRegistry, parseProvidersConfig } from '../../activities/providers/registry';
import { buildApi } from '../../api/server';
import { SESSION_COOKIE_NAME } from '../../api/session/router';
import { createAccount } from '../../lib/accounts';
import { createLogger } from '../../lib/logger';
import type { Services } from '../../lib/services';
import { creditWallet } from '../../lib/wallet';
import { startProduct, TEST_MODEL, type ProductHarness, type TestAccount } from '../support/product';

/**
 * Sends thousands of generated malformed, oversized, wrongly typed and
 * boundary-value requests to every `/v1` and `/api` route of the app and
 * checks that none gets a 5xx and no wallet changes.
 */

jest.setTimeout(300_000);

const CALLBACK_SECRET = 'robustness-callback-secret';
const RUNS = Number(process.env.ROBUSTNESS_RUNS ?? 5_000);

interface RouteInfo {
  method: string;
  path: string;
}

interface GeneratedRequest {
  route: RouteInfo;
  params: string[];
  query: string;
  auth: 'full' | 'read-only' | 'none' | 'malformed';
  malformedAuth: string;
  body: { kind: 'none' } | { kind: 'json'; text: string } | { kind: 'raw'; contentType: string; bytes: Uint8Array };
  idempotencyKey: string | undefined;
}

let product: ProductHarness;
let readOnly: TestAccount;
let sessionCookie: string;
let server: Server;
let baseUrl: string;
let routes: RouteInfo[];

/** A synchronous and an asynchronous provider, so that the provider-callback route reaches signature checks. */
function providersFor(upstreamUrl: string): unknown {
  return {
    providers: [
      { id: 'primary', kind: 'openai', baseUrl: upstreamUrl, timeoutMs: 5_000 },
      { id: 'jobs', kind: 'async', baseUrl: upstreamUrl, timeoutMs: 5_000, callbackSecret: CALLBACK_SECRET },
    ],
    models: [{ id: TEST_MODEL, label: 'Test model', providers: ['primary', 'jobs'], defaultUnitPrice: 10 }],
  };
}

beforeAll(async () => {
  product = await startProduct({ withoutWorker: true, providers: providersFor });
  readOnly = await product.createAccount(500, ['tasks:read']);

  // The app is built here, not taken from the harness, so that its router stack can be enumerated.
  const app = buildApi(servicesOf(product), { webDistDir: '/nonexistent' });
  routes = enumerateRoutes(app).filter((route) => route.path.startsWith('/v1') || route.path.startsWith('/api'));
  server = app.listen(0, '127.0.0.1');
  await new Promise<void>((resolve) => server.once('listening', resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  sessionCookie = await signIn();
});

afterAll(async () => {
  server?.closeAllConnections();
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  await product?.close();
});

test('enumerates the task routes', () => {
  const names = routes.map((route) => `${route.method} ${route.path}`);

  expect(names).toContain('POST /v1/tasks');
  expect(names).toContain('GET /v1/tasks/:id');
});

test('generated bad requests get no 5xx and change no wallet', async () => {
  const before = await walletSnapshot();

  await fc.assert(
    fc.asyncProperty(requestArbitrary(routes), async (generated) => {
      const status = await send(generated);
      if (status >= 500) throw new Error(`${generated.route.method} ${generated.route.path} answered ${status}`);
    }),
    { numRuns: RUNS, seed: process.env.ROBUSTNESS_SEED ? Number(process.env.ROBUSTNESS_SEED) : undefined },
  );

  const after = await walletSnapshot();
  expect(after).toEqual(before);
});

/** Signs a funded account in to the Studio's API, so that `/api` routes are reached past the session check. */
async function signIn(): Promise<string> {
  const email = `fuzz-${Date.now()}@example.test`;
  const password = 'correct horse battery staple';
  const account = await createAccount(product.prisma, { email, password, emailVerified: true });
  await product.prisma.$transaction((tx) => creditWallet(tx, { accountId: account.id, kind: 'recharge', balance: 500, bonus: 0, idempotencyKey: `fuzz:${account.id}` }));

  const response = await fetch(`${baseUrl}/api/auth/sign-in`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', origin: baseUrl },
    body: JSON.stringify({ email, password }),
  });
  const cookie = response.headers.getSetCookie()[0]?.split(';')[0];
  if (response.status !== 200 || !cookie) throw new Error(`sign-in failed with ${response.status}`);
  return cookie;
}

function servicesOf(harness: ProductHarness): Services {
  return {
    config: harness.config,
    logger: createLogger({ level: 'silent' }),
    secrets: { sessionSecret: harness.config.SESSION_SECRET!, storageSigningSecret: 'unused-with-s3' },
    database: { prisma: harness.prisma, kind: 'postgres', close: async () => {} } as unknown as Services['database'],
    storage: harness.storage,
    providers: createProviderRegistry(parseProvidersConfig(providersFor(harness.upstream.url))),
    temporal: harness.temporal,
    close: async () => {},
  };
}

/** Walks Express 5's router stack: route layers carry their path and methods, mounted routers their mount path. */
function enumerateRoutes(app: Express): RouteInfo[] {
  const found: RouteInfo[] = [];
  const walk = (stack: any[], prefix: string) => {
    for (const layer of stack) {
      if (layer.route) {
        const paths: string[] = Array.isArray(layer.route.path) ? layer.route.path : [layer.route.path];
        for (const method of Object.keys(layer.route.methods).filter((name) => name !== '_all')) {
          for (const routePath of paths) found.push({ method: method.toUpperCase(), path: prefix + routePath });
        }
      } else if (Array.isArray(layer.handle?.stack)) {
        const mounts: string[] = Array.isArray(layer.rawPath) ? layer.rawPath : [layer.rawPath ?? '/'];
        for (const mount of mounts) walk(layer.handle.stack, prefix + (mount === '/' ? '' : mount));
      }
    }
  };
  walk((app as any).router.stack, '');

  const unique = new Map(found.filter((route) => typeof route.path === 'string').map((route) => [`${route.method} ${route.path}`, route]));
  return [...unique.values()];
}

function paramNames(routePath: string): string[] {
  return [...routePath.matchAll(/[:*]([A-Za-z_]\w*)/g)].map((match) => match[1]!);
}

/** Values that are wrong for a task field: wrong types, out-of-range numbers, bad strings. */
const WRONG_TYPES = [null, true, false, [], {}, [1, 2], { nested: { deep: 1 } }, '', ' ', 0, -1, 1.5, Number.MAX_SAFE_INTEGER, -Number.MAX_SAFE_INTEGER, 1e308];

const INVALID_TASK_FIELDS: Record<string, fc.Arbitrary<unknown>> = {
  prompt: fc.oneof(fc.constantFrom('', '   ', '\n\t', 'x'.repeat(4_001), ...WRONG_TYPES.filter((value) => typeof value !== 'string'))),
  negativePrompt: fc.constantFrom('y'.repeat(2_001), ...WRONG_TYPES.filter((value) => typeof value !== 'string')),
  model: fc.oneof(fc.constantFrom('', 'm'.repeat(101), 'no-such-model', '../../etc/passwd', ...WRONG_TYPES.filter((value) => typeof value !== 'string'))),
  size: fc.constantFrom('0x0', '-1x-1', 'abc', '99999x99999', '1x1', '1024x', 'x1024', '1024*1024', '١٠٢٤x١٠٢٤', 's'.repeat(21), 12, null, []),
  aspectRatio: fc.constantFrom('0:0', '1:0', '-1:1', 'a:b', '999999:1', 'r'.repeat(21), 1.5, null, {}),
  imageCount: fc.constantFrom(0, 5, -1, 1.5, 2 ** 31, Number.MAX_SAFE_INTEGER, '1', null, true, []),
  seed: fc.constantFrom(-1, 2_147_483_648, 1.25, Number.MAX_SAFE_INTEGER, '7', null, {}),
  referenceImageIds: fc.oneof(
    fc.constantFrom('not-an-array', [''], ['not-a-uuid'], [1], [null], Array.from({ length: 5 }, () => '00000000-0000-4000-8000-000000000000')),
    fc.array(fc.uuid(), { minLength: 1, maxLength: 4 }),
  ),
  // Only IP literals and malformed URLs, so no name is ever resolved and no host outside 127.0.0.1 is contacted.
  webhookUrl: fc.constantFrom('not a url', 'ftp://127.0.0.1/', 'http://10.0.0.1/hook', 'http://169.254.169.254/latest', 'http://[fe80::1]/', 'http://0.0.0.0/', 'javascript:alert(1)', 'h'.repeat(2_049), 7, null),
  unexpectedField: fc.jsonValue(),
};

/** A valid task body with at least one field replaced by an invalid value. */
function brokenTaskBody(): fc.Arbitrary<Record<string, unknown>> {
  const fields = Object.keys(INVALID_TASK_FIELDS);
  return fc
    .uniqueArray(fc.constantFrom(...fields), { minLength: 1, maxLength: 3 })
    .chain((broken) => fc.tuple(fc.constant(broken), fc.tuple(...broken.map((field) => INVALID_TASK_FIELDS[field]!))))
    .map(([broken, values]) => {
      const body: Record<string, unknown> = { prompt: 'a quiet lake', model: TEST_MODEL, size: '256x256' };
      broken.forEach((field, index) => {
        body[field] = values[index];
      });
      return body;
    });
}

function bodyArbitrary(): fc.Arbitrary<GeneratedRequest['body']> {
  const json = (value: fc.Arbitrary<unknown>) => value.map((body) => ({ kind: 'json' as const, text: JSON.stringify(body) ?? 'null' }));
  return fc.oneof(
    { weight: 1, arbitrary: fc.constant({ kind: 'none' as const }) },
    { weight: 4, arbitrary: json(brokenTaskBody()) },
    { weight: 2, arbitrary: json(fc.jsonValue({ maxDepth: 4 })) },
    { weight: 1, arbitrary: json(fc.constantFrom({}, [], null, 0, '', { prompt: { $gt: '' } }, { __proto__: { admin: true } }, { constructor: { prototype: {} } })) },
    { weight: 1, arbitrary: fc.string({ maxLength: 200 }).map((text) => ({ kind: 'json' as const, text: `{${text}` })) },
    // Above the JSON body limit.
    { weight: 1, arbitrary: fc.integer({ min: 65 * 1024, max: 300 * 1024 }).map((size) => ({ kind: 'json' as const, text: JSON.stringify({ prompt: 'p'.repeat(size), model: TEST_MODEL }) })) },
    {
      weight: 2,
      arbitrary: fc.record({
        kind: fc.constant('raw' as const),
        contentType: fc.constantFrom('application/octet-stream', 'image/png', 'text/plain', 'application/json; charset=utf-7', 'multipart/form-data; boundary=x', 'application/x-www-form-urlencoded', ''),
        bytes: fc.oneof(
          fc.uint8Array({ maxLength: 2_048 }),
          // A PNG signature followed by junk, and a truncated JPEG header.
          fc.uint8Array({ maxLength: 512 }).map((tail) => new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, ...tail])),
          fc.uint8Array({ maxLength: 512 }).map((tail) => new Uint8Array([0xff, 0xd8, 0xff, ...tail])),
        ),
      }),
    },
    // Above the upload limit (10 MiB).
    { weight: 1, arbitrary: fc.constant({ kind: 'raw' as const, contentType: 'image/png', bytes: new Uint8Array(10 * 1024 * 1024 + 1) }) },
  );
}

const printable = fc.string({ unit: fc.integer({ min: 0x21, max: 0x7e }).map((code) => String.fromCharCode(code)), maxLength: 300 });

function paramArbitrary(name: string): fc.Arbitrary<string> {
  // Known provider ids half of the time, so that callbacks reach the signature check.
  if (name === 'providerId') return fc.oneof(fc.constantFrom('jobs', 'primary'), paramArbitrary('id'));
  return fc.oneof(
    fc.uuid(),
    fc.constantFrom('', '0', '-1', 'null', 'undefined', '..', '%00', 'primary', 'jobs', '00000000-0000-0000-0000-000000000000', 'a'.repeat(5_000)),
    fc.string({ maxLength: 100 }),
    printable,
  );
}

function queryArbitrary(): fc.Arbitrary<string> {
  const key = fc.constantFrom('limit', 'cursor', 'status', 'unread', 'page', '__proto__', 'limit[]', 'status[$ne]');
  const value = fc.oneof(
    fc.constantFrom('0', '-1', '101', '1e309', 'NaN', '1.5', 'true', 'succeeded', 'bogus', '', 'a'.repeat(300), Buffer.from('2020-01-01|x').toString('base64url')),
    fc.string({ maxLength: 50 }),
  );
  return fc
    .array(fc.tuple(key, value), { maxLength: 4 })
    .map((pairs) => (pairs.length ? `?${pairs.map(([name, text]) => `${encodeURIComponent(name)}=${encodeURIComponent(text)}`).join('&')}` : ''));
}

function requestArbitrary(available: RouteInfo[]): fc.Arbitrary<GeneratedRequest> {
  return fc.constantFrom(...available).chain((route) =>
    fc.record({
      route: fc.constant(route),
      params: fc.tuple(...paramNames(route.path).map((name) => paramArbitrary(name))),
      query: queryArbitrary(),
      auth: fc.constantFrom('full', 'full', 'full', 'full', 'full', 'read-only', 'none', 'malformed'),
      malformedAuth: fc.oneof(printable, fc.constantFrom('Bearer', 'Bearer ', 'Basic YTpi', `Bearer ${'k'.repeat(600)}`, 'Bearer nv_live_00000000')),
      body: bodyArbitrary(),
      idempotencyKey: fc.option(fc.oneof(printable, fc.constantFrom('', ' ', 'k'.repeat(256))), { nil: undefined }),
    }),
  );
}

async function send(generated: GeneratedRequest): Promise<number> {
  const names = paramNames(generated.route.path);
  let pathname = generated.route.path;
  names.forEach((name, index) => {
    pathname = pathname.replace(new RegExp(`[:*]${name}`), encodeURIComponent(generated.params[index] ?? ''));
  });

  const headers: Record<string, string> = generated.route.path.startsWith('/api') ? sessionHeaders(generated) : apiKeyHeaders(generated);
  if (generated.idempotencyKey !== undefined) headers['idempotency-key'] = generated.idempotencyKey;

  let body: string | Uint8Array | undefined;
  if (generated.body.kind === 'json') {
    headers['content-type'] = 'application/json';
    body = generated.body.text;
  } else if (generated.body.kind === 'raw') {
    if (generated.body.contentType) headers['content-type'] = generated.body.contentType;
    body = generated.body.bytes;
  }
  const method = generated.route.method;
  const response = await fetch(`${baseUrl}${pathname}${generated.query}`, {
    method,
    headers,
    body: method === 'GET' || method === 'HEAD' ? undefined : body,
    redirect: 'manual',
    // A route that never responds fails the property instead of the whole run.
    signal: AbortSignal.timeout(15_000),
  });
  // Event streams stay open by design: the status is all that is checked.
  if (response.headers.get('content-type')?.startsWith('text/event-stream')) await response.body?.cancel();
  else await response.arrayBuffer();
  return response.status;
}

function apiKeyHeaders(generated: GeneratedRequest): Record<string, string> {
  if (generated.auth === 'full') return { authorization: `Bearer ${product.account.apiKey}` };
  if (generated.auth === 'read-only') return { authorization: `Bearer ${readOnly.apiKey}` };
  if (generated.auth === 'malformed') return { authorization: generated.malformedAuth };
  return {};
}

/** The session cookie with a same-origin header; sign-out never gets the real cookie, so the session survives the run. */
function sessionHeaders(generated: GeneratedRequest): Record<string, string> {
  const signsOut = generated.route.path === '/api/auth/sign-out';
  if ((generated.auth === 'full' || generated.auth === 'read-only') && !signsOut) return { cookie: sessionCookie, origin: baseUrl };
  if (generated.auth === 'malformed') return { cookie: `${SESSION_COOKIE_NAME}=${encodeURIComponent(generated.malformedAuth)}`, origin: baseUrl };
  return { origin: generated.auth === 'none' ? 'http://127.0.0.1:1' : baseUrl };
}

async function walletSnapshot() {
  const wallets = await product.prisma.wallet.findMany({ orderBy: { accountId: 'asc' }, select: { accountId: true, balance: true, bonus: true } });
  const ledgerEntries = await product.prisma.ledgerEntry.count();
  return { wallets, ledgerEntries };
}
