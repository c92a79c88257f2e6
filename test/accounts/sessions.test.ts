import { PASSWORD, startAccountsApp, tokenFromMail, type AccountsApp } from './harness';

jest.setTimeout(60_000);

let app: AccountsApp;

beforeAll(async () => {
  app = await startAccountsApp();
});

afterAll(async () => {
  await app?.close();
});

describe('sign-up to sign-out', () => {
  test('follows the e-mailed link, signs in with a flagged cookie and signs out', async () => {
    const email = 'Ada.Example@Example.test';

    const signUp = await app.request('POST', '/api/auth/sign-up', { body: { email, password: PASSWORD, displayName: 'Ada', locale: 'ja' } });
    const mail = await app.smtp.waitForMail('ada.example@example.test');
    const beforeVerify = await app.request('POST', '/api/auth/sign-in', { body: { email, password: PASSWORD } });
    const verify = await app.request('POST', '/api/auth/verify-email', { body: { token: tokenFromMail(mail.text) } });
    const signIn = await app.request('POST', '/api/auth/sign-in', { body: { email, password: PASSWORD } });
    const account = await app.request('GET', '/api/account', { cookie: signIn.cookie! });
    const signOut = await app.request('POST', '/api/auth/sign-out', { cookie: signIn.cookie!, headers: { origin: app.baseUrl } });
    const afterSignOut = await app.request('GET', '/api/account', { cookie: signIn.cookie! });

    expect(signUp.status).toBe(202);
    expect(mail.subject).toBe('メールアドレスの確認');
    expect(mail.text).toContain(`${app.baseUrl}/verify-email#token=`);
    expect(beforeVerify.status).toBe(403);
    expect(beforeVerify.body.error.code).toBe('EMAIL_NOT_VERIFIED');
    expect(verify.status).toBe(200);
    expect(signIn.status).toBe(200);
    expect(signIn.setCookie).toMatch(/^nova_art_session=/);
    expect(signIn.setCookie).toMatch(/; HttpOnly/);
    expect(signIn.setCookie).toMatch(/; SameSite=Lax/);
    expect(signIn.setCookie).not.toMatch(/; Secure/);
    expect(account.status).toBe(200);
    expect(account.body).toMatchObject({ email: 'ada.example@example.test', displayName: 'Ada', locale: 'ja', emailVerified: true });
    expect(account.body.lastSignInAt).not.toBeNull();
    expect(signOut.status).toBe(204);
    expect(afterSignOut.status).toBe(401);
  });

  test('a verification link works once', async () => {
    const email = 'once@example.test';
    await app.request('POST', '/api/auth/sign-up', { body: { email, password: PASSWORD } });
    const token = tokenFromMail((await app.smtp.waitForMail(email)).text);

    const first = await app.request('POST', '/api/auth/verify-email', { body: { token } });
    const second = await app.request('POST', '/api/auth/verify-email', { body: { token } });

    expect(first.status).toBe(200);
    expect(second.status).toBe(400);
    expect(second.body.error.code).toBe('INVALID_TOKEN');
  });

  test('a weak password is refused with its rule', async () => {
    const answer = await app.request('POST', '/api/auth/sign-up', { body: { email: 'weak@example.test', password: 'password123' } });

    expect(answer.status).toBe(400);
    expect(answer.body.error.code).toBe('WEAK_PASSWORD');
  });

  test('the database holds an argon2id hash, not the password', async () => {
    const email = await app.registerVerified();

    const row = await app.prisma.account.findUniqueOrThrow({ where: { email } });

    expect(row.passwordHash).toMatch(/^\$argon2id\$/);
  });
});

describe('session cookie', () => {
  test('a cookie from before sign-in is not valid after it', async () => {
    const first = await app.registerVerified();
    const second = await app.registerVerified();
    const earlierCookie = await app.signIn(first);

    const signIn = await app.request('POST', '/api/auth/sign-in', { cookie: earlierCookie, body: { email: second, password: PASSWORD } });
    const withEarlier = await app.request('GET', '/api/account', { cookie: earlierCookie });
    const withNew = await app.request('GET', '/api/account', { cookie: signIn.cookie! });

    expect(signIn.status).toBe(200);
    expect(signIn.cookie).not.toBe(earlierCookie);
    expect(withEarlier.status).toBe(401);
    expect(withNew.body.email).toBe(second);
  });

  test('is Secure when served over HTTPS behind the trusted proxy', async () => {
    const production = await startAccountsApp({ env: { NODE_ENV: 'production' } });
    try {
      const email = await production.registerVerified();

      const signIn = await production.request('POST', '/api/auth/sign-in', { body: { email, password: PASSWORD }, headers: { 'x-forwarded-proto': 'https' } });

      expect(signIn.status).toBe(200);
      expect(signIn.setCookie).toMatch(/; Secure/);
    } finally {
      await production.close();
    }
  });

  test('the session row names its account and expires', async () => {
    const email = await app.registerVerified();
    const account = await app.prisma.account.findUniqueOrThrow({ where: { email } });

    await app.signIn(email);
    const rows = await app.prisma.userSession.findMany({ where: { accountId: account.id } });

    expect(rows).toHaveLength(1);
    expect(rows[0]!.expiresAt.getTime()).toBeGreaterThan(Date.now());
  });
});

describe('passwords', () => {
  test('a change keeps this session and ends the others', async () => {
    const email = await app.registerVerified();
    const kept = await app.signIn(email);
    const other = await app.signIn(email);

    const change = await app.request('POST', '/api/account/password', { cookie: kept, body: { currentPassword: PASSWORD, newPassword: 'amber-glacier-violin-77' } });
    const withKept = await app.request('GET', '/api/account', { cookie: kept });
    const withOther = await app.request('GET', '/api/account', { cookie: other });
    const oldPassword = await app.request('POST', '/api/auth/sign-in', { body: { email, password: PASSWORD } });
    const newPassword = await app.request('POST', '/api/auth/sign-in', { body: { email, password: 'amber-glacier-violin-77' } });

    expect(change.status).toBe(204);
    expect(withKept.status).toBe(200);
    expect(withOther.status).toBe(401);
    expect(oldPassword.status).toBe(401);
    expect(newPassword.status).toBe(200);
  });

  test('a reset by e-mail sets a new password and ends every session', async () => {
    const email = await app.registerVerified();
    const session = await app.signIn(email);

    const requested = await app.request('POST', '/api/auth/password-reset', { body: { email } });
    const mail = await app.smtp.waitForMail(email, { skip: 1 });
    const confirm = await app.request('POST', '/api/auth/password-reset/confirm', { body: { token: tokenFromMail(mail.text), password: 'copper-meadow-orbit-19' } });
    const withSession = await app.request('GET', '/api/account', { cookie: session });
    const signIn = await app.request('POST', '/api/auth/sign-in', { body: { email, password: 'copper-meadow-orbit-19' } });

    expect(requested.status).toBe(202);
    expect(mail.subject).toBe('Reset your password');
    expect(confirm.status).toBe(204);
    expect(withSession.status).toBe(401);
    expect(signIn.status).toBe(200);
  });
});

describe('profile', () => {
  test('display name and language can be changed', async () => {
    const cookie = await app.signIn(await app.registerVerified());

    const updated = await app.request('PATCH', '/api/account', { cookie, body: { displayName: '李雷', locale: 'zh-CN' } });

    expect(updated.status).toBe(200);
    expect(updated.body).toMatchObject({ displayName: '李雷', locale: 'zh-CN' });
    expect(updated.body.createdAt).toEqual(expect.any(String));
  });
});
