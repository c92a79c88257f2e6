import { Writable } from 'node:stream';
import { Client, Connection } from '@temporalio/client';
import { PrismaPg } from '@prisma/adapter-pg';
import express, { Router } from 'express';
import { createApp } from '../../api/app';
import { AppError } from '../../lib/errors';
import { createLogger } from '../../lib/logger';
import { readinessChecks } from '../../lib/services';
import { S3Storage } from '../../lib/storage/s3';
import { PrismaClient } from '../../prisma/generated/client';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { findFreePort } from '../support/product';
import { createTestBucket } from '../support/s3-server';

function captureLogs() {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk, _encoding, callback) {
      lines.push(String(chunk));
      callback();
    },
  });
  return { lines, logger: createLogger({ level: 'info', destination }) };
}

async function serve(app: express.Express): Promise<{ url: string; close(): Promise<void> }> {
  const server = app.listen(0, '127.0.0.1');
  await new Promise<void>((resolve) => server.once('listening', resolve));
  const address = server.address() as { port: number };
  return { url: `http://127.0.0.1:${address.port}`, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

describe('error envelope', () => {
  const { lines, logger } = captureLogs();
  const router = Router();
  router.post('/echo', express.json(), (request, response) => {
    response.json(request.body);
  });
  router.get('/expected', () => {
    throw new AppError('INSUFFICIENT_FUNDS', 'Not enough credits', { price: 5 });
  });
  router.get('/unexpected', () => {
    throw new Error('database password is hunter2');
  });
  let server: { url: string; close(): Promise<void> };

  beforeAll(async () => {
    server = await serve(createApp({ logger, readinessChecks: [], routers: [{ path: '/api', router }] }));
  });

  afterAll(async () => {
    await server.close();
  });

  test('expected error keeps its code and status', async () => {
    const response = await fetch(`${server.url}/api/expected`, { headers: { 'x-request-id': 'request-abc-123' } });
    const body = (await response.json()) as any;

    expect(response.status).toBe(402);
    expect(body).toEqual({ error: { code: 'INSUFFICIENT_FUNDS', message: 'Not enough credits', requestId: 'request-abc-123', details: { price: 5 } } });
    expect(response.headers.get('x-request-id')).toBe('request-abc-123');
  });

  test('unknown error becomes a generic 500', async () => {
    const response = await fetch(`${server.url}/api/unexpected`);
    const body = (await response.json()) as any;

    expect(response.status).toBe(500);
    expect(body.error.code).toBe('INTERNAL');
    expect(body.error.message).toBe('Internal server error');
    expect(JSON.stringify(body)).not.toContain('hunter2');
    expect(lines.some((line) => line.includes('hunter2') && line.includes('"level":50'))).toBe(true);
  });

  test('malformed JSON is a 400', async () => {
    const response = await fetch(`${server.url}/api/echo`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"a":' });
    const body = (await response.json()) as any;

    expect(response.status).toBe(400);
    expect(body.error.code).toBe('INVALID_JSON');
  });

  test('unknown API route is a JSON 404', async () => {
    const response = await fetch(`${server.url}/v1/nothing-here`);
    const body = (await response.json()) as any;

    expect(response.status).toBe(404);
    expect(body.error.code).toBe('NOT_FOUND');
    expect(typeof body.error.requestId).toBe('string');
  });

  test('authorization and cookies are redacted from logs', async () => {
    await fetch(`${server.url}/api/expected`, { headers: { authorization: 'Bearer nva_secret_value', cookie: 'nova_art_session=secret-cookie' } });

    expect(lines.join('\n')).not.toContain('nva_secret_value');
    expect(lines.join('\n')).not.toContain('secret-cookie');
  });
});

describe('readiness', () => {
  let database: TestDatabase;
  let storage: S3Storage;
  let temporal: Client;

  beforeAll(async () => {
    database = await createTestDatabase();
    storage = new S3Storage(await createTestBucket());
    temporal = new Client({ connection: await Connection.connect({ address: process.env.TEST_TEMPORAL_ADDRESS! }) });
  });

  afterAll(async () => {
    await temporal.connection.close();
    storage.close();
    await database.drop();
  });

  test('reports ready when every dependency answers', async () => {
    const server = await serve(createApp({ logger: createLogger({ level: 'silent' }), readinessChecks: readinessChecks({ database: { prisma: database.prisma } as never, temporal, storage }) }));

    const response = await fetch(`${server.url}/readyz`);
    const body = (await response.json()) as any;
    await server.close();

    expect(response.status).toBe(200);
    expect(body.status).toBe('ready');
  });

  test.each(['database', 'temporal', 'storage'] as const)('names %s when it is down', async (down) => {
    const closedPort = await findFreePort();
    const brokenPrisma = new PrismaClient({ adapter: new PrismaPg({ connectionString: `postgresql://nobody@127.0.0.1:${closedPort}/none`, connectionTimeoutMillis: 1_000 }) });
    const brokenTemporal = new Client({ connection: Connection.lazy({ address: `127.0.0.1:${closedPort}`, connectTimeout: 1_000 }) });
    const brokenStorage = new S3Storage({ ...(await createTestBucket()), endpoint: `http://127.0.0.1:${closedPort}` });
    const checks = readinessChecks({
      database: { prisma: down === 'database' ? brokenPrisma : database.prisma } as never,
      temporal: down === 'temporal' ? brokenTemporal : temporal,
      storage: down === 'storage' ? brokenStorage : storage,
    });
    const server = await serve(createApp({ logger: createLogger({ level: 'silent' }), readinessChecks: checks }));

    const response = await fetch(`${server.url}/readyz`);
    const body = (await response.json()) as any;
    await server.close();
    await brokenPrisma.$disconnect();
    brokenStorage.close();

    expect(response.status).toBe(503);
    expect(body.status).toBe('not_ready');
    expect(body.checks[down].ok).toBe(false);
    expect(typeof body.checks[down].error).toBe('string');
    for (const name of ['database', 'temporal', 'storage'].filter((name) => name !== down)) {
      expect(body.checks[name].ok).toBe(true);
    }
  });
});
