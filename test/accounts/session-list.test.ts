import { PASSWORD, startAccountsApp, type AccountsApp } from './harness';

jest.setTimeout(60_000);

let app: AccountsApp;

beforeAll(async () => {
  app = await startAccountsApp();
});

afterAll(async () => {
  await app?.close();
});

describe('signed-in sessions', () => {
  test('lists sessions, current one flagged', async () => {
    const email = await app.registerVerified();
    const laptop = await app.signIn(email);
    await signInWith(email, 'PhoneBrowser/1.0');

    const answer = await app.request('GET', '/api/sessions', { cookie: laptop });

    expect(answer.status).toBe(200);
    expect(answer.body.data).toHaveLength(2);
    expect(answer.body.data.filter((row: { current: boolean }) => row.current)).toHaveLength(1);
    expect(answer.body.data.find((row: { current: boolean }) => !row.current).userAgent).toBe('PhoneBrowser/1.0');
  });

  test('hides session ids and other accounts', async () => {
    const email = await app.registerVerified();
    const other = await app.registerVerified();
    const cookie = await app.signIn(email);
    await app.signIn(other);
    const sid = decodeURIComponent(cookie.split('=')[1]!).replace(/^s:/, '').split('.')[0]!;

    const answer = await app.request('GET', '/api/sessions', { cookie });

    expect(answer.body.data).toHaveLength(1);
    expect(JSON.stringify(answer.body)).not.toContain(sid);
    expect(answer.body.data[0]).toEqual({
      id: expect.any(String),
      current: true,
      userAgent: expect.any(String),
      ip: expect.any(String),
      createdAt: expect.any(String),
      expiresAt: expect.any(String),
    });
  });

  test('ending a session signs out', async () => {
    const email = await app.registerVerified();
    const laptop = await app.signIn(email);
    const phone = await signInWith(email, 'PhoneBrowser/1.0');
    const listed = await app.request('GET', '/api/sessions', { cookie: laptop });
    const target = listed.body.data.find((row: { current: boolean }) => !row.current);

    const ended = await app.request('DELETE', `/api/sessions/${target.id}`, { cookie: laptop, headers: { origin: app.baseUrl } });
    const phoneAfter = await app.request('GET', '/api/account', { cookie: phone });
    const laptopAfter = await app.request('GET', '/api/account', { cookie: laptop });
    const audit = await app.prisma.auditLog.findMany({ where: { action: 'session.ended', metadata: { path: ['sessionId'], equals: target.id } } });

    expect(ended.status).toBe(204);
    expect(phoneAfter.status).toBe(401);
    expect(laptopAfter.status).toBe(200);
    expect(audit).toHaveLength(1);
  });

  test('current session cannot be ended', async () => {
    const cookie = await app.signIn(await app.registerVerified());
    const current = (await app.request('GET', '/api/sessions', { cookie })).body.data[0];

    const answer = await app.request('DELETE', `/api/sessions/${current.id}`, { cookie, headers: { origin: app.baseUrl } });
    const after = await app.request('GET', '/api/account', { cookie });

    expect(answer.status).toBe(409);
    expect(answer.body.error.code).toBe('CONFLICT');
    expect(after.status).toBe(200);
  });

  test("other account's session not found", async () => {
    const owner = await app.signIn(await app.registerVerified());
    const stranger = await app.signIn(await app.registerVerified());
    const ownerSession = (await app.request('GET', '/api/sessions', { cookie: owner })).body.data[0];

    const answer = await app.request('DELETE', `/api/sessions/${ownerSession.id}`, { cookie: stranger, headers: { origin: app.baseUrl } });
    const ownerAfter = await app.request('GET', '/api/account', { cookie: owner });

    expect(answer.status).toBe(404);
    expect(answer.body.error.code).toBe('NOT_FOUND');
    expect(ownerAfter.status).toBe(200);
  });

  test('cross-site end is rejected', async () => {
    const email = await app.registerVerified();
    const laptop = await app.signIn(email);
    const phone = await signInWith(email, 'PhoneBrowser/1.0');
    const target = (await app.request('GET', '/api/sessions', { cookie: laptop })).body.data.find((row: { current: boolean }) => !row.current);

    const answer = await app.request('DELETE', `/api/sessions/${target.id}`, { cookie: laptop, headers: { origin: 'https://attacker.example' } });
    const phoneAfter = await app.request('GET', '/api/account', { cookie: phone });

    expect(answer.status).toBe(403);
    expect(answer.body.error.code).toBe('CSRF_FAILED');
    expect(phoneAfter.status).toBe(200);
  });

  test('list requires a session', async () => {
    const answer = await app.request('GET', '/api/sessions');

    expect(answer.status).toBe(401);
    expect(answer.body.error.code).toBe('UNAUTHENTICATED');
  });
});

async function signInWith(email: string, userAgent: string): Promise<string> {
  const answer = await app.request('POST', '/api/auth/sign-in', { body: { email, password: PASSWORD }, headers: { 'user-agent': userAgent } });
  if (!answer.cookie) throw new Error(`sign-in failed: ${answer.status}`);
  return answer.cookie;
}
