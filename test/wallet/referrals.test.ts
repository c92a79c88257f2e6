import { createRedemptionBatch, redeemCode } from '../../lib/redemption';
import { ensureInviteCode, recordReferral, referralSummary } from '../../lib/referrals';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { accountWith } from './support';

let database: TestDatabase;

beforeAll(async () => {
  database = await createTestDatabase();
});

afterAll(async () => {
  await database.drop();
});

const settings = { failureLimit: { limit: 100, windowMs: 60_000 }, inviterReward: 100 };

async function signUpWith(inviteCode: string, welcomeBonus = 0): Promise<string> {
  const inviteeId = await accountWith(database.prisma, 0);
  await database.prisma.$transaction((tx) => recordReferral(tx, { inviteeId, inviteCode, welcomeBonus }));
  return inviteeId;
}

async function rewardsOf(accountId: string) {
  return database.prisma.ledgerEntry.findMany({ where: { accountId, kind: 'referral_reward' } });
}

async function code(faceValue: number, bonus = 0): Promise<string> {
  const { codes } = await createRedemptionBatch(database.prisma, { faceValue, bonus, count: 1, label: 'referral test', createdById: null });
  return codes[0]!;
}

describe('referrals', () => {
  test('sign-ups without payment give no reward', async () => {
    const inviterId = await accountWith(database.prisma, 0);
    const inviteCode = await ensureInviteCode(database.prisma, inviterId);

    for (let index = 0; index < 20; index += 1) await signUpWith(inviteCode);

    expect(await database.prisma.referral.count({ where: { inviterId } })).toBe(20);
    expect(await rewardsOf(inviterId)).toHaveLength(0);
  });

  test('the first paid redemption rewards the inviter once', async () => {
    const inviterId = await accountWith(database.prisma, 0);
    const inviteeId = await signUpWith(await ensureInviteCode(database.prisma, inviterId));

    await redeemCode(database.prisma, { accountId: inviteeId, code: await code(50) }, settings);
    const afterFirst = await rewardsOf(inviterId);
    await redeemCode(database.prisma, { accountId: inviteeId, code: await code(50) }, settings);

    expect(afterFirst).toHaveLength(1);
    expect(afterFirst[0]!.bonusDelta).toBe(100);
    expect(await rewardsOf(inviterId)).toHaveLength(1);
  });

  test('a bonus-only code is not a payment', async () => {
    const inviterId = await accountWith(database.prisma, 0);
    const inviteeId = await signUpWith(await ensureInviteCode(database.prisma, inviterId));

    await redeemCode(database.prisma, { accountId: inviteeId, code: await code(0, 20) }, settings);

    expect(await rewardsOf(inviterId)).toHaveLength(0);
  });

  test('concurrent paid redemptions reward once', async () => {
    const inviterId = await accountWith(database.prisma, 0);
    const inviteeId = await signUpWith(await ensureInviteCode(database.prisma, inviterId));
    const codes = await Promise.all([code(10), code(10), code(10), code(10)]);

    await Promise.all(codes.map((text) => redeemCode(database.prisma, { accountId: inviteeId, code: text }, settings)));

    expect(await rewardsOf(inviterId)).toHaveLength(1);
  });

  test('self-referral is refused', async () => {
    const accountId = await accountWith(database.prisma, 0);
    const inviteCode = await ensureInviteCode(database.prisma, accountId);

    const referral = database.prisma.$transaction((tx) => recordReferral(tx, { inviteeId: accountId, inviteCode }));

    await expect(referral).rejects.toMatchObject({ code: 'SELF_REFERRAL' });
    expect(await database.prisma.referral.count({ where: { inviteeId: accountId } })).toBe(0);
  });

  test('a recorded referral cannot be changed', async () => {
    const firstInviter = await accountWith(database.prisma, 0);
    const secondInviter = await accountWith(database.prisma, 0);
    const inviteeId = await signUpWith(await ensureInviteCode(database.prisma, firstInviter));

    const change = database.prisma.$transaction(async (tx) => recordReferral(tx, { inviteeId, inviteCode: await ensureInviteCode(tx, secondInviter) }));

    await expect(change).rejects.toMatchObject({ code: 'REFERRAL_ALREADY_RECORDED' });
    expect((await database.prisma.referral.findUniqueOrThrow({ where: { inviteeId } })).inviterId).toBe(firstInviter);
  });

  test('an unknown invite code is refused', async () => {
    const inviteeId = await accountWith(database.prisma, 0);

    const referral = database.prisma.$transaction((tx) => recordReferral(tx, { inviteeId, inviteCode: 'ZZZZZZZZ' }));

    await expect(referral).rejects.toMatchObject({ code: 'INVITE_CODE_UNKNOWN' });
  });

  test('the invitee receives the welcome bonus', async () => {
    const inviterId = await accountWith(database.prisma, 0);

    const inviteeId = await signUpWith(await ensureInviteCode(database.prisma, inviterId), 30);

    expect((await database.prisma.wallet.findUniqueOrThrow({ where: { accountId: inviteeId } })).bonus).toBe(30);
  });

  test('the summary counts invited and rewarded accounts', async () => {
    const inviterId = await accountWith(database.prisma, 0);
    const inviteCode = await ensureInviteCode(database.prisma, inviterId);
    const paying = await signUpWith(inviteCode);
    await signUpWith(inviteCode);
    await redeemCode(database.prisma, { accountId: paying, code: await code(10) }, settings);

    const summary = await referralSummary(database.prisma, inviterId, 'https://studio.example');

    expect(summary.inviteLink).toBe(`https://studio.example/signup?invite=${inviteCode}`);
    expect(summary.stats).toEqual({ invited: 2, rewarded: 1, pending: 1, rewardCredits: 100 });
  });
});
