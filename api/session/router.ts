import express, { Router, type ErrorRequestHandler, type Request, type RequestHandler } from 'express';
import session from 'express-session';
import { Passport } from 'passport';
import { Strategy as LocalStrategy } from 'passport-local';
import { API_KEY_SCOPES, createApiKey, listApiKeys, revokeApiKey, serializeApiKey } from '../../lib/api-keys';
import { writeAudit } from '../../lib/audit';
import { fileAppeal } from '../../lib/auth/bans';
import { createAuthService, toLocaleColumn, toLocaleTag } from '../../lib/auth/service';
import { PrismaSessionStore } from '../../lib/auth/session-store';
import { rotateWebhookSecret, viewWebhookSecret } from '../../lib/auth/webhook-secret';
import type { Config } from '../../lib/config';
import { AppError } from '../../lib/errors';
import type { Logger } from '../../lib/logger';
import type { Mailer } from '../../lib/mail';
import type { Account, Prisma, PrismaClient } from '../../prisma/generated/client';
import { eventsRouter } from '../events/router';
import { resourceRouter, type V1Dependencies } from '../v1/router';
import { requireSameOrigin } from './csrf';
import { privacyRouter } from './privacy';
import { recordSessionClient, sessionsRouter } from './sessions';
import {
  appealSchema,
  changePasswordSchema,
  createKeySchema,
  emailOnlySchema,
  requestLogQuerySchema,
  resetConfirmSchema,
  signInSchema,
  signUpSchema,
  tokenSchema,
  updateAccountSchema,
} from './schemas';

export const SESSION_COOKIE_NAME = 'nova_art_session';

declare global {
  namespace Express {
    interface User {
      id: string;
    }
  }
}

export interface SessionApiDependencies extends V1Dependencies {
  config: V1Dependencies['config'] &
    Pick<Config, 'publicUrl' | 'EXPORT_RETENTION' | 'SESSION_TTL' | 'AUTH_WINDOW' | 'AUTH_MAX_REQUESTS_PER_IP' | 'AUTH_MAX_REQUESTS_PER_EMAIL' | 'SIGN_IN_MAX_FAILURES' | 'WEBHOOK_SECRET_GRACE' | 'REFERRAL_WELCOME_BONUS'>;
  logger: Logger;
  mailer: Mailer;
  sessionSecret: string;
}

/**
 * Builds the Studio's API at `/api`: sign-up and sign-in, the account, API
 * keys, request logs and the webhook secret, then the same task, upload, asset,
 * wallet and message routes as `/v1`, all authenticated by the session cookie.
 */
export function sessionRouter(deps: SessionApiDependencies): Router {
  const { prisma, config, logger } = deps;
  const auth = createAuthService({ prisma, mailer: deps.mailer, config, logger });
  const router = Router();

  const passport = new Passport();
  passport.use(
    new LocalStrategy({ usernameField: 'email', passwordField: 'password', passReqToCallback: true, session: true }, (request, email, password, done) => {
      auth.checkCredentials(email, password, clientIp(request)).then(
        (account) => done(null, { id: account.id }),
        (error: unknown) => done(error),
      );
    }),
  );
  passport.serializeUser((user, done) => done(null, user.id));
  passport.deserializeUser((id: string, done) => done(null, { id }));

  router.use(requireSameOrigin(config.publicUrl));
  router.use(
    session({
      name: SESSION_COOKIE_NAME,
      secret: deps.sessionSecret,
      store: new PrismaSessionStore(prisma, config.SESSION_TTL),
      resave: false,
      saveUninitialized: false,
      // Every response renews the cookie, so SESSION_TTL counts from the last request.
      rolling: true,
      // `auto`: Secure whenever the request arrived over HTTPS, also behind a trusted proxy.
      cookie: { httpOnly: true, sameSite: 'lax', secure: 'auto', path: '/', maxAge: config.SESSION_TTL },
    }),
  );
  router.use(passport.initialize());
  router.use(passport.session());
  router.use(express.json({ limit: '64kb' }));

  router.get('/auth/session', async (request, response) => {
    const account = request.user ? await prisma.account.findUnique({ where: { id: request.user.id } }) : null;
    response.json({ authenticated: account !== null && !account.bannedAt, account: account && !account.bannedAt ? serializeAccount(account) : null });
  });

  router.post('/auth/sign-up', async (request, response) => {
    await auth.signUp(signUpSchema.parse(request.body), clientIp(request));
    response.status(202).json({ status: 'check_email' });
  });

  router.post('/auth/verify-email', async (request, response) => {
    await auth.verifyEmail(tokenSchema.parse(request.body).token, clientIp(request));
    response.json({ verified: true });
  });

  router.post('/auth/resend-verification', async (request, response) => {
    await auth.resendVerification(emailOnlySchema.parse(request.body).email, clientIp(request));
    response.status(202).json({ status: 'check_email' });
  });

  router.post('/auth/sign-in', (request, response, next) => {
    signInSchema.parse(request.body);
    passport.authenticate('local', (error: unknown, user: Express.User | false) => {
      if (error || !user) {
        next(error ?? new AppError('INVALID_CREDENTIALS', 'The e-mail address or password is wrong'));
        return;
      }
      // passport regenerates the session here, so a cookie planted before sign-in never becomes signed in.
      request.logIn(user, (loginError) => {
        if (loginError) {
          next(loginError);
          return;
        }
        recordSessionClient(request);
        auth.recordSignIn(user.id).then((account) => response.json({ account: serializeAccount(account) }), next);
      });
    })(request, response, next);
  });

  router.post('/auth/sign-out', (request, response, next) => {
    request.session.destroy((error) => {
      if (error) {
        next(error);
        return;
      }
      response.clearCookie(SESSION_COOKIE_NAME, { httpOnly: true, sameSite: 'lax', path: '/' });
      response.status(204).end();
    });
  });

  router.post('/auth/password-reset', async (request, response) => {
    await auth.requestPasswordReset(emailOnlySchema.parse(request.body).email, clientIp(request));
    response.status(202).json({ status: 'check_email' });
  });

  router.post('/auth/password-reset/confirm', async (request, response) => {
    const { token, password } = resetConfirmSchema.parse(request.body);
    await auth.resetPassword(token, password, clientIp(request));
    response.status(204).end();
  });

  // A banned user cannot sign in, so an appeal proves the account with its credentials instead.
  router.post('/appeals', async (request, response) => {
    const { email, password, message } = appealSchema.parse(request.body);
    let accountId: string | undefined;
    try {
      await auth.checkCredentials(email, password, clientIp(request));
    } catch (error) {
      if (!(error instanceof AppError) || error.code !== 'ACCOUNT_BANNED') throw error;
      accountId = (await prisma.account.findUniqueOrThrow({ where: { email: email.trim().toLowerCase() } })).id;
    }
    if (!accountId) throw new AppError('CONFLICT', 'The account is not banned');

    const appeal = await fileAppeal(prisma, accountId, message);
    response.status(201).json({ id: appeal.id, status: appeal.status, createdAt: appeal.createdAt.toISOString() });
  });

  router.use(requireSession(prisma));

  router.get('/account', async (request, response) => {
    response.json(serializeAccount(await prisma.account.findUniqueOrThrow({ where: { id: accountIdOf(request) } })));
  });

  router.patch('/account', async (request, response) => {
    const input = updateAccountSchema.parse(request.body);
    const account = await prisma.account.update({
      where: { id: accountIdOf(request) },
      data: {
        ...(input.displayName !== undefined ? { displayName: input.displayName } : {}),
        ...(input.locale ? { locale: toLocaleColumn(input.locale) } : {}),
      },
    });
    response.json(serializeAccount(account));
  });

  router.post('/account/password', async (request, response) => {
    const { currentPassword, newPassword } = changePasswordSchema.parse(request.body);
    await auth.changePassword(accountIdOf(request), currentPassword, newPassword, request.sessionID);
    response.status(204).end();
  });

  router.get('/keys', async (request, response) => {
    response.json({ data: (await listApiKeys(prisma, accountIdOf(request))).map(serializeApiKey) });
  });

  router.post('/keys', async (request, response) => {
    const input = createKeySchema.parse(request.body);
    const accountId = accountIdOf(request);
    const created = await createApiKey(prisma, {
      accountId,
      name: input.name,
      scopes: input.scopes,
      expiresAt: input.expiresAt ?? undefined,
      requestsPerMinute: input.requestsPerMinute ?? undefined,
      creditsPerDay: input.creditsPerDay ?? undefined,
    });
    await writeAudit(prisma, { actorId: accountId, action: 'api_key.created', targetAccountId: accountId, metadata: { apiKeyId: created.id, prefix: created.prefix } });

    const row = await prisma.apiKey.findUniqueOrThrow({ where: { id: created.id } });
    response.status(201).json({ ...serializeApiKey(row), key: created.key });
  });

  router.delete('/keys/:id', async (request, response) => {
    const accountId = accountIdOf(request);
    const id = String(request.params.id);
    if (!/^[0-9a-f-]{36}$/i.test(id)) throw new AppError('NOT_FOUND', 'API key not found');

    const row = await revokeApiKey(prisma, accountId, id);
    await writeAudit(prisma, { actorId: accountId, action: 'api_key.revoked', targetAccountId: accountId, metadata: { apiKeyId: row.id, prefix: row.prefix } });
    response.json(serializeApiKey(row));
  });

  router.get('/request-logs', async (request, response) => {
    const query = requestLogQuerySchema.parse(request.query);
    const after = query.cursor ? decodeCursor(query.cursor) : undefined;
    const createdAt: Prisma.DateTimeFilter = {
      ...(query.from ? { gte: new Date(query.from) } : {}),
      ...(query.to ? { lt: new Date(query.to) } : {}),
    };
    const where: Prisma.ApiRequestLogWhereInput = {
      AND: [
        { accountId: accountIdOf(request) },
        query.method ? { method: query.method } : {},
        query.status ? { status: query.status } : {},
        query.keyPrefix ? { keyPrefix: query.keyPrefix } : {},
        query.taskId ? { taskId: query.taskId } : {},
        Object.keys(createdAt).length > 0 ? { createdAt } : {},
        after ? { OR: [{ createdAt: { lt: after.createdAt } }, { createdAt: after.createdAt, id: { lt: after.id } }] } : {},
      ],
    };
    const rows = await prisma.apiRequestLog.findMany({ where, orderBy: [{ createdAt: 'desc' }, { id: 'desc' }], take: query.limit + 1 });
    const page = rows.slice(0, query.limit);
    const last = page.at(-1);
    response.json({
      data: page.map((row) => ({
        id: row.id,
        createdAt: row.createdAt.toISOString(),
        method: row.method,
        path: row.path,
        status: row.status,
        durationMs: row.durationMs,
        keyPrefix: row.keyPrefix,
        taskId: row.taskId,
        ip: row.ip,
        userAgent: row.userAgent,
        requestSummary: row.requestSummary,
        responseSummary: row.responseSummary,
      })),
      nextCursor: rows.length > query.limit && last ? encodeCursor(last) : null,
    });
  });

  router.get('/webhook-secret', async (request, response) => {
    response.json(viewWebhookSecret(await prisma.account.findUniqueOrThrow({ where: { id: accountIdOf(request) } })));
  });

  router.post('/webhook-secret/rotate', async (request, response) => {
    response.json(await rotateWebhookSecret(prisma, accountIdOf(request), config.WEBHOOK_SECRET_GRACE));
  });

  router.use(sessionsRouter(prisma));
  router.use(privacyRouter(deps, { cookieName: SESSION_COOKIE_NAME }));
  router.use(eventsRouter({ prisma }));
  router.use(resourceRouter(deps));
  router.use(rateLimitHeadersOnError);
  return router;
}

/** Lets only signed-in, unbanned accounts through and acts for them with every scope. */
function requireSession(prisma: PrismaClient): RequestHandler {
  return async (request, _response, next) => {
    const account = request.user ? await prisma.account.findUnique({ where: { id: request.user.id } }) : null;
    if (!account) throw new AppError('UNAUTHENTICATED', 'Sign in to continue');
    if (account.bannedAt) throw new AppError('ACCOUNT_BANNED', 'The account is banned', { reason: account.banReason ?? '' });

    request.principal = { accountId: account.id, scopes: [...API_KEY_SCOPES] };
    next();
  };
}

/** Adds the `RateLimit-*` headers to a 429 raised by the account services; the error handler adds `Retry-After`. */
const rateLimitHeadersOnError: ErrorRequestHandler = (error: unknown, _request, response, next) => {
  if (error instanceof AppError && error.code === 'RATE_LIMITED' && typeof error.details?.limit === 'number') {
    response.setHeader('RateLimit-Limit', String(error.details.limit));
    response.setHeader('RateLimit-Remaining', '0');
    response.setHeader('RateLimit-Reset', String(error.details.retryAfterSeconds));
  }
  next(error);
};

export function serializeAccount(account: Account) {
  return {
    id: account.id,
    email: account.email,
    displayName: account.displayName,
    locale: toLocaleTag(account.locale),
    role: account.role,
    emailVerified: account.emailVerifiedAt !== null,
    inviteCode: account.inviteCode,
    createdAt: account.createdAt.toISOString(),
    lastSignInAt: account.lastSignInAt?.toISOString() ?? null,
  };
}

function accountIdOf(request: Request): string {
  if (!request.principal) throw new AppError('UNAUTHENTICATED', 'Sign in to continue');
  return request.principal.accountId;
}

function clientIp(request: Request): string {
  return request.ip ?? 'unknown';
}

function encodeCursor(row: { createdAt: Date; id: string }): string {
  return Buffer.from(`${row.createdAt.toISOString()}|${row.id}`).toString('base64url');
}

function decodeCursor(cursor: string): { createdAt: Date; id: string } {
  const [time, id] = Buffer.from(cursor, 'base64url').toString('utf8').split('|');
  const createdAt = new Date(time ?? '');
  if (Number.isNaN(createdAt.getTime()) || !id || !/^[0-9a-f-]{36}$/i.test(id)) {
    throw new AppError('VALIDATION_FAILED', 'The cursor is invalid', { field: 'cursor' });
  }
  return { createdAt, id };
}
