import type { RequestHandler } from 'express';
import { authenticateApiKey, type ApiKeyPrincipal, type ApiKeyScope } from '../../lib/api-keys';
import { AppError } from '../../lib/errors';
import { consumeRateLimit, rateLimitedError, setRateLimitHeaders } from '../../lib/rate-limit';
import type { PrismaClient } from '../../prisma/generated/client';

/** The identity a request acts for: an API key on `/v1`, or a signed-in user (with every scope and no key) on `/api`. */
export type Principal =
  | ApiKeyPrincipal
  | {
      accountId: string;
      scopes: string[];
      apiKeyId?: undefined;
      keyPrefix?: undefined;
      requestsPerMinute?: undefined;
      creditsPerDay?: undefined;
    };

declare module 'express-serve-static-core' {
  interface Request {
    principal?: Principal;
  }
}

const MINUTE_MS = 60_000;

/**
 * Authenticates `Authorization: Bearer <key>`; any malformed header or key is a
 * 401, never a 500. A key with a requests-per-minute quota gets the standard
 * rate-limit headers on every response and a 429 when the quota is used up.
 */
export function requireApiKey(prisma: PrismaClient): RequestHandler {
  return async (request, response, next) => {
    const header = request.headers.authorization;
    const match = typeof header === 'string' ? /^Bearer\s+(\S{1,512})\s*$/i.exec(header) : null;
    if (!match) throw new AppError('UNAUTHENTICATED', 'Send the API key as "Authorization: Bearer <key>"');

    const principal = await authenticateApiKey(prisma, match[1]!);
    request.principal = principal;

    if (principal.requestsPerMinute !== null) {
      const state = await consumeRateLimit(prisma, `api-key:${principal.apiKeyId}:minute`, { limit: principal.requestsPerMinute, windowMs: MINUTE_MS });
      setRateLimitHeaders(response, state);
      if (state.exceeded) throw rateLimitedError(state, `The API key allows ${principal.requestsPerMinute} requests per minute`);
    }
    next();
  };
}

/** Rejects with 403 unless the authenticated key carries `scope`. */
export function requireScope(scope: ApiKeyScope): RequestHandler {
  return (request, _response, next) => {
    if (!request.principal?.scopes.includes(scope)) {
      throw new AppError('FORBIDDEN', `The API key lacks the "${scope}" scope`, { scope });
    }
    next();
  };
}
