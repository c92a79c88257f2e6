import type { RequestHandler } from 'express';
import { AppError } from '../../lib/errors';

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * CSRF protection for cookie-authenticated requests, by verified origin:
 * a state-changing request must come from this site (`Sec-Fetch-Site`, then
 * `Origin` compared with the public URL or the requested host). A client that
 * sends neither header must send JSON, which a cross-site form cannot do
 * without a CORS preflight that this server never grants.
 */
export function requireSameOrigin(publicUrl: string): RequestHandler {
  const publicOrigin = new URL(publicUrl).origin;

  return (request, _response, next) => {
    if (SAFE_METHODS.has(request.method)) {
      next();
      return;
    }

    const reject = () => new AppError('CSRF_FAILED', 'Cross-site request rejected: send it from the Studio itself');
    const site = request.get('sec-fetch-site');
    if (site !== undefined && site !== 'same-origin' && site !== 'none') throw reject();

    const origin = request.get('origin');
    if (origin !== undefined) {
      const requestedOrigin = `${request.protocol}://${request.get('host') ?? ''}`;
      if (origin !== publicOrigin && origin !== requestedOrigin) throw reject();
    } else if (site === undefined && !request.is('application/json')) {
      throw reject();
    }
    next();
  };
}
