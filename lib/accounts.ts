import { hash } from '@node-rs/argon2';
import type { Account, PrismaClient } from '../prisma/generated/client';
import { AppError } from './errors';
import { isUniqueViolation } from './db/transactions';
import { generateWebhookSecret } from './webhooks/signing';

export type AccountRole = 'user' | 'admin';

/** Hashes a password with argon2id (the library's default algorithm) and its default cost. */
export async function hashPassword(password: string): Promise<string> {
  return hash(password);
}

/** Creates an account with an empty wallet and a webhook secret; the e-mail is stored lower-cased. */
export async function createAccount(
  prisma: PrismaClient,
  input: { email: string; password?: string; role?: AccountRole; displayName?: string; emailVerified?: boolean },
): Promise<Account> {
  const email = input.email.trim().toLowerCase();
  const passwordHash = input.password === undefined ? null : await hashPassword(input.password);

  try {
    return await prisma.account.create({
      data: {
        email,
        passwordHash,
        role: input.role ?? 'user',
        displayName: input.displayName ?? null,
        webhookSecret: generateWebhookSecret(),
        emailVerifiedAt: input.emailVerified ? new Date() : null,
        wallet: { create: {} },
      },
    });
  } catch (error) {
    if (isUniqueViolation(error)) throw new AppError('CONFLICT', 'An account with this e-mail already exists');
    throw error;
  }
}
