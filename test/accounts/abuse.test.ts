import http from 'node:http';
import { creditWallet } from '../../lib/wallet';
import { PASSWORD, createVerifiedAccount, startAccountsApp, type AccountsApp } from './harness';

jest.setTimeout(60_000);

let app: AccountsApp;

beforeAll(async () => {
  app = await startAccountsApp({ env: { SIGN_IN_MAX_FAILURES: '3' } });
});

afterAll(async () => {
  await app?.close();
});

/** The parts of a response a client sees, without the per-request id. */
function visible(answer: { status: number; body: any }) {
  const body = answer.body?.error ? { ...answer.body, error: { ...answer.body.error, requestId: undefined } } : answer.body;
  return { status: answer.status, body };
}

describe('no enumeration', () => {
  test('sign-up answers the same for a known and an unknown e-mail', async () => {
    const known = await createVerifiedAccount(app.prisma);

    const forKnown = await app.request('POST', '/api/auth/sign-up', { body: { email: known, password: 'quartz-willow-beacon-31' } });
    const forUnknown = await app.request('POST', '/api/auth/sign-up', { body: { email: 'nobody-a@example.test', password: 'quartz-willow-beacon-31' } });

    expect(visible(forKnown)).toEqual(visible(forUnknown));
  });

  test('sign-in answers the same for a known and an unknown e-mail', async () => {
    const known = await createVerifiedAccount(app.prisma);

    const forKnown = await app.request('POST', '/api/auth/sign-in', { body: { email: known, password: 'wrong-but-long-enough' } });
    const forUnknown = await app.request('POST', '/api/auth/sign-in', { body: { email: 'nobody-b@example.test', password: 'wrong-but-long-enough' } });

    expect(forKnown.status).toBe(401);
    expect(visible(forKnown)).toEqual(visible(forUnknown));
  });

  test('reset answers the same for a known and an unknown e-mail', async () => {
    const known = await createVerifiedAccount(app.prisma);

    const forKnown = await app.request('POST', '/api/auth/password-reset', { body: { email: known } });
    const forUnknown = await app.request('POST', '/api/auth/password-reset', { body: { email: 'nobody-c@example.test' } });

    expect(forKnown.status).toBe(202);
    expect(visible(forKnown)).toEqual(visible(forUnknown));
  });

  test('a known address that signs up again gets a notice, not a second account', async () => {
    const known = await createVerifiedAccount(app.prisma);

    await app.request('POST', '/api/auth/sign-up', { body: { email: known, password: 'quartz-willow-beacon-31' } });
    const mail = await app.smtp.waitForMail(known);

    expect(mail.subject).toBe('Someone tried to sign up with your e-mail address');
  });
});

describe('malformed input', () => {
  test.each([
    ['sign-in', '/api/auth/sign-in', { email: 'x@example.test', password: { $gt: '' } }],
    ['sign-in', '/api/auth/sign-in', { email: 'x@example.test', password: ['a', 'b'] }],
    ['sign-up', '/api/auth/sign-up', { email: 'x@example.test', password: { length: 20 } }],
    ['reset', '/api/auth/password-reset/confirm', { token: 'abc', password: ['long-enough-password'] }],
  ])('%s with an object or array as password is a 400', async (_name, pathname, body) => {
    const answer = await app.request('POST', pathname, { body });

    expect(answer.status).toBe(400);
    expect(answer.body.error.code).toBe('VALIDATION_FAILED');
  });

  test('a body that is a JSON array is a 400', async () => {
    const answer = await app.request('POST', '/api/auth/sign-in', { body: ['x@example.test', PASSWORD] });

    expect(answer.status).toBe(400);
  });
});

describe('abuse limits', () => {
  test('the third failed sign-in is a 429 with Retry-After and rate-limit headers', async () => {
    const email = await createVerifiedAccount(app.prisma);
    const attempt = () => app.request('POST', '/api/auth/sign-in', { body: { email, password: 'not-the-password-1' } });

    const first = await attempt();
    const second = await attempt();
    const third = await attempt();
    const withRightPassword = await app.request('POST', '/api/auth/sign-in', { body: { email, password: PASSWORD } });

    expect(first.status).toBe(401);
    expect(second.status).toBe(401);
    expect(third.status).toBe(429);
    expect(Number(third.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(third.headers.get('ratelimit-limit')).toBe('3');
    expect(third.headers.get('ratelimit-remaining')).toBe('0');
    expect(withRightPassword.status).toBe(429);
  });

  test('an unknown address is locked out the same way', async () => {
    const attempt = () => app.request('POST', '/api/auth/sign-in', { body: { email: 'ghost@example.test', password: 'not-the-password-1' } });

    await attempt();
    await attempt();
    const third = await attempt();

    expect(third.status).toBe(429);
  });

  test('requests per IP are limited', async () => {
    const limited = await startAccountsApp({ env: { AUTH_MAX_REQUESTS_PER_IP: '2' } });
    try {
      const reset = () => limited.request('POST', '/api/auth/password-reset', { body: { email: 'ip@example.test' } });

      await reset();
      await reset();
      const third = await reset();

      expect(third.status).toBe(429);
      expect(third.headers.get('retry-after')).not.toBeNull();
    } finally {
      await limited.close();
    }
  });

  test('reset e-mails per address are limited', async () => {
    const limited = await startAccountsApp({ env: { AUTH_MAX_REQUESTS_PER_EMAIL: '1' } });
    try {
      const reset = () => limited.request('POST', '/api/auth/password-reset', { body: { email: 'mail-limit@example.test' } });

      const first = await reset();
      const second = await reset();

      expect(first.status).toBe(202);
      expect(second.status).toBe(429);
    } finally {
      await limited.close();
    }
  });
});

describe('CSRF', () => {
  test('a cross-site form POST with the session cookie is a 403', async () => {
    const cookie = await app.signIn(await createVerifiedAccount(app.prisma));

    const answer = await app.request('POST', '/api/keys', {
      cookie,
      rawBody: 'name=stolen&scopes=tasks:write',
      headers: { 'content-type': 'application/x-www-form-urlencoded', origin: 'https://evil.example', 'sec-fetch-site': 'cross-site' },
    });
    const keys = await app.request('GET', '/api/keys', { cookie });

    expect(answer.status).toBe(403);
    expect(answer.body.error.code).toBe('CSRF_FAILED');
    expect(keys.body.data).toHaveLength(0);
  });

  test('a form POST without Origin or Sec-Fetch-Site is a 403', async () => {
    const cookie = await app.signIn(await createVerifiedAccount(app.prisma));

    const answer = await app.request('POST', '/api/auth/sign-out', { cookie, rawBody: 'x=1', headers: { 'content-type': 'text/plain' } });

    expect(answer.status).toBe(403);
  });

  test('a same-origin request passes', async () => {
    const cookie = await app.signIn(await createVerifiedAccount(app.prisma));

    const answer = await app.request('POST', '/api/keys', {
      cookie,
      body: { name: 'mine', scopes: ['tasks:read'] },
      headers: { origin: app.baseUrl, 'sec-fetch-site': 'same-origin' },
    });

    expect(answer.status).toBe(201);
  });

  test('API-key requests to /v1 need no CSRF proof', async () => {
    const email = await createVerifiedAccount(app.prisma);
    const { id: accountId } = await app.prisma.account.findUniqueOrThrow({ where: { email } });
    await app.prisma.$transaction((tx) => creditWallet(tx, { accountId, kind: 'recharge', balance: 100, bonus: 0, idempotencyKey: `csrf:${accountId}` }));
    const cookie = await app.signIn(email);
    const created = await app.request('POST', '/api/keys', { cookie, body: { name: 'v1', scopes: ['tasks:write'] } });

    const answer = await app.request('POST', '/v1/tasks', {
      apiKey: created.body.key,
      body: { prompt: 'a harbour', model: 'novart-basic' },
      headers: { origin: 'https://elsewhere.example', 'sec-fetch-site': 'cross-site' },
    });

    expect(answer.status).toBe(201);
  });
});

describe('security headers', () => {
  test.each(['/api/auth/session', '/v1/tasks', '/api/account'])('helmet headers are on %s', async (pathname) => {
    const answer = await app.request('GET', pathname);

    expect(answer.headers.get('x-content-type-options')).toBe('nosniff');
    expect(answer.headers.get('strict-transport-security')).not.toBeNull();
    expect(answer.headers.get('content-security-policy')).not.toBeNull();
  });
});

describe('raw requests', () => {
  test('a session cookie with garbage is a 401, not a 500', async () => {
    const answer = await new Promise<number>((resolve, reject) => {
      const request = http.request(`${app.baseUrl}/api/account`, { headers: { cookie: 'nova_art_session=s%3A%FF%FE.%00garbage' } }, (response) => {
        response.resume();
        resolve(response.statusCode ?? 0);
      });
      request.on('error', reject);
      request.end();
    });

    expect(answer).toBe(401);
  });
});
