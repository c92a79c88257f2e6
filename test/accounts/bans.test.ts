import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { PASSWORD, createVerifiedAccount, startAccountsApp, type AccountsApp } from './harness';

jest.setTimeout(90_000);

const run = promisify(execFile);
const ROOT = path.resolve(__dirname, '..', '..');

let app: AccountsApp;

beforeAll(async () => {
  app = await startAccountsApp();
});

afterAll(async () => {
  await app?.close();
});

/** Runs `npm run account:ban` as an operator would, against the test database. */
async function banCli(args: string[]): Promise<string> {
  const { stdout } = await run(path.join(ROOT, 'node_modules', '.bin', 'tsx'), ['scripts/ban.ts', ...args], {
    cwd: ROOT,
    env: { ...process.env, DATABASE_URL: app.config.DATABASE_URL!, DATA_DIR: app.config.DATA_DIR, LOG_LEVEL: 'silent', NODE_OPTIONS: '' },
  });
  return stdout;
}

describe('ban and unban from the command line', () => {
  let email: string;
  let accountId: string;
  let apiKey: string;
  let cookie: string;

  beforeAll(async () => {
    email = await createVerifiedAccount(app.prisma);
    accountId = (await app.prisma.account.findUniqueOrThrow({ where: { email } })).id;
    cookie = await app.signIn(email);
    apiKey = (await app.request('POST', '/api/keys', { cookie, body: { name: 'cli', scopes: ['wallet:read'] } })).body.key;
    await banCli(['--email', email, '--reason', 'Spam prompts']);
  });

  test('sign-in is refused with the reason', async () => {
    const answer = await app.request('POST', '/api/auth/sign-in', { body: { email, password: PASSWORD } });

    expect(answer.status).toBe(403);
    expect(answer.body.error.code).toBe('ACCOUNT_BANNED');
    expect(answer.body.error.details.reason).toBe('Spam prompts');
  });

  test('a wrong password still gets the generic answer', async () => {
    const answer = await app.request('POST', '/api/auth/sign-in', { body: { email, password: 'not-the-password-2' } });

    expect(answer.status).toBe(401);
  });

  test('the session from before the ban has ended', async () => {
    const answer = await app.request('GET', '/api/account', { cookie });

    expect(answer.status).toBe(401);
  });

  test('the API key is a 403 with the reason', async () => {
    const answer = await app.request('GET', '/v1/wallet', { apiKey });

    expect(answer.status).toBe(403);
    expect(answer.body.error.code).toBe('ACCOUNT_BANNED');
    expect(answer.body.error.details.reason).toBe('Spam prompts');
  });

  test('one open appeal at a time', async () => {
    const body = { email, password: PASSWORD, message: 'Those were tests of the filter.' };

    const first = await app.request('POST', '/api/appeals', { body });
    const second = await app.request('POST', '/api/appeals', { body });
    const signIn = await app.request('POST', '/api/auth/sign-in', { body: { email, password: PASSWORD } });

    expect(first.status).toBe(201);
    expect(first.body.status).toBe('open');
    expect(second.status).toBe(409);
    expect(signIn.body.error.details.appealOpen).toBe(true);
  });

  test('an appeal needs the right password', async () => {
    const answer = await app.request('POST', '/api/appeals', { body: { email, password: 'not-the-password-3', message: 'Let me in' } });

    expect(answer.status).toBe(401);
  });

  test('unban restores sign-in and keys, and both changes are audited', async () => {
    await banCli(['--email', email, '--unban', '--reason', 'Appeal accepted']);

    const signIn = await app.request('POST', '/api/auth/sign-in', { body: { email, password: PASSWORD } });
    const withKey = await app.request('GET', '/v1/wallet', { apiKey });
    const audit = await app.prisma.auditLog.findMany({ where: { targetAccountId: accountId }, orderBy: { createdAt: 'asc' } });

    expect(signIn.status).toBe(200);
    expect(withKey.status).toBe(200);
    expect(audit.map((row) => [row.action, row.reason, row.actorId])).toEqual([
      ['api_key.created', null, accountId],
      ['account.ban', 'Spam prompts', null],
      ['account.unban', 'Appeal accepted', null],
    ]);
    expect(audit.every((row) => row.createdAt instanceof Date)).toBe(true);
  });
});

test('an account that is not banned cannot appeal', async () => {
  const email = await createVerifiedAccount(app.prisma);

  const answer = await app.request('POST', '/api/appeals', { body: { email, password: PASSWORD, message: 'Why not' } });

  expect(answer.status).toBe(409);
});
