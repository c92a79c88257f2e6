import type { Router } from 'express';
import { z } from 'zod';
import { createProviderRegistry, loadProvidersConfig } from '../../activities/providers/registry';
import { loadOpenApiDocument } from '../../api/openapi/router';
import { v1Router } from '../../api/v1/router';
import { ERROR_CODES } from '../../lib/errors';
import { createLogger } from '../../lib/logger';
import { createTaskService, createTaskSchema } from '../../lib/tasks';
import { startProduct, type ProductHarness } from '../support/product';

jest.setTimeout(60_000);

const HTTP_METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'] as const;

interface OpenApiDocument {
  openapi: string;
  info: { title: string; version: string };
  paths: Record<string, Record<string, { operationId?: string; responses?: Record<string, unknown> }>>;
  components: { schemas: Record<string, any>; securitySchemes: Record<string, any> };
  security: unknown[];
}

interface RouterLayer {
  route?: { path: string; methods: Record<string, boolean> };
  rawPath?: unknown;
  handle: { stack?: RouterLayer[] };
}

let product: ProductHarness;
let routes: string[];
const document = loadOpenApiDocument() as OpenApiDocument;

/** Lists `METHOD /path` for every route of an Express router, descending into mounted routers. */
function registeredRoutes(router: { stack?: RouterLayer[] }, prefix = ''): string[] {
  const found: string[] = [];
  for (const layer of router.stack ?? []) {
    if (layer.route) {
      for (const method of Object.keys(layer.route.methods)) found.push(`${method.toUpperCase()} ${prefix}${layer.route.path}`);
      continue;
    }
    if (layer.handle.stack) {
      const mountPath = typeof layer.rawPath === 'string' && layer.rawPath !== '/' ? layer.rawPath : '';
      found.push(...registeredRoutes(layer.handle, `${prefix}${mountPath}`));
    }
  }
  return found;
}

// Express writes `:id`, OpenAPI `{id}`.
function toOpenApiPath(expressPath: string): string {
  return expressPath.replace(/:(\w+)/g, '{$1}');
}

function documentedRoutes(): string[] {
  return Object.entries(document.paths).flatMap(([pathname, item]) =>
    HTTP_METHODS.filter((method) => item[method]).map((method) => `${method.toUpperCase()} ${pathname}`),
  );
}

function resolveRef(ref: string): unknown {
  return ref
    .replace(/^#\//, '')
    .split('/')
    .reduce<any>((node, part) => node?.[part.replace(/~1/g, '/').replace(/~0/g, '~')], document);
}

function collectRefs(node: unknown, refs: string[] = []): string[] {
  if (Array.isArray(node)) node.forEach((item) => collectRefs(item, refs));
  else if (node && typeof node === 'object') {
    for (const [key, value] of Object.entries(node)) {
      if (key === '$ref' && typeof value === 'string') refs.push(value);
      else collectRefs(value, refs);
    }
  }
  return refs;
}

beforeAll(async () => {
  product = await startProduct();
  const logger = createLogger({ level: 'silent' });
  const providers = createProviderRegistry(await loadProvidersConfig(undefined));
  const tasks = createTaskService({ prisma: product.prisma, temporal: product.temporal, providers, config: product.config, logger });
  const router: Router = v1Router({ prisma: product.prisma, temporal: product.temporal, storage: product.storage, tasks, providers, config: product.config, logger });
  routes = registeredRoutes(router as unknown as { stack: RouterLayer[] }).map((route) => {
    const [method, pathname] = route.split(' ');
    return `${method} ${toOpenApiPath(pathname!)}`;
  });
});

afterAll(async () => {
  await product?.close();
});

describe('OpenAPI document', () => {
  test('documents every /v1 route', () => {
    const missing = routes.filter((route) => !documentedRoutes().includes(route));

    expect(routes.length).toBeGreaterThan(15);
    expect(missing).toEqual([]);
  });

  test('documents no route that does not exist', () => {
    const extra = documentedRoutes().filter((route) => !routes.includes(route));

    expect(extra).toEqual([]);
  });

  test('is an OpenAPI 3.1 document', () => {
    const operations = Object.values(document.paths).flatMap((item) => HTTP_METHODS.flatMap((method) => (item[method] ? [item[method]] : [])));
    const operationIds = operations.map((operation) => operation.operationId);

    expect(document.openapi).toMatch(/^3\.1\.\d+$/);
    expect(typeof document.info.title).toBe('string');
    expect(typeof document.info.version).toBe('string');
    expect(Object.keys(document.paths).every((pathname) => pathname.startsWith('/'))).toBe(true);
    expect(operations.every((operation) => operation.responses && Object.keys(operation.responses).length > 0)).toBe(true);
    expect(new Set(operationIds).size).toBe(operationIds.length);
    expect(operationIds.every((id) => typeof id === 'string')).toBe(true);
  });

  test('every $ref resolves', () => {
    const unresolved = collectRefs(document).filter((ref) => resolveRef(ref) === undefined);

    expect(unresolved).toEqual([]);
  });

  test('authenticates with a bearer API key', () => {
    expect(document.components.securitySchemes.apiKey).toMatchObject({ type: 'http', scheme: 'bearer' });
    expect(document.security).toEqual([{ apiKey: [] }]);
  });

  test('error envelope lists every error code', () => {
    const envelope = document.components.schemas.ErrorEnvelope;

    expect(envelope.required).toEqual(['error']);
    expect(envelope.properties.error.required).toEqual(['code', 'message', 'requestId']);
    expect(Object.keys(envelope.properties.error.properties).sort()).toEqual(['code', 'details', 'message', 'requestId']);
    expect([...document.components.schemas.ErrorCode.enum].sort()).toEqual([...ERROR_CODES].sort());
  });

  test('task request matches its zod schema', () => {
    const fromZod = z.toJSONSchema(createTaskSchema, { io: 'input' }) as { properties: Record<string, unknown>; required?: string[] };
    const documented = document.components.schemas.CreateTaskRequest;

    expect(Object.keys(documented.properties).sort()).toEqual(Object.keys(fromZod.properties).sort());
    expect([...documented.required].sort()).toEqual([...(fromZod.required ?? [])].sort());
  });
});

describe('GET /v1/openapi.json', () => {
  test('serves the document without an API key', async () => {
    const answer = await product.request('GET', '/v1/openapi.json', { apiKey: null });

    expect(answer.status).toBe(200);
    expect(answer.body).toEqual(document);
  });
});
