import { pipeline } from 'node:stream/promises';

import { create as createContentDisposition } from 'content-disposition';
import { Router, type Request, type Response } from 'express';

import type { Logger } from '../logger';
import { DOWNLOAD_ROUTE_PREFIX, type LocalDiskStorage } from './local-disk';

export interface DownloadRouterOptions {
  logger?: Logger;
}

/**
 * Serves the presigned download links of the local storage driver at
 * `/files/<key>`. Errors are AppErrors passed to the app's error middleware:
 * FORBIDDEN for a bad signature, GONE for an expired link, NOT_FOUND for a
 * deleted object.
 */
export function createDownloadRouter(storage: LocalDiskStorage, options: DownloadRouterOptions = {}): Router {
  const router = Router();

  router.get(`${DOWNLOAD_ROUTE_PREFIX}/*key`, async (request: Request, response: Response) => {
    const key = readKey(request);
    const download = storage.verifyDownload(key, request.query as Record<string, unknown>);
    const object = await storage.get(key);

    response.status(200);
    response.setHeader('Content-Type', download.contentType ?? object.contentType);
    response.setHeader('Content-Length', String(object.contentLength));
    response.setHeader('Content-Disposition', createContentDisposition(download.fileName));
    response.setHeader('Cache-Control', 'private, no-store');
    response.setHeader('X-Content-Type-Options', 'nosniff');

    // Express routes HEAD requests to GET handlers, and a HEAD response must not carry a body.
    if (request.method === 'HEAD') {
      object.body.destroy();
      response.end();
      return;
    }

    try {
      await pipeline(object.body, response);
    } catch (error) {
      // The headers are already sent, so the error middleware cannot respond. The client receives a truncated body.
      options.logger?.warn({ err: error, key }, 'download stream failed');
    }
  });

  return router;
}

// Express 5 decodes each segment of a `*key` wildcard and passes them as an array.
function readKey(request: Request): string {
  const segments = (request.params as Record<string, string | string[] | undefined>).key;
  return Array.isArray(segments) ? segments.join('/') : (segments ?? '');
}
