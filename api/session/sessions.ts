import { createHash } from 'node:crypto';
import { Router, type Request } from 'express';
import { writeAudit } from '../../lib/audit';
import { AppError } from '../../lib/errors';
import type { PrismaClient } from '../../prisma/generated/client';

declare module 'express-session' {
  interface SessionData {
    /** The browser that signed in, so the account page can tell its sessions apart. */
    client?: { userAgent: string | null; ip: string | null; signedInAt: string };
  }
}

const USER_AGENT_MAX_LENGTH = 200;

/** Records which browser signed in. Call it right after sign-in creates the session. */
export function recordSessionClient(request: Request): void {
  request.session.client = {
    userAgent: request.get('user-agent')?.slice(0, USER_AGENT_MAX_LENGTH) ?? null,
    ip: request.ip ?? null,
    signedInAt: new Date().toISOString(),
  };
}

/**
 * Derives the id shown for a session. The session id itself never leaves the
 * cookie, so the list shows a hash of it and ending a session looks the hash up again.
 */
export function publicSessionId(sid: string): string {
  return createHash('sha256').update(sid).digest('base64url').slice(0, 32);
}

/**
 * `GET /sessions` and `DELETE /sessions/:id`: the signed-in browsers of the
 * principal's account. Mounted behind the session, which sets `request.principal`.
 */
export function sessionsRouter(prisma: PrismaClient): Router {
  const router = Router();

  router.get('/sessions', async (request, response) => {
    const rows = await prisma.userSession.findMany({
      where: { accountId: accountIdOf(request), expiresAt: { gt: new Date() } },
      orderBy: { createdAt: 'desc' },
    });

    response.json({
      data: rows.map((row) => {
        const client = (row.data as { client?: { userAgent?: unknown; ip?: unknown } }).client;
        return {
          id: publicSessionId(row.sid),
          current: row.sid === request.sessionID,
          userAgent: typeof client?.userAgent === 'string' ? client.userAgent : null,
          ip: typeof client?.ip === 'string' ? client.ip : null,
          createdAt: row.createdAt.toISOString(),
          expiresAt: row.expiresAt.toISOString(),
        };
      }),
    });
  });

  router.delete('/sessions/:id', async (request, response) => {
    const accountId = accountIdOf(request);
    const id = String(request.params.id);

    // An account has a handful of sessions, so hashing each is cheaper than storing the hash.
    const rows = await prisma.userSession.findMany({ where: { accountId }, select: { sid: true } });
    const row = rows.find((candidate) => publicSessionId(candidate.sid) === id);
    if (!row) throw new AppError('NOT_FOUND', `Session ${id} not found`);
    if (row.sid === request.sessionID) throw new AppError('CONFLICT', 'Sign out to end the current session');

    await prisma.userSession.deleteMany({ where: { sid: row.sid, accountId } });
    await writeAudit(prisma, { actorId: accountId, action: 'session.ended', targetAccountId: accountId, metadata: { sessionId: id } });
    response.status(204).end();
  });

  return router;
}

function accountIdOf(request: Request): string {
  if (!request.principal) throw new AppError('UNAUTHENTICATED', 'Sign in to continue');
  return request.principal.accountId;
}
