import { writeAudit } from '../../lib/audit';
import { startProduct, type ProductHarness } from '../support/product';
import { createPrivacyAccount, sessionCookie, signIn, studio, waitForExport, type PrivacyAccount } from './support';

jest.setTimeout(120_000);

let product: ProductHarness;
let account: PrivacyAccount;
let otherCookie: string;
let objectKeys: string[];
let wrongPassword: { status: number; body: any };
let emailAfterWrongPassword: string | undefined;
let deleted: { status: number; body: any; headers: Headers };

beforeAll(async () => {
  product = await startProduct();
  account = await createPrivacyAccount(product);
  otherCookie = await signIn(product, account.email);
  await writeAudit(product.prisma, { actorId: account.id, action: 'api_key.created', targetAccountId: account.id });
  await studio(product, 'POST', '/api/account/exports', account.cookie);
  const ready = await waitForExport(product, account.cookie, ['ready']);

  const assets = await product.prisma.taskAsset.findMany({ where: { taskId: account.taskId } });
  const uploads = await product.prisma.referenceUpload.findMany({ where: { accountId: account.id } });
  const archive = await product.prisma.accountExport.findUniqueOrThrow({ where: { id: ready.id } });
  objectKeys = [...assets.flatMap((asset) => [asset.objectKey, asset.previewKey]), ...uploads.map((upload) => upload.objectKey), archive.objectKey!];

  wrongPassword = await studio(product, 'POST', '/api/account/delete', account.cookie, { password: 'not-the-password-at-all' });
  emailAfterWrongPassword = (await product.prisma.account.findUnique({ where: { id: account.id } }))?.email;
  deleted = await studio(product, 'POST', '/api/account/delete', account.cookie, { password: 'violet-harbor-lantern-42' });
});

afterAll(async () => {
  await product?.close();
});

test('wrong password is rejected', () => {
  expect(wrongPassword.status).toBe(401);
  expect(wrongPassword.body.error.code).toBe('INVALID_CREDENTIALS');
  expect(emailAfterWrongPassword).toBe(account.email);
});

test('deletion signs out', () => {
  const cleared = deleted.headers.getSetCookie().find((line) => line.startsWith('nova_art_session='));

  expect(deleted.status).toBe(204);
  expect(cleared).toMatch(/Expires=Thu, 01 Jan 1970/);
});

test('account row keeps no e-mail, name or password', async () => {
  const row = await product.prisma.account.findUniqueOrThrow({ where: { id: account.id } });

  expect(row.email).toBe(`deleted-${account.id}@invalid`);
  expect(row.displayName).toBeNull();
  expect(row.passwordHash).toBeNull();
  expect(row.inviteCode).toBeNull();
  expect(row.anonymizedAt).not.toBeNull();
});

test('no table holds the e-mail address or the prompt', async () => {
  const tables = await product.prisma.$queryRaw<Array<{ tablename: string }>>`SELECT tablename FROM pg_tables WHERE schemaname = 'public'`;

  const found: string[] = [];
  for (const { tablename } of tables) {
    const rows = await product.prisma.$queryRawUnsafe<Array<{ count: bigint }>>(
      `SELECT count(*) AS count FROM "${tablename}" t WHERE t::text ILIKE $1 OR t::text ILIKE $2`,
      `%${account.email}%`,
      `%${account.prompt}%`,
    );
    if (Number(rows[0]!.count) > 0) found.push(tablename);
  }

  expect(found).toEqual([]);
});

test('task rows stay without prompts', async () => {
  const task = await product.prisma.task.findUniqueOrThrow({ where: { id: account.taskId } });

  expect(task.prompt).toBe('');
  expect(task.negativePrompt).toBe('');
  expect(task.status).toBe('succeeded');
});

test('every stored object is deleted', async () => {
  const remaining = [];
  for (const key of objectKeys) if (await product.storage.exists(key)) remaining.push(key);

  expect(objectKeys.length).toBeGreaterThanOrEqual(4);
  expect(remaining).toEqual([]);
  expect(await product.prisma.taskAsset.count({ where: { taskId: account.taskId, deletedAt: null } })).toBe(0);
  expect(await product.prisma.referenceUpload.count({ where: { accountId: account.id, deletedAt: null } })).toBe(0);
});

test('API keys are revoked', async () => {
  const response = await product.request('GET', '/v1/tasks', { apiKey: account.apiKey });

  expect(response.status).toBe(401);
});

test('every session ends', async () => {
  const response = await studio(product, 'GET', '/api/account', otherCookie);

  expect(response.status).toBe(401);
  expect(await product.prisma.userSession.count({ where: { accountId: account.id } })).toBe(0);
});

test('messages are deleted and request logs cleared', async () => {
  const logs = await product.prisma.apiRequestLog.findMany({ where: { accountId: account.id } });

  expect(await product.prisma.message.count({ where: { accountId: account.id } })).toBe(0);
  expect(logs.length).toBeGreaterThan(0);
  expect(logs.filter((log) => log.userAgent !== null || log.ip !== null || log.requestSummary !== null || log.responseSummary !== null)).toEqual([]);
});

test('ledger sums still equal the wallet', async () => {
  const sums = await product.prisma.ledgerEntry.aggregate({ where: { accountId: account.id }, _sum: { balanceDelta: true, bonusDelta: true } });

  const wallet = await product.prisma.wallet.findUniqueOrThrow({ where: { accountId: account.id } });

  expect(sums._sum.balanceDelta).toBe(wallet.balance);
  expect(sums._sum.bonusDelta).toBe(wallet.bonus);
  expect(wallet.balance).toBe(490);
});

test('audit rows are kept and the deletion is recorded', async () => {
  const actions = (await product.prisma.auditLog.findMany({ where: { targetAccountId: account.id } })).map((row) => row.action);

  expect(actions).toContain('api_key.created');
  expect(actions).toContain('account.deleted');
});

test('sign-in with the old e-mail fails as for an unknown address', async () => {
  const unknown = await product.request('POST', '/api/auth/sign-in', { apiKey: null, body: { email: 'nobody-here@example.test', password: 'violet-harbor-lantern-42' } });

  const old = await product.request('POST', '/api/auth/sign-in', { apiKey: null, body: { email: account.email, password: 'violet-harbor-lantern-42' } });

  expect(old.status).toBe(unknown.status);
  expect(old.body.error.code).toBe(unknown.body.error.code);
  expect(sessionCookie(old.headers)).toBeUndefined();
});
