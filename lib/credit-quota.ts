import type { Prisma, PrismaClient } from '../prisma/generated/client';
import { AppError } from './errors';

/**
 * The credits-per-day quota of an API key: the prices of the key's tasks
 * created since midnight UTC. Failed and canceled tasks were refunded and do
 * not count; expired tasks succeeded and were paid for, so they do.
 */

/** Returns the start of the UTC day of `now`, when quotas reset. */
export function quotaDayStart(now = new Date()): Date {
  const dayStart = new Date(now);
  dayStart.setUTCHours(0, 0, 0, 0);
  return dayStart;
}

/** Sums the prices of the key's counted tasks created since `dayStart`. */
export async function creditsUsedToday(client: PrismaClient | Prisma.TransactionClient, apiKeyId: string, dayStart = quotaDayStart()): Promise<number> {
  const spent = await client.task.aggregate({
    _sum: { price: true },
    where: { apiKeyId, createdAt: { gte: dayStart }, status: { notIn: ['failed', 'canceled'] } },
  });
  return spent._sum.price ?? 0;
}

/** Builds the 429 for a task whose price does not fit; the error handler turns `retryAfterSeconds` into `Retry-After`. */
export function quotaExceededError(input: { creditsPerDay: number; used: number; price: number; dayStart?: Date }): AppError {
  const dayStart = input.dayStart ?? quotaDayStart();
  const retryAfterSeconds = Math.ceil((dayStart.getTime() + 86_400_000 - Date.now()) / 1000);
  return new AppError('QUOTA_EXCEEDED', `The API key allows ${input.creditsPerDay} credits per day`, {
    creditsPerDay: input.creditsPerDay,
    used: input.used,
    price: input.price,
    retryAfterSeconds,
  });
}
