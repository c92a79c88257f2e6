import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { PrismaClient } from '../prisma/generated/client';
import { AppError } from './errors';

/**
 * API keys look like `nva_<prefix>_<secret>`: the prefix (public, indexed)
 * finds the row and the secret is compared by its SHA-256 hash in constant
 * time. A key carries 256 bits of randomness, so a fast hash is enough and no
 * password hash is needed on every request.
 */

export const API_KEY_SCOPES = ['tasks:read', 'tasks:write', 'assets:read', 'wallet:read', 'messages:read'] as const;
export type ApiKeyScope = (typeof API_KEY_SCOPES)[number];

const LAST_USED_RESOLUTION_MS = 60_000;
const KEY_PATTERN = /^nva_([a-z0-9]{12})_([A-Za-z0-9_-]{43})$/;

export interface CreatedApiKey {
  id: string;
  /** The full key: returned once at creation and never stored. */
  key: string;
  prefix: string;
}

export interface ApiKeyPrincipal {
  accountId: string;
  apiKeyId: string;
  keyPrefix: string;
  scopes: string[];
}

export function hashApiKeySecret(secret: string): string {
  return createHash('sha256').update(secret, 'utf8').digest('hex');
}

/** Creates a key for an account and returns the full key once. */
export async function createApiKey(
  prisma: PrismaClient,
  input: { accountId: string; name: string; scopes: readonly ApiKeyScope[]; expiresAt?: Date },
): Promise<CreatedApiKey> {
  const prefix = randomBytes(9).toString('base64url').toLowerCase().replace(/[^a-z0-9]/g, '0').slice(0, 12);
  const secret = randomBytes(32).toString('base64url');
  const row = await prisma.apiKey.create({
    data: {
      accountId: input.accountId,
      name: input.name,
      prefix,
      hash: hashApiKeySecret(secret),
      scopes: [...input.scopes],
      ...(input.expiresAt ? { expiresAt: input.expiresAt } : {}),
    },
  });
  return { id: row.id, key: `nva_${prefix}_${secret}`, prefix };
}

/**
 * Resolves a presented key to its account. Every malformed, unknown, revoked or
 * expired key yields the same UNAUTHENTICATED error; a banned owner yields
 * ACCOUNT_BANNED with the reason.
 */
export async function authenticateApiKey(prisma: PrismaClient, presented: string): Promise<ApiKeyPrincipal> {
  const unauthenticated = () => new AppError('UNAUTHENTICATED', 'The API key is missing, invalid, revoked or expired');

  const match = KEY_PATTERN.exec(presented);
  if (!match) throw unauthenticated();
  const [, prefix, secret] = match as unknown as [string, string, string];

  const row = await prisma.apiKey.findUnique({ where: { prefix }, include: { account: true } });
  const expected = Buffer.from(row?.hash ?? '0'.repeat(64), 'hex');
  const actual = Buffer.from(hashApiKeySecret(secret), 'hex');
  const matches = timingSafeEqual(expected, actual);
  if (!row || !matches || row.revokedAt || (row.expiresAt && row.expiresAt <= new Date())) throw unauthenticated();

  if (row.account.bannedAt) {
    throw new AppError('ACCOUNT_BANNED', 'The account is banned', { reason: row.account.banReason ?? '' });
  }

  // Recording use is best effort, at most once a minute per key, and must not slow the request down.
  if (!row.lastUsedAt || Date.now() - row.lastUsedAt.getTime() > LAST_USED_RESOLUTION_MS) {
    void prisma.apiKey.update({ where: { id: row.id }, data: { lastUsedAt: new Date() } }).catch(() => undefined);
  }
  return { accountId: row.accountId, apiKeyId: row.id, keyPrefix: prefix, scopes: row.scopes };
}
