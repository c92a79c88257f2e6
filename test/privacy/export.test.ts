import { startProduct, type ProductHarness } from '../support/product';
import { createPrivacyAccount, downloadArchive, readJson, studio, waitForExport, type PrivacyAccount } from './support';

jest.setTimeout(120_000);

let product: ProductHarness;
let account: PrivacyAccount;
let ready: any;
let entries: Record<string, Uint8Array>;

beforeAll(async () => {
  product = await startProduct({ env: { EXPORT_RETENTION: '3s' } });
  account = await createPrivacyAccount(product);

  const started = await studio(product, 'POST', '/api/account/exports', account.cookie);
  if (started.status !== 202) throw new Error(`export request failed: ${started.status} ${JSON.stringify(started.body)}`);
  ready = await waitForExport(product, account.cookie, ['ready']);
  entries = await downloadArchive(ready.downloadUrl);
});

afterAll(async () => {
  await product?.close();
});

test('archive contains the tasks with their prompts', () => {
  const tasks = readJson(entries, 'tasks.json');

  expect(tasks).toHaveLength(1);
  expect(tasks[0].prompt).toBe(account.prompt);
});

test('archive contains the ledger', async () => {
  const ledgerCount = await product.prisma.ledgerEntry.count({ where: { accountId: account.id } });

  const wallet = readJson(entries, 'wallet.json');

  expect(wallet.ledger).toHaveLength(ledgerCount);
  expect(wallet.ledger.map((entry: any) => entry.kind)).toEqual(expect.arrayContaining(['recharge', 'debit']));
});

test('archive contains the generated image', () => {
  const [asset] = readJson(entries, 'tasks.json')[0].assets;

  const image = entries[asset.file];

  expect(image).toBeDefined();
  expect(Buffer.from(image!).subarray(1, 4).toString('latin1')).toBe('PNG');
});

test('archive contains the reference upload, messages, keys, request logs and sessions', () => {
  const uploads = readJson(entries, 'uploads.json');

  expect(entries[uploads[0].file]).toBeDefined();
  expect(readJson(entries, 'messages.json').map((message: any) => message.kind)).toContain('task.succeeded');
  expect(readJson(entries, 'api-keys.json')[0].name).toBe('privacy');
  expect(readJson(entries, 'api-request-logs.json').length).toBeGreaterThan(0);
  expect(readJson(entries, 'sessions.json')).toHaveLength(1);
});

test('archive contains no password hash, key hash, session id or webhook secret', async () => {
  const row = await product.prisma.account.findUniqueOrThrow({ where: { id: account.id } });
  const key = await product.prisma.apiKey.findFirstOrThrow({ where: { accountId: account.id } });
  const session = await product.prisma.userSession.findFirstOrThrow({ where: { accountId: account.id } });
  const text = Object.values(entries)
    .map((bytes) => Buffer.from(bytes).toString('latin1'))
    .join('\n');

  expect(text).not.toContain(row.passwordHash);
  expect(text).not.toContain(key.hash);
  expect(text).not.toContain(session.sid);
  expect(text).not.toContain(row.webhookSecret);
});

test('export.ready message is sent', async () => {
  const message = await product.prisma.message.findFirst({ where: { accountId: account.id, kind: 'export.ready' } });

  expect(message?.params).toMatchObject({ exportId: ready.id });
});

test('second export while one is pending conflicts', async () => {
  await product.prisma.accountExport.create({ data: { accountId: account.id, expiresAt: new Date(Date.now() + 60_000) } });

  const response = await studio(product, 'POST', '/api/account/exports', account.cookie);

  expect(response.status).toBe(409);
  expect(response.body.error.code).toBe('CONFLICT');
  await product.prisma.accountExport.deleteMany({ where: { accountId: account.id, status: 'pending' } });
});

test('export request without the same origin is rejected', async () => {
  const before = await product.prisma.accountExport.count();

  const response = await product.request('POST', '/api/account/exports', { apiKey: null, headers: { cookie: account.cookie, origin: 'https://evil.example' } });

  expect(response.status).toBe(403);
  expect(await product.prisma.accountExport.count()).toBe(before);
});

test('archive is deleted after its retention', async () => {
  const row = await product.prisma.accountExport.findUniqueOrThrow({ where: { id: ready.id } });

  const expired = await waitForExport(product, account.cookie, ['expired']);

  expect(expired.downloadUrl).toBeNull();
  expect(await product.storage.exists(row.objectKey!)).toBe(false);
  expect(row.objectKey).toBe(`exports/${account.id}/${ready.id}.zip`);
});
