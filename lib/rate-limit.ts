import type { Response } from 'express';
import type { Prisma, PrismaClient } from '../prisma/generated/client';
import { AppError } from './errors';

/**
 * Fixed-window counters in the `rate_limit_buckets` table, so that every API
 * process shares them. One statement increments the counter or starts a new
 * window, which keeps concurrent requests exact without a lock.
 */

export interface RateLimitRule {
  limit: number;
  windowMs: number;
}

export interface RateLimitState {
  limit: number;
  /** Requests counted in the current window, this one included. */
  count: number;
  remaining: number;
  resetAt: Date;
  exceeded: boolean;
}

type Db = PrismaClient | Prisma.TransactionClient;

/** Counts `cost` against the bucket `key` and returns its state; the caller decides what an excess means. */
export async function consumeRateLimit(prisma: Db, key: string, rule: RateLimitRule, cost = 1): Promise<RateLimitState> {
  const rows = await prisma.$queryRaw<Array<{ count: number; reset_at: Date }>>`
    INSERT INTO rate_limit_buckets (key, count, reset_at)
    VALUES (${key}, ${cost}, now() + ${rule.windowMs} * interval '1 millisecond')
    ON CONFLICT (key) DO UPDATE SET
      count = CASE WHEN rate_limit_buckets.reset_at <= now() THEN ${cost} ELSE rate_limit_buckets.count + ${cost} END,
      reset_at = CASE WHEN rate_limit_buckets.reset_at <= now() THEN EXCLUDED.reset_at ELSE rate_limit_buckets.reset_at END
    RETURNING count, reset_at`;
  return toState(rows[0]!.count, rows[0]!.reset_at, rule.limit, true);
}

/** Reads a bucket without counting, for checks such as "is this address locked out". */
export async function peekRateLimit(prisma: Db, key: string, rule: RateLimitRule): Promise<RateLimitState> {
  const bucket = await prisma.rateLimitBucket.findUnique({ where: { key } });
  if (!bucket || bucket.resetAt <= new Date()) return toState(0, new Date(Date.now() + rule.windowMs), rule.limit, false);
  return toState(bucket.count, bucket.resetAt, rule.limit, false);
}

/** Forgets a bucket, for example the failure counter after a successful sign-in. */
export async function clearRateLimit(prisma: Db, key: string): Promise<void> {
  await prisma.rateLimitBucket.deleteMany({ where: { key } });
}

/** Deletes buckets whose window has ended. */
export async function sweepRateLimitBuckets(prisma: Db): Promise<number> {
  const { count } = await prisma.rateLimitBucket.deleteMany({ where: { resetAt: { lte: new Date() } } });
  return count;
}

/** Seconds until the window of `state` ends, at least 1. */
export function retryAfterSeconds(state: RateLimitState): number {
  return Math.max(1, Math.ceil((state.resetAt.getTime() - Date.now()) / 1000));
}

/** Sets the `RateLimit-Limit`, `RateLimit-Remaining` and `RateLimit-Reset` headers (IETF draft, seconds until reset). */
export function setRateLimitHeaders(response: Response, state: RateLimitState): void {
  response.setHeader('RateLimit-Limit', String(state.limit));
  response.setHeader('RateLimit-Remaining', String(state.remaining));
  response.setHeader('RateLimit-Reset', String(retryAfterSeconds(state)));
}

/** The 429 error of an exceeded limit; the error handler turns `retryAfterSeconds` into `Retry-After`. */
export function rateLimitedError(state: RateLimitState, message = 'Too many requests. Try again after Retry-After seconds'): AppError {
  return new AppError('RATE_LIMITED', message, { retryAfterSeconds: retryAfterSeconds(state), limit: state.limit });
}

function toState(count: number, resetAt: Date, limit: number, counted: boolean): RateLimitState {
  // A peek reports whether one more request would pass, and a consume whether this one did.
  const exceeded = counted ? count > limit : count >= limit;
  return { limit, count, remaining: Math.max(0, limit - count), resetAt, exceeded };
}
