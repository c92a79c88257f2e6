import { randomInt } from 'node:crypto';
import type { PrismaClient, Referral } from '../prisma/generated/client';
import type { Config } from './config';
import { isUniqueViolation } from './db/transactions';
import { AppError } from './errors';
import { creditWallet, type Transaction } from './wallet';

/**
 * Referrals: every account has an invite code. An account that signs up with
 * it is recorded as the inviter's invitee, once and for good. The inviter earns
 * bonus credits once per invitee, on the invitee's first paid top-up, so
 * sign-ups alone earn nothing.
 */

// The redemption-code alphabet: no 0/O or 1/I/L.
const INVITE_ALPHABET = '23456789ABCDEFGHJKMNPQRSTUVWXYZ';
const INVITE_LENGTH = 8;
const INVITE_PATTERN = new RegExp(`^[${INVITE_ALPHABET}]{${INVITE_LENGTH}}$`);

export function generateInviteCode(): string {
  let code = '';
  for (let index = 0; index < INVITE_LENGTH; index += 1) code += INVITE_ALPHABET[randomInt(INVITE_ALPHABET.length)];
  return code;
}

/** Returns the account's invite code, creating it on first use. */
export async function ensureInviteCode(prisma: PrismaClient | Transaction, accountId: string): Promise<string> {
  for (let attempt = 1; ; attempt += 1) {
    const account = await prisma.account.findUniqueOrThrow({ where: { id: accountId }, select: { inviteCode: true } });
    if (account.inviteCode) return account.inviteCode;

    try {
      // The condition keeps a code that a concurrent call set first.
      await prisma.account.updateMany({ where: { id: accountId, inviteCode: null }, data: { inviteCode: generateInviteCode() } });
    } catch (error) {
      // 31^8 codes make a collision rare, so a few fresh draws settle it.
      if (!isUniqueViolation(error) || attempt >= 5) throw error;
    }
  }
}

/** The link a new user follows to sign up with the code. */
export function inviteLink(publicUrl: string, inviteCode: string): string {
  return `${publicUrl}/signup?invite=${encodeURIComponent(inviteCode)}`;
}

export interface ReferralSettings {
  welcomeBonus: number;
  inviterReward: number;
}

export function referralSettings(config: Pick<Config, 'REFERRAL_WELCOME_BONUS' | 'REFERRAL_INVITER_REWARD'>): ReferralSettings {
  return { welcomeBonus: config.REFERRAL_WELCOME_BONUS, inviterReward: config.REFERRAL_INVITER_REWARD };
}

/**
 * Records the inviter of a new account, inside the sign-up transaction, and
 * credits the optional welcome bonus. Rejects an unknown code, the account's
 * own code and a second referral for the same account.
 */
/** Finds the account that owns an invite code, or rejects with INVITE_CODE_UNKNOWN. */
export async function findInviter(prisma: PrismaClient | Transaction, inviteCodeInput: string): Promise<{ id: string }> {
  const inviteCode = inviteCodeInput.trim().toUpperCase();
  const inviter = INVITE_PATTERN.test(inviteCode) ? await prisma.account.findUnique({ where: { inviteCode }, select: { id: true } }) : null;
  if (!inviter) throw new AppError('INVITE_CODE_UNKNOWN', 'No account has this invite code', { field: 'inviteCode' });
  return inviter;
}

export async function recordReferral(tx: Transaction, input: { inviteeId: string; inviteCode: string; welcomeBonus?: number }): Promise<Referral> {
  const inviter = await findInviter(tx, input.inviteCode);
  if (inviter.id === input.inviteeId) throw new AppError('SELF_REFERRAL', 'An account cannot use its own invite code', { field: 'inviteCode' });

  const existing = await tx.referral.findUnique({ where: { inviteeId: input.inviteeId } });
  if (existing) throw new AppError('REFERRAL_ALREADY_RECORDED', 'The account already has an inviter');

  let referral: Referral;
  try {
    referral = await tx.referral.create({ data: { inviterId: inviter.id, inviteeId: input.inviteeId } });
  } catch (error) {
    if (isUniqueViolation(error, 'referrals_invitee_id_key')) throw new AppError('REFERRAL_ALREADY_RECORDED', 'The account already has an inviter');
    throw error;
  }

  if (input.welcomeBonus && input.welcomeBonus > 0) {
    await creditWallet(tx, {
      accountId: input.inviteeId,
      kind: 'bonus',
      balance: 0,
      bonus: input.welcomeBonus,
      idempotencyKey: `referral:${referral.id}:welcome`,
      reference: `referral:${referral.id}`,
    });
  }
  return referral;
}

/**
 * Rewards the inviter of `inviteeId`, if any and not yet rewarded. Call it in
 * the transaction of every paid recharge or redemption: the conditional UPDATE
 * lets exactly one of them pay the reward.
 */
export async function rewardInviter(tx: Transaction, input: { inviteeId: string; reward: number }): Promise<boolean> {
  const claimed = await tx.$queryRaw<Array<{ id: string; inviter_id: string }>>`
    UPDATE referrals SET rewarded_at = now()
    WHERE invitee_id = ${input.inviteeId}::uuid AND rewarded_at IS NULL
    RETURNING id, inviter_id`;
  const referral = claimed[0];
  if (!referral) return false;
  if (input.reward <= 0) return true;

  const change = await creditWallet(tx, {
    accountId: referral.inviter_id,
    kind: 'referral_reward',
    balance: 0,
    bonus: input.reward,
    idempotencyKey: `referral:${referral.id}:reward`,
    reference: `referral:${referral.id}`,
  });
  await tx.referral.update({ where: { id: referral.id }, data: { rewardLedgerEntryId: change.ledgerEntryId } });
  return true;
}

/** The account's invite code and link, its inviter, and how its invitations went. */
export async function referralSummary(prisma: PrismaClient, accountId: string, publicUrl: string) {
  const inviteCode = await ensureInviteCode(prisma, accountId);
  const [invited, rewarded, rewards, referral] = await Promise.all([
    prisma.referral.count({ where: { inviterId: accountId } }),
    prisma.referral.count({ where: { inviterId: accountId, rewardedAt: { not: null } } }),
    prisma.ledgerEntry.aggregate({ where: { accountId, kind: 'referral_reward' }, _sum: { bonusDelta: true, balanceDelta: true } }),
    prisma.referral.findUnique({ where: { inviteeId: accountId }, select: { createdAt: true } }),
  ]);

  return {
    inviteCode,
    inviteLink: inviteLink(publicUrl, inviteCode),
    invitedBy: referral ? { since: referral.createdAt.toISOString() } : null,
    stats: {
      invited,
      rewarded,
      pending: invited - rewarded,
      rewardCredits: (rewards._sum.bonusDelta ?? 0) + (rewards._sum.balanceDelta ?? 0),
    },
  };
}
