import session from 'express-session';
import type { Prisma, PrismaClient } from '../../prisma/generated/client';

type Callback = (error?: unknown) => void;

/**
 * express-session store on the `user_sessions` table through Prisma, so it
 * works on PostgreSQL and on the embedded PGlite alike. The signed-in account
 * is copied to `account_id`, which lets a password change or a ban end that
 * account's sessions with one statement.
 */
export class PrismaSessionStore extends session.Store {
  constructor(
    private readonly prisma: PrismaClient,
    private readonly ttlMs: number,
  ) {
    super();
  }

  override get(sid: string, callback: (error: unknown, session?: session.SessionData | null) => void): void {
    this.prisma.userSession
      .findUnique({ where: { sid } })
      .then((row) => callback(null, row && row.expiresAt > new Date() ? (row.data as unknown as session.SessionData) : null))
      .catch((error: unknown) => callback(error));
  }

  override set(sid: string, data: session.SessionData, callback?: Callback): void {
    const expiresAt = this.expiresAt(data);
    const accountId = accountIdOf(data);
    const json = JSON.parse(JSON.stringify(data)) as Prisma.InputJsonValue;
    this.prisma.userSession
      .upsert({ where: { sid }, create: { sid, data: json, expiresAt, accountId }, update: { data: json, expiresAt, accountId } })
      .then(() => callback?.())
      .catch((error: unknown) => callback?.(error));
  }

  override touch(sid: string, data: session.SessionData, callback?: Callback): void {
    this.prisma.userSession
      .updateMany({ where: { sid }, data: { expiresAt: this.expiresAt(data) } })
      .then(() => callback?.())
      .catch((error: unknown) => callback?.(error));
  }

  override destroy(sid: string, callback?: Callback): void {
    this.prisma.userSession
      .deleteMany({ where: { sid } })
      .then(() => callback?.())
      .catch((error: unknown) => callback?.(error));
  }

  private expiresAt(data: session.SessionData): Date {
    const expires = data.cookie?.expires;
    return expires ? new Date(expires) : new Date(Date.now() + this.ttlMs);
  }
}

/** Ends every session of an account, except `keepSid` when given (the session that changed the password). */
export async function endAccountSessions(prisma: PrismaClient | Prisma.TransactionClient, accountId: string, keepSid?: string): Promise<void> {
  await prisma.userSession.deleteMany({ where: { accountId, ...(keepSid ? { sid: { not: keepSid } } : {}) } });
}

/** Deletes expired sessions. */
export async function sweepExpiredSessions(prisma: PrismaClient): Promise<number> {
  const { count } = await prisma.userSession.deleteMany({ where: { expiresAt: { lte: new Date() } } });
  return count;
}

function accountIdOf(data: session.SessionData): string | null {
  const user = (data as { passport?: { user?: unknown } }).passport?.user;
  return typeof user === 'string' ? user : null;
}
