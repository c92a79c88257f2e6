import { createHash, randomInt } from 'node:crypto';
import { stringify } from 'csv-stringify/sync';
import type { PrismaClient, RedemptionBatch } from '../prisma/generated/client';
import { writeAudit } from './audit';
import type { Config } from './config';
import { AppError } from './errors';
import { consumeRateLimit, peekRateLimit, rateLimitedError, type RateLimitRule } from './rate-limit';
import { rewardInviter } from './referrals';
import { creditWallet, type LedgerChange } from './wallet';

/**
 * Redemption codes: generated in batches by an admin, shown once, stored only
 * as a hash, and redeemed at most once by one account.
 *
 * A code is 20 characters in four groups of five (`XXXXX-XXXXX-XXXXX-XXXXX`):
 * 19 random characters (about 94 bits) and one check character, so that most
 * typing mistakes read as malformed instead of unknown. The alphabet leaves out
 * 0/O and 1/I/L, which people confuse.
 */

export const CODE_ALPHABET = '23456789ABCDEFGHJKMNPQRSTUVWXYZ';
const RANDOM_LENGTH = 19;
const GROUP_SIZE = 5;
const MAX_BATCH_SIZE = 100_000;

/** Generates one code with its check character, grouped for typing. */
export function generateCode(): string {
  let body = '';
  for (let index = 0; index < RANDOM_LENGTH; index += 1) body += CODE_ALPHABET[randomInt(CODE_ALPHABET.length)];

  const full = body + checkCharacter(body);
  return full.match(new RegExp(`.{${GROUP_SIZE}}`, 'g'))!.join('-');
}

/**
 * Returns the canonical form of typed input (upper case, no spaces or dashes),
 * or undefined when it cannot be a code: wrong length, a character outside the
 * alphabet, or a failed check character.
 */
export function normalizeCode(input: string): string | undefined {
  const compact = input.toUpperCase().replace(/[\s-]+/g, '');
  if (compact.length !== RANDOM_LENGTH + 1) return undefined;
  if ([...compact].some((character) => !CODE_ALPHABET.includes(character))) return undefined;
  if (checkCharacter(compact.slice(0, RANDOM_LENGTH)) !== compact[RANDOM_LENGTH]) return undefined;

  return compact;
}

/**
 * SHA-256 of the canonical code. Plain SHA-256 suffices because a code carries
 * about 94 random bits, and it keeps codes valid whatever happens to server secrets.
 */
export function hashCode(canonical: string): string {
  return createHash('sha256').update(canonical).digest('hex');
}

// Weighted sum modulo the alphabet size: catches any single wrong character and most swaps of neighbours.
function checkCharacter(body: string): string {
  let sum = 0;
  for (let index = 0; index < body.length; index += 1) sum += (index + 1) * CODE_ALPHABET.indexOf(body[index]!);
  return CODE_ALPHABET[sum % CODE_ALPHABET.length]!;
}

export interface BatchInput {
  faceValue: number;
  bonus: number;
  count: number;
  label: string;
  channel?: string;
  expiresAt?: Date;
  /** The admin account that generated the batch; null for the operator's command line. */
  createdById: string | null;
}

/** Creates a batch and its codes. The plain codes exist only in the returned list. */
export async function createRedemptionBatch(prisma: PrismaClient, input: BatchInput): Promise<{ batch: RedemptionBatch; codes: string[] }> {
  checkBatchInput(input);
  const codes = Array.from({ length: input.count }, generateCode);

  const batch = await prisma.$transaction(async (tx) => {
    const created = await tx.redemptionBatch.create({
      data: {
        label: input.label,
        channel: input.channel ?? null,
        faceValue: input.faceValue,
        bonus: input.bonus,
        expiresAt: input.expiresAt ?? null,
        count: input.count,
        createdById: input.createdById,
      },
    });
    await tx.redemptionCode.createMany({ data: codes.map((code) => ({ batchId: created.id, codeHash: hashCode(normalizeCode(code)!) })) });
    await writeAudit(tx, {
      actorId: input.createdById,
      action: 'redemption.batch_created',
      metadata: { batchId: created.id, count: input.count, faceValue: input.faceValue, bonus: input.bonus, label: input.label },
    });
    return created;
  });

  return { batch, codes };
}

/** The CSV handed to the admin once, at creation: one row per code. */
export function batchCsv(batch: RedemptionBatch, codes: string[]): string {
  return stringify(
    codes.map((code) => [code, batch.faceValue, batch.bonus, batch.expiresAt?.toISOString() ?? '', batch.label, batch.channel ?? '', batch.id]),
    { header: true, columns: ['code', 'face_value', 'bonus', 'expires_at', 'label', 'channel', 'batch_id'] },
  );
}

function checkBatchInput(input: BatchInput): void {
  const problems: string[] = [];
  if (!Number.isInteger(input.faceValue) || input.faceValue < 0) problems.push('faceValue must be a non-negative whole number');
  if (!Number.isInteger(input.bonus) || input.bonus < 0) problems.push('bonus must be a non-negative whole number');
  if (input.faceValue + input.bonus <= 0) problems.push('a code must be worth at least one credit');
  if (!Number.isInteger(input.count) || input.count < 1 || input.count > MAX_BATCH_SIZE) problems.push(`count must be 1 to ${MAX_BATCH_SIZE}`);
  if (input.label.trim() === '') problems.push('label is required');
  if (input.expiresAt && input.expiresAt <= new Date()) problems.push('expiresAt must be in the future');
  if (problems.length > 0) throw new AppError('VALIDATION_FAILED', problems.join('; '), { problems });
}

export interface RedeemInput {
  accountId: string;
  code: string;
  /** Client address, for the per-IP limit of wrong guesses. */
  ip?: string;
}

export interface RedemptionSettings {
  failureLimit: RateLimitRule;
  inviterReward: number;
}

export function redemptionSettings(config: Pick<Config, 'REDEMPTION_MAX_FAILURES' | 'REDEMPTION_FAILURE_WINDOW' | 'REFERRAL_INVITER_REWARD'>): RedemptionSettings {
  return {
    failureLimit: { limit: config.REDEMPTION_MAX_FAILURES, windowMs: config.REDEMPTION_FAILURE_WINDOW },
    inviterReward: config.REFERRAL_INVITER_REWARD,
  };
}

/**
 * Redeems a code for an account. The claim is one conditional UPDATE, so of
 * any number of concurrent attempts exactly one sees the row unredeemed; the
 * credit (and the inviter's reward on a first paid redemption) commit with it.
 * Malformed and unknown codes count as wrong guesses per account and per IP.
 */
export async function redeemCode(prisma: PrismaClient, input: RedeemInput, settings: RedemptionSettings): Promise<{ change: LedgerChange; batch: RedemptionBatch }> {
  const limitKeys = [`redeem-failures:account:${input.accountId}`, ...(input.ip ? [`redeem-failures:ip:${input.ip}`] : [])];
  for (const key of limitKeys) {
    const state = await peekRateLimit(prisma, key, settings.failureLimit);
    if (state.exceeded) throw rateLimitedError(state, 'Too many wrong redemption codes; try again later');
  }

  const canonical = normalizeCode(input.code);
  if (!canonical) {
    await countWrongGuess(prisma, limitKeys, settings.failureLimit);
    throw new AppError('REDEMPTION_CODE_MALFORMED', 'A redemption code has 20 characters in four groups of five, for example ABCDE-FGHJK-MNPQR-STUVW');
  }
  const codeHash = hashCode(canonical);

  const outcome = await prisma.$transaction(async (tx) => {
    const claimed = await tx.$queryRaw<Array<{ id: string; batch_id: string }>>`
      UPDATE redemption_codes AS code SET redeemed_by_id = ${input.accountId}::uuid, redeemed_at = now()
      FROM redemption_batches AS batch
      WHERE code.code_hash = ${codeHash} AND code.batch_id = batch.id
        AND code.redeemed_at IS NULL AND (batch.expires_at IS NULL OR batch.expires_at > now())
      RETURNING code.id, code.batch_id`;
    const row = claimed[0];
    if (!row) return { claimed: false as const };

    const batch = await tx.redemptionBatch.findUniqueOrThrow({ where: { id: row.batch_id } });
    const change = await creditWallet(tx, {
      accountId: input.accountId,
      kind: 'redemption',
      balance: batch.faceValue,
      bonus: batch.bonus,
      idempotencyKey: `redemption:${row.id}`,
      reference: `redemption-code:${row.id}`,
    });
    // Only paid credit counts as the invitee's first payment, so a bonus-only code does not.
    if (batch.faceValue > 0) await rewardInviter(tx, { inviteeId: input.accountId, reward: settings.inviterReward });
    return { claimed: true as const, change, batch };
  });
  if (outcome.claimed) return { change: outcome.change, batch: outcome.batch };

  throw await explainRefusal(prisma, codeHash, limitKeys, settings.failureLimit);
}

async function explainRefusal(prisma: PrismaClient, codeHash: string, limitKeys: string[], rule: RateLimitRule): Promise<AppError> {
  const code = await prisma.redemptionCode.findUnique({ where: { codeHash }, include: { batch: true } });
  if (!code) {
    await countWrongGuess(prisma, limitKeys, rule);
    return new AppError('REDEMPTION_CODE_UNKNOWN', 'No such redemption code');
  }
  if (code.redeemedAt) return new AppError('REDEMPTION_CODE_ALREADY_REDEEMED', 'The redemption code has already been redeemed');
  return new AppError('REDEMPTION_CODE_EXPIRED', 'The redemption code has expired', { expiredAt: code.batch.expiresAt?.toISOString() ?? null });
}

async function countWrongGuess(prisma: PrismaClient, keys: string[], rule: RateLimitRule): Promise<void> {
  for (const key of keys) await consumeRateLimit(prisma, key, rule);
}
