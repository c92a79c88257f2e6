import type { RequestHandler } from 'express';
import { authenticateApiKey, type ApiKeyPrincipal, type ApiKeyScope } from '../../lib/api-keys';
import { AppError } from '../../lib/errors';
import type { PrismaClient } from '../../prisma/generated/client';

declare module 'express-serve-static-core' {
  interface Request {
    principal?: ApiKeyPrincipal;
  }
}

/** Authenticates `Authorization: Bearer <key>`; any malformed header or key is a 401, never a 500. */
export function requireApiKey(prisma: PrismaClient): RequestHandler {
  return async (request, _response, next) => {
    const header = request.headers.authorization;
    const match = typeof header === 'string' ? /^Bearer\s+(\S{1,512})\s*$/i.exec(header) : null;
    if (!match) throw new AppError('UNAUTHENTICATED', 'Send the API key as "Authorization: Bearer <key>"');

    request.principal = await authenticateApiKey(prisma, match[1]!);
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
