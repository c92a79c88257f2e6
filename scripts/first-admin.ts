import { randomBytes } from 'node:crypto';
import { createAccount } from '../lib/accounts';
import type { PrismaClient } from '../prisma/generated/client';

export const FIRST_ADMIN_EMAIL = 'admin@localhost';

/** Creates the first admin with a random password when no admin exists; the password is returned once. */
export async function ensureFirstAdmin(prisma: PrismaClient): Promise<{ email: string; password?: string }> {
  const existing = await prisma.account.findFirst({ where: { role: 'admin' }, orderBy: { createdAt: 'asc' } });
  if (existing) return { email: existing.email };

  const password = randomBytes(12).toString('base64url');
  await createAccount(prisma, { email: FIRST_ADMIN_EMAIL, password, role: 'admin', displayName: 'Admin', emailVerified: true });
  return { email: FIRST_ADMIN_EMAIL, password };
}
