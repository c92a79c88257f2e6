import { createHash } from 'node:crypto';
import type { Account, Locale, PrismaClient } from '../../prisma/generated/client';
import { createAccount, hashPassword } from '../accounts';
import { writeAudit } from '../audit';
import { findInviter, recordReferral } from '../referrals';
import type { Config } from '../config';
import { AppError } from '../errors';
import type { Logger } from '../logger';
import type { MailLocale, MailRequest, Mailer } from '../mail';
import { clearRateLimit, consumeRateLimit, peekRateLimit, rateLimitedError, type RateLimitRule } from '../rate-limit';
import { checkPasswordStrength, verifyPassword } from './passwords';
import { endAccountSessions } from './session-store';
import { EMAIL_TOKEN_TTL_MS, consumeEmailToken, issueEmailToken } from './tokens';

export type AuthConfig = Pick<
  Config,
  'publicUrl' | 'AUTH_WINDOW' | 'AUTH_MAX_REQUESTS_PER_IP' | 'AUTH_MAX_REQUESTS_PER_EMAIL' | 'SIGN_IN_MAX_FAILURES' | 'REFERRAL_WELCOME_BONUS'
>;

export interface AuthDependencies {
  prisma: PrismaClient;
  mailer: Mailer;
  config: AuthConfig;
  logger: Logger;
}

export type LocaleTag = 'en' | 'zh-CN' | 'ja';

export interface SignUpInput {
  email: string;
  password: string;
  displayName?: string | undefined;
  locale?: LocaleTag | undefined;
  /** Invite code of the inviting account; checked before the response, recorded with the new account. */
  inviteCode?: string | undefined;
}

type AuthAction = 'sign-up' | 'sign-in' | 'reset' | 'verify';

export function toLocaleTag(locale: Locale): LocaleTag {
  return locale === 'zh_CN' ? 'zh-CN' : locale;
}

export function toLocaleColumn(tag: LocaleTag): Locale {
  return tag === 'zh-CN' ? 'zh_CN' : tag;
}

/**
 * Sign-up, e-mail verification, sign-in checks, password change and reset.
 *
 * Responses do not reveal whether an e-mail address has an account. Sign-up
 * and reset respond as soon as the input is valid and do the per-account work
 * in the background, and sign-in spends one argon2 verification either way.
 */
export function createAuthService(deps: AuthDependencies) {
  const { prisma, mailer, config, logger } = deps;
  const ipRule: RateLimitRule = { limit: config.AUTH_MAX_REQUESTS_PER_IP, windowMs: config.AUTH_WINDOW };
  const emailRule: RateLimitRule = { limit: config.AUTH_MAX_REQUESTS_PER_EMAIL, windowMs: config.AUTH_WINDOW };
  const failureRule: RateLimitRule = { limit: config.SIGN_IN_MAX_FAILURES, windowMs: config.AUTH_WINDOW };

  async function limit(key: string, rule: RateLimitRule): Promise<void> {
    const state = await consumeRateLimit(prisma, key, rule);
    if (state.exceeded) throw rateLimitedError(state);
  }

  async function limitRequest(action: AuthAction, ip: string, email?: string): Promise<void> {
    await limit(`auth:${action}:ip:${ip}`, ipRule);
    if (email !== undefined) await limit(`auth:${action}:email:${emailKey(email)}`, emailRule);
  }

  /** Runs per-account work after the response was sent. Failures are logged and not shown to the client. */
  function inBackground(what: string, work: () => Promise<void>): void {
    void work().catch((error: unknown) => logger.error({ err: error, what }, 'background account work failed'));
  }

  function link(pathname: string, token?: string): string {
    return `${config.publicUrl}${pathname}${token ? `#token=${token}` : ''}`;
  }

  async function sendMail(account: Pick<Account, 'email' | 'displayName' | 'locale'>, request: Omit<MailRequest, 'to' | 'locale'>): Promise<void> {
    await mailer.send({
      to: account.email,
      locale: toLocaleTag(account.locale) as MailLocale,
      ...request,
      params: { name: account.displayName ?? account.email, ...request.params },
    });
  }

  async function sendVerification(account: Account): Promise<void> {
    const token = await issueEmailToken(prisma, account.id, 'verify_email');
    await sendMail(account, {
      template: 'verifyEmail',
      params: { link: link('/verify-email', token), hours: EMAIL_TOKEN_TTL_MS.verify_email / 3_600_000 },
    });
  }

  return {
    /** Registers an account and mails a verification link; an existing address gets a notice instead. */
    async signUp(input: SignUpInput, ip: string): Promise<void> {
      const email = normalizeEmail(input.email);
      await limitRequest('sign-up', ip, email);
      checkPasswordStrength(input.password, email);
      // Invite codes are public, so checking one up front reveals nothing about accounts.
      if (input.inviteCode !== undefined) await findInviter(prisma, input.inviteCode);

      inBackground('sign-up', async () => {
        const existing = await prisma.account.findUnique({ where: { email } });
        if (existing) {
          await hashPassword(input.password);
          if (!existing.anonymizedAt) await sendMail(existing, { template: 'accountExists', params: { link: link('/sign-in') } });
          return;
        }

        const account = await createAccount(prisma, {
          email,
          password: input.password,
          ...(input.displayName ? { displayName: input.displayName } : {}),
        });
        const withLocale = input.locale
          ? await prisma.account.update({ where: { id: account.id }, data: { locale: toLocaleColumn(input.locale) } })
          : account;
        if (input.inviteCode !== undefined) {
          const inviteCode = input.inviteCode;
          await prisma.$transaction((tx) => recordReferral(tx, { inviteeId: account.id, inviteCode, welcomeBonus: config.REFERRAL_WELCOME_BONUS }));
        }
        await sendVerification(withLocale);
      });
    },

    /** Sends a new verification link to an unverified account; silent for anything else. */
    async resendVerification(emailInput: string, ip: string): Promise<void> {
      const email = normalizeEmail(emailInput);
      await limitRequest('verify', ip, email);

      inBackground('resend-verification', async () => {
        const account = await prisma.account.findUnique({ where: { email } });
        if (account && !account.emailVerifiedAt && !account.anonymizedAt) await sendVerification(account);
      });
    },

    /** Confirms an address with the token of its link. */
    async verifyEmail(token: string, ip: string): Promise<void> {
      await limitRequest('verify', ip);
      await prisma.$transaction(async (tx) => {
        const accountId = await consumeEmailToken(tx, token, 'verify_email');
        await tx.account.update({ where: { id: accountId }, data: { emailVerifiedAt: new Date() } });
      });
    },

    /**
     * Checks credentials for sign-in. After SIGN_IN_MAX_FAILURES wrong
     * passwords for one address within the window, every attempt for it is
     * rejected with 429 until the window ends, known address or not.
     */
    async checkCredentials(emailInput: string, password: string, ip: string): Promise<Account> {
      const email = normalizeEmail(emailInput);
      await limitRequest('sign-in', ip);
      const failuresKey = `auth:sign-in-failures:${emailKey(email)}`;
      const failures = await peekRateLimit(prisma, failuresKey, failureRule);
      if (failures.exceeded) throw rateLimitedError(failures, 'Too many failed sign-ins. Try again after Retry-After seconds');

      const account = await prisma.account.findUnique({ where: { email } });
      const matches = await verifyPassword(account?.anonymizedAt ? null : account?.passwordHash, password);
      if (!account || !matches) {
        const counted = await consumeRateLimit(prisma, failuresKey, failureRule);
        if (counted.count >= failureRule.limit) throw rateLimitedError(counted, 'Too many failed sign-ins. Try again after Retry-After seconds');
        throw new AppError('INVALID_CREDENTIALS', 'The e-mail address or password is wrong');
      }

      await clearRateLimit(prisma, failuresKey);
      if (account.bannedAt) {
        const openAppeal = await prisma.appeal.findFirst({ where: { accountId: account.id, status: 'open' } });
        throw new AppError('ACCOUNT_BANNED', 'The account is banned', { reason: account.banReason ?? '', appealOpen: openAppeal !== null });
      }
      if (!account.emailVerifiedAt) throw new AppError('EMAIL_NOT_VERIFIED', 'Confirm the e-mail address first');
      return account;
    },

    /** Records a completed sign-in. */
    async recordSignIn(accountId: string): Promise<Account> {
      return prisma.account.update({ where: { id: accountId }, data: { lastSignInAt: new Date(), failedSignInCount: 0 } });
    },

    /** Mails a reset link when the address has an account. The response is the same either way. */
    async requestPasswordReset(emailInput: string, ip: string): Promise<void> {
      const email = normalizeEmail(emailInput);
      await limitRequest('reset', ip, email);

      inBackground('password-reset', async () => {
        const account = await prisma.account.findUnique({ where: { email } });
        if (!account || account.anonymizedAt) return;
        const token = await issueEmailToken(prisma, account.id, 'reset_password');
        await sendMail(account, {
          template: 'resetPassword',
          params: { link: link('/reset-password', token), minutes: EMAIL_TOKEN_TTL_MS.reset_password / 60_000 },
        });
      });
    },

    /** Sets a new password with a reset token and ends every session of the account. */
    async resetPassword(token: string, password: string, ip: string): Promise<void> {
      await limitRequest('reset', ip);
      const passwordHash = await hashPassword(password);
      await prisma.$transaction(async (tx) => {
        const accountId = await consumeEmailToken(tx, token, 'reset_password');
        const account = await tx.account.findUniqueOrThrow({ where: { id: accountId } });
        checkPasswordStrength(password, account.email);

        // The link arrived by e-mail, so following it also proves the address.
        await tx.account.update({ where: { id: accountId }, data: { passwordHash, emailVerifiedAt: account.emailVerifiedAt ?? new Date() } });
        await endAccountSessions(tx, accountId);
        await writeAudit(tx, { actorId: accountId, action: 'account.password_reset', targetAccountId: accountId });
      });
    },

    /** Changes the password after checking the current one; other sessions end, `keepSid` stays. */
    async changePassword(accountId: string, currentPassword: string, newPassword: string, keepSid: string): Promise<void> {
      const account = await prisma.account.findUniqueOrThrow({ where: { id: accountId } });
      if (!(await verifyPassword(account.passwordHash, currentPassword))) {
        throw new AppError('INVALID_CREDENTIALS', 'The current password is wrong', { field: 'currentPassword' });
      }
      checkPasswordStrength(newPassword, account.email);

      const passwordHash = await hashPassword(newPassword);
      await prisma.$transaction(async (tx) => {
        await tx.account.update({ where: { id: accountId }, data: { passwordHash } });
        await endAccountSessions(tx, accountId, keepSid);
        await writeAudit(tx, { actorId: accountId, action: 'account.password_changed', targetAccountId: accountId });
      });
    },
  };
}

export type AuthService = ReturnType<typeof createAuthService>;

export function normalizeEmail(email: string): string {
  return email.trim().toLowerCase();
}

// Buckets are keyed by a hash, so the table contains no e-mail addresses.
function emailKey(email: string): string {
  return createHash('sha256').update(email).digest('base64url').slice(0, 32);
}
