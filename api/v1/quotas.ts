import type { RequestHandler } from 'express';
import type { ProviderRegistry } from '../../activities/providers/registry';
import { resolveSize } from '../../activities/providers/sizes';
import { creditsUsedToday, quotaDayStart, quotaExceededError } from '../../lib/credit-quota';
import { createTaskSchema } from '../../lib/tasks';
import type { PrismaClient } from '../../prisma/generated/client';

/**
 * Checks an API key's credits-per-day quota before a task is created and
 * reports it in `X-Credits-Per-Day-*` headers. This check rejects early; the
 * task service checks again under the wallet lock, where concurrent requests
 * cannot both fit.
 */
export function creditsPerDayQuota(prisma: PrismaClient, providers: ProviderRegistry): RequestHandler {
  return async (request, response, next) => {
    const principal = request.principal;
    if (!principal?.apiKeyId || principal.creditsPerDay === null || principal.creditsPerDay === undefined) {
      next();
      return;
    }

    const price = priceOf(providers, request.body);
    const dayStart = quotaDayStart();
    const used = await creditsUsedToday(prisma, principal.apiKeyId, dayStart);

    response.setHeader('X-Credits-Per-Day-Limit', String(principal.creditsPerDay));
    response.setHeader('X-Credits-Per-Day-Remaining', String(Math.max(0, principal.creditsPerDay - used)));
    if (price !== undefined && used + price > principal.creditsPerDay) {
      throw quotaExceededError({ creditsPerDay: principal.creditsPerDay, used, price, dayStart });
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
