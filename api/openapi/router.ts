import fs from 'node:fs';
import path from 'node:path';
import { Router } from 'express';
import { parse } from 'yaml';

/** The hand-written OpenAPI 3.1 document of `/v1`; a test keeps it in step with the registered routes. */
export const OPENAPI_DOCUMENT_PATH = path.resolve(__dirname, '..', '..', 'docs', 'openapi.yaml');

let cached: unknown;

/** Reads and parses docs/openapi.yaml once per process. */
export function loadOpenApiDocument(): unknown {
  cached ??= parse(fs.readFileSync(OPENAPI_DOCUMENT_PATH, 'utf8'));
  return cached;
}

/** `GET /openapi.json`: the document as JSON, readable without an API key. */
export function openApiRouter(): Router {
  const router = Router();

  router.get('/openapi.json', (_request, response) => {
    response.setHeader('Cache-Control', 'public, max-age=300');
    response.json(loadOpenApiDocument());
  });

  return router;
}
