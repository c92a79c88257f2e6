import { ensureInviteCode } from '../../lib/referrals';
import { PASSWORD, startAccountsApp, type AccountsApp } from './harness';

jest.setTimeout(60_000);

let app: AccountsApp;

beforeAll(async () => {
  app = await startAccountsApp();
});

afterAll(async () => {
  await app?.close();
});

test('sign-up with an invite code records the inviter', async () => {
  const inviterEmail = await app.registerVerified();
  const inviter = await app.prisma.account.findUniqueOrThrow({ where: { email: inviterEmail } });
  const inviteCode = await ensureInviteCode(app.prisma, inviter.id);

  const signUp = await app.request('POST', '/api/auth/sign-up', { body: { email: 'invited@example.test', password: PASSWORD, inviteCode } });
  await app.smtp.waitForMail('invited@example.test');
  const invitee = await app.prisma.account.findUniqueOrThrow({ where: { email: 'invited@example.test' } });
  const referral = await app.prisma.referral.findUnique({ where: { inviteeId: invitee.id } });

  expect(signUp.status).toBe(202);
  expect(referral?.inviterId).toBe(inviter.id);
  expect(referral?.rewardedAt).toBeNull();
});

test('sign-up with an unknown invite code is refused and creates nothing', async () => {
  const signUp = await app.request('POST', '/api/auth/sign-up', { body: { email: 'nobody-invited@example.test', password: PASSWORD, inviteCode: 'ZZZZZZZZ' } });

  expect(signUp.status).toBe(404);
  expect(signUp.body.error.code).toBe('INVITE_CODE_UNKNOWN');
  expect(await app.prisma.account.count({ where: { email: 'nobody-invited@example.test' } })).toBe(0);
});
