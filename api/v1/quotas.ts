import type { RequestHandler } from 'express';
import type { ProviderRegistry } from '../../activities/providers/registry';
import { resolveSize } from '../../activities/providers/sizes';
import { AppError } from '../../lib/errors';
import { createTaskSchema } from '../../lib/tasks';
import type { PrismaClient } from '../../prisma/generated/client';

/**
 * Enforces an API key's credits-per-day quota on task creation: the price of
 * the new task plus what the key's tasks cost since midnight UTC must fit.
 * Tasks that failed, were canceled or expired were refunded and do not count.
 * NOTE: two concurrent requests can both fit and together exceed the quota by one task.
 */
export function creditsPerDayQuota(prisma: PrismaClient, providers: ProviderRegistry): RequestHandler {
  return async (request, response, next) => {
    const principal = request.principal;
    if (!principal?.apiKeyId || principal.creditsPerDay === null || principal.creditsPerDay === undefined) {
      next();
      return;
    }

    const price = priceOf(providers, request.body);
    const dayStart = new Date();
    dayStart.setUTCHours(0, 0, 0, 0);
    const spent = await prisma.task.aggregate({
      _sum: { price: true },
      where: { apiKeyId: principal.apiKeyId, createdAt: { gte: dayStart }, status: { notIn: ['failed', 'canceled', 'expired'] } },
    });
    const used = spent._sum.price ?? 0;
    const resetSeconds = Math.ceil((dayStart.getTime() + 86_400_000 - Date.now()) / 1000);

    response.setHeader('X-Credits-Per-Day-Limit', String(principal.creditsPerDay));
    response.setHeader('X-Credits-Per-Day-Remaining', String(Math.max(0, principal.creditsPerDay - used)));
    if (price !== undefined && used + price > principal.creditsPerDay) {
      response.setHeader('Retry-After', String(resetSeconds));
      throw new AppError('QUOTA_EXCEEDED', `The API key allows ${principal.creditsPerDay} credits per day`, {
        creditsPerDay: principal.creditsPerDay,
        used,
        price,
        retryAfterSeconds: resetSeconds,
      });
    }
    next();
  };
}

// An invalid body is left to the task service, which reports it in detail.
function priceOf(providers: ProviderRegistry, body: unknown): number | undefined {
  const parsed = createTaskSchema.safeParse(body);
  if (!parsed.success) return undefined;
  try {
    return providers.unitPrice(parsed.data.model, resolveSize({ size: parsed.data.size, aspectRatio: parsed.data.aspectRatio })) * parsed.data.imageCount;
  } catch {
    return undefined;
  }
}
