import { createHash, randomBytes } from 'node:crypto';
import type { EmailTokenPurpose, Prisma, PrismaClient } from '../../prisma/generated/client';
import { AppError } from '../errors';

/** Lifetimes of e-mailed link tokens. */
export const EMAIL_TOKEN_TTL_MS: Record<EmailTokenPurpose, number> = {
  verify_email: 24 * 3_600_000,
  reset_password: 30 * 60_000,
};

export function hashEmailToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

/**
 * Issues a single-use token for a link and stores only its hash. Older unused
 * tokens of the same purpose stop working, so only the newest e-mail counts.
 */
export async function issueEmailToken(prisma: PrismaClient, accountId: string, purpose: EmailTokenPurpose): Promise<string> {
  const token = randomBytes(32).toString('base64url');
  await prisma.$transaction([
    prisma.emailToken.updateMany({ where: { accountId, purpose, usedAt: null }, data: { usedAt: new Date() } }),
    prisma.emailToken.create({
      data: { accountId, purpose, tokenHash: hashEmailToken(token), expiresAt: new Date(Date.now() + EMAIL_TOKEN_TTL_MS[purpose]) },
    }),
  ]);
  return token;
}

/**
 * Marks a token used and returns its account id. The conditional update makes
 * a token work exactly once, also under concurrent requests.
 */
export async function consumeEmailToken(tx: Prisma.TransactionClient, token: string, purpose: EmailTokenPurpose): Promise<string> {
  const invalid = new AppError('INVALID_TOKEN', 'The link is invalid, already used or expired');
  if (!/^[A-Za-z0-9_-]{43}$/.test(token)) throw invalid;

  const tokenHash = hashEmailToken(token);
  const { count } = await tx.emailToken.updateMany({
    where: { tokenHash, purpose, usedAt: null, expiresAt: { gt: new Date() } },
    data: { usedAt: new Date() },
  });
  if (count !== 1) throw invalid;

  const row = await tx.emailToken.findUniqueOrThrow({ where: { tokenHash } });
  return row.accountId;
}
