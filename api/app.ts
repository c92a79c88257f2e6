import fs from 'node:fs';
import path from 'node:path';
import express, { type Express, type Router } from 'express';
import helmet from 'helmet';
import type { Logger } from '../lib/logger';
import { errorHandler, notFoundHandler } from './middleware/error-handler';
import { requestContext } from './middleware/request-context';
import type { ReadinessCheck } from './readiness';
import { healthRouter } from './routes/health';

export interface AppOptions {
  logger: Logger;
  readinessChecks: ReadinessCheck[];
  /** Routers mounted at their paths, for example `/v1` and `/files`, in order. */
  routers?: Array<{ path: string; router: Router }>;
  /** Folder of the built web app; served with an index.html fallback for client-side routes. */
  webDistDir?: string;
  /** Origins besides our own that serve images to the Studio, such as the S3 endpoint of presigned links. */
  imageOrigins?: string[];
  /** Number of proxies in front of the app, so `req.ip` and `req.secure` read the forwarded headers. */
  trustProxy?: number | boolean;
}

/** Builds the Express application: security headers, request ids, routes, then the error envelope. */
export function createApp(options: AppOptions): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', options.trustProxy ?? false);

  app.use(requestContext(options.logger));
  app.use(helmet({ contentSecurityPolicy: { directives: { 'img-src': ["'self'", 'data:', 'blob:', ...(options.imageOrigins ?? [])] } } }));
  app.use(healthRouter(options.readinessChecks));

  for (const { path: mountPath, router } of options.routers ?? []) {
    app.use(mountPath, router);
  }

  const apiPaths = ['/api', '/v1', '/files'];
  app.use(apiPaths, notFoundHandler);

  if (options.webDistDir && fs.existsSync(path.join(options.webDistDir, 'index.html'))) {
    serveWebApp(app, options.webDistDir);
  }

  app.use(notFoundHandler);
  app.use(errorHandler);
  return app;
}

function serveWebApp(app: Express, webDistDir: string): void {
  app.use(express.static(webDistDir, { index: false, maxAge: '1h', immutable: false }));

  // Client-side routes (for example /studio or /wallet) load the app shell.
  app.get('/{*path}', (request, response, next) => {
    if (!request.accepts('html')) {
      next();
      return;
    }
    response.setHeader('Cache-Control', 'no-cache');
    response.sendFile(path.join(webDistDir, 'index.html'));
  });
}
