import { Router, type Request } from 'express';
import { z } from 'zod';
import { AppError } from '../../lib/errors';
import { deleteAccount } from '../../lib/privacy/deletion';
import { listAccountExports, requestAccountExport } from '../../lib/privacy/exports';
import type { SessionApiDependencies } from './router';

const deleteAccountSchema = z.object({ password: z.string().min(1).max(256) }).strict();

/**
 * Serves the privacy rights of the signed-in account: `POST /account/exports` and
 * `GET /account/exports` for data exports, `POST /account/delete` to delete the account.
 * Mount it behind the session, which sets `request.principal`.
 */
export function privacyRouter(deps: SessionApiDependencies, options: { cookieName: string }): Router {
  const router = Router();

  router.post('/account/exports', async (request, response) => {
    const row = await requestAccountExport(deps, accountIdOf(request));
    response.status(202).json({ id: row.id, status: row.status, createdAt: row.createdAt.toISOString() });
  });

  router.get('/account/exports', async (request, response) => {
    response.json({ data: await listAccountExports(deps, accountIdOf(request)) });
  });

  router.post('/account/delete', async (request, response, next) => {
    const { password } = deleteAccountSchema.parse(request.body);
    await deleteAccount(deps, accountIdOf(request), password);

    // The session row is already gone; destroying it also drops it from this request, so nothing saves it again.
    request.session.destroy((error) => {
      if (error) {
        next(error);
        return;
      }
      response.clearCookie(options.cookieName, { httpOnly: true, sameSite: 'lax', path: '/' });
      response.status(204).end();
    });
  });

  return router;
}

function accountIdOf(request: Request): string {
  if (!request.principal) throw new AppError('UNAUTHENTICATED', 'Sign in to continue');
  return request.principal.accountId;
}
