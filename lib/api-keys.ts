import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { ApiKey, PrismaClient } from '../prisma/generated/client';
import { AppError } from './errors';

/**
 * API keys look like `nva_<prefix>_<secret>`: the prefix (public, indexed)
 * finds the row and the secret is compared by its SHA-256 hash in constant
 * time. A key carries 256 bits of randomness, so a fast hash is enough and no
 * password hash is needed on every request.
 */

export const API_KEY_SCOPES = ['tasks:read', 'tasks:write', 'assets:read', 'wallet:read', 'wallet:write', 'messages:read'] as const;
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
  requestsPerMinute: number | null;
  creditsPerDay: number | null;
}

interface KeyWithAccount {
  id: string;
  accountId: string;
  hash: string;
  scopes: string[];
  requestsPerMinute: number | null;
  creditsPerDay: number | null;
  lastUsedAt: Date | null;
  revokedAt: Date | null;
  expiresAt: Date | null;
  bannedAt: Date | null;
  banReason: string | null;
}

export interface ApiKeyInput {
  accountId: string;
  name: string;
  scopes: readonly ApiKeyScope[];
  expiresAt?: Date | undefined;
  requestsPerMinute?: number | undefined;
  creditsPerDay?: number | undefined;
}

export function hashApiKeySecret(secret: string): string {
  return createHash('sha256').update(secret, 'utf8').digest('hex');
}

/** Creates a key for an account and returns the full key once. */
export async function createApiKey(prisma: PrismaClient, input: ApiKeyInput): Promise<CreatedApiKey> {
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
      requestsPerMinute: input.requestsPerMinute ?? null,
      creditsPerDay: input.creditsPerDay ?? null,
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

  // Every /v1 request runs this, so the key and its account's ban come back in one query rather than two.
  const [row] = await prisma.$queryRaw<KeyWithAccount[]>`
    SELECT k.id::text, k.account_id::text AS "accountId", k.hash, k.scopes, k.requests_per_minute AS "requestsPerMinute",
           k.credits_per_day AS "creditsPerDay", k.last_used_at AS "lastUsedAt", k.revoked_at AS "revokedAt", k.expires_at AS "expiresAt",
           a.banned_at AS "bannedAt", a.ban_reason AS "banReason"
    FROM api_keys k JOIN accounts a ON a.id = k.account_id
    WHERE k.prefix = ${prefix}`;
  const expected = Buffer.from(row?.hash ?? '0'.repeat(64), 'hex');
  const actual = Buffer.from(hashApiKeySecret(secret), 'hex');
  const matches = timingSafeEqual(expected, actual);
  if (!row || !matches || row.revokedAt || (row.expiresAt && row.expiresAt <= new Date())) throw unauthenticated();

  if (row.bannedAt) {
    throw new AppError('ACCOUNT_BANNED', 'The account is banned', { reason: row.banReason ?? '' });
  }

  // Recording use is best effort, at most once a minute per key, and must not slow the request down.
  if (!row.lastUsedAt || Date.now() - row.lastUsedAt.getTime() > LAST_USED_RESOLUTION_MS) {
    void prisma.apiKey.update({ where: { id: row.id }, data: { lastUsedAt: new Date() } }).catch(() => undefined);
  }
  return {
    accountId: row.accountId,
    apiKeyId: row.id,
    keyPrefix: prefix,
    scopes: row.scopes,
    requestsPerMinute: row.requestsPerMinute,
    creditsPerDay: row.creditsPerDay,
  };
}

/** The keys of an account, newest first, revoked ones included so the owner sees their history. */
export async function listApiKeys(prisma: PrismaClient, accountId: string): Promise<ApiKey[]> {
  return prisma.apiKey.findMany({ where: { accountId }, orderBy: { createdAt: 'desc' } });
}

/** Revokes a key of the account; authentication reads the row on every request, so it stops working at once. */
export async function revokeApiKey(prisma: PrismaClient, accountId: string, apiKeyId: string): Promise<ApiKey> {
  const { count } = await prisma.apiKey.updateMany({ where: { id: apiKeyId, accountId, revokedAt: null }, data: { revokedAt: new Date() } });
  const row = await prisma.apiKey.findFirst({ where: { id: apiKeyId, accountId } });
  if (!row) throw new AppError('NOT_FOUND', 'API key not found');
  if (count === 0 && !row.revokedAt) throw new AppError('CONFLICT', 'The key changed meanwhile; try again');
  return row;
}

/** The owner's view of a key: everything but the hash. */
export function serializeApiKey(key: ApiKey) {
  return {
    id: key.id,
    name: key.name,
    prefix: key.prefix,
    scopes: key.scopes,
    requestsPerMinute: key.requestsPerMinute,
    creditsPerDay: key.creditsPerDay,
    createdAt: key.createdAt.toISOString(),
    lastUsedAt: key.lastUsedAt?.toISOString() ?? null,
    expiresAt: key.expiresAt?.toISOString() ?? null,
    revokedAt: key.revokedAt?.toISOString() ?? null,
  };
}
