import { randomBytes } from 'node:crypto';
import { unzipSync } from 'fflate';
import sharp from 'sharp';
import { createAccount } from '../../lib/accounts';
import { API_KEY_SCOPES, createApiKey } from '../../lib/api-keys';
import { creditWallet } from '../../lib/wallet';
import { TEST_MODEL, type ProductHarness } from '../support/product';

export const PASSWORD = 'violet-harbor-lantern-42';

/** An account with a password, credits, an API key, a signed-in session and one finished task. */
export interface PrivacyAccount {
  id: string;
  email: string;
  apiKey: string;
  cookie: string;
  taskId: string;
  prompt: string;
}

export async function createPrivacyAccount(product: ProductHarness): Promise<PrivacyAccount> {
  const email = `privacy-${randomBytes(5).toString('hex')}@example.test`;
  const account = await createAccount(product.prisma, { email, password: PASSWORD, emailVerified: true });
  await product.prisma.$transaction((tx) =>
    creditWallet(tx, { accountId: account.id, kind: 'recharge', balance: 500, bonus: 0, idempotencyKey: `test:${account.id}` }),
  );
  const { key } = await createApiKey(product.prisma, { accountId: account.id, name: 'privacy', scopes: API_KEY_SCOPES });
  const cookie = await signIn(product, email);

  const prompt = `a lighthouse at dawn ${randomBytes(4).toString('hex')}`;
  const png = await sharp({ create: { width: 32, height: 32, channels: 3, background: '#336699' } }).png().toBuffer();
  await product.request('POST', '/v1/uploads', { rawBody: png, headers: { 'content-type': 'image/png' }, apiKey: key });
  const created = await product.request('POST', '/v1/tasks', {
    body: { prompt, negativePrompt: 'fog', model: TEST_MODEL, size: '512x512' },
    apiKey: key,
    headers: { 'user-agent': 'privacy-test-agent' },
  });
  if (created.status !== 201) throw new Error(`task creation failed: ${created.status} ${JSON.stringify(created.body)}`);
  await product.waitForTask(created.body.id, ['succeeded']);

  return { id: account.id, email, apiKey: key, cookie, taskId: created.body.id, prompt };
}

/** Signs in through the Studio API and returns the session cookie (`name=value`). */
export async function signIn(product: ProductHarness, email: string, password = PASSWORD): Promise<string> {
  const answer = await product.request('POST', '/api/auth/sign-in', { body: { email, password }, apiKey: null });
  const cookie = sessionCookie(answer.headers);
  if (answer.status !== 200 || !cookie) throw new Error(`sign-in failed: ${answer.status} ${JSON.stringify(answer.body)}`);
  return cookie;
}

export function sessionCookie(headers: Headers): string | undefined {
  return headers
    .getSetCookie()
    .find((line) => line.startsWith('nova_art_session='))
    ?.split(';')[0];
}

/** Sends a Studio request as the browser does: same origin, the session cookie, no API key. */
export function studio(product: ProductHarness, method: string, pathname: string, cookie: string, body?: unknown) {
  return product.request(method, pathname, { apiKey: null, headers: { cookie, origin: product.baseUrl }, ...(body !== undefined ? { body } : {}) });
}

/** Waits until the account's newest export reaches one of `statuses`. */
export async function waitForExport(product: ProductHarness, cookie: string, statuses: string[], timeoutMs = 60_000): Promise<any> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const list = await studio(product, 'GET', '/api/account/exports', cookie);
    const newest = list.body?.data?.[0];
    if (newest && statuses.includes(newest.status)) return newest;
    if (Date.now() > deadline) throw new Error(`export did not reach ${statuses.join('|')}: ${JSON.stringify(newest)}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

/** Downloads an archive and returns its entries by name. */
export async function downloadArchive(url: string): Promise<Record<string, Uint8Array>> {
  const response = await fetch(url);
  if (response.status !== 200) throw new Error(`download failed: ${response.status}`);
  return unzipSync(new Uint8Array(await response.arrayBuffer()));
}

export function readJson(entries: Record<string, Uint8Array>, name: string): any {
  const bytes = entries[name];
  if (!bytes) throw new Error(`no ${name} in the archive`);
  return JSON.parse(Buffer.from(bytes).toString('utf8'));
}
