import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';

import { parse as parseContentDisposition } from 'content-disposition';
import express, { type NextFunction, type Request, type Response } from 'express';

import { AppError } from '../../lib/errors';
import { createDownloadRouter } from '../../lib/storage/download-router';
import { LocalDiskStorage } from '../../lib/storage/local-disk';
import { describeObjectStorage, uniqueKey, type StorageHarness } from './object-storage-contract';

const SIGNING_SECRET = randomBytes(32).toString('hex');
const ONE_HOUR_MS = 3_600_000;

interface DownloadServer {
  storage: LocalDiskStorage;
  rootDir: string;
  publicUrl: string;
  close(): Promise<void>;
}

/** Serves the download router of a LocalDiskStorage in a fresh folder on 127.0.0.1. */
async function startDownloadServer(now?: () => number): Promise<DownloadServer> {
  const rootDir = await fs.mkdtemp(path.join(os.tmpdir(), 'novart-local-storage-'));
  const server = http.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const publicUrl = `http://127.0.0.1:${port}`;

  const storage = new LocalDiskStorage({ rootDir, publicUrl, signingSecret: SIGNING_SECRET, now });
  const app = express();
  app.use(createDownloadRouter(storage));
  app.use(handleError);
  server.on('request', app);

  return {
    storage,
    rootDir,
    publicUrl,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await fs.rm(rootDir, { recursive: true, force: true });
    },
  };
}

// Stands in for the API's error middleware, which renders the same envelope.
function handleError(error: unknown, _request: Request, response: Response, _next: NextFunction): void {
  if (error instanceof AppError) {
    response.status(error.status).json({ error: { code: error.code, message: error.message } });
    return;
  }
  response.status(500).json({ error: { code: 'INTERNAL', message: 'Internal error' } });
}

describeObjectStorage('local disk', async (): Promise<StorageHarness> => {
  const server = await startDownloadServer();
  const storageInThePast = signingInThePast(server);

  return { storage: server.storage, storageInThePast, expiredStatus: 410, close: server.close };
});

/** Creates a storage on the same folder and secret whose clock is an hour behind. */
function signingInThePast(server: DownloadServer): LocalDiskStorage {
  return new LocalDiskStorage({
    rootDir: server.rootDir,
    publicUrl: server.publicUrl,
    signingSecret: SIGNING_SECRET,
    now: () => Date.now() - ONE_HOUR_MS,
  });
}

describe('local disk download route', () => {
  let server: DownloadServer;
  let storage: LocalDiskStorage;

  beforeAll(async () => {
    server = await startDownloadServer();
    storage = server.storage;
  });

  afterAll(async () => {
    await server?.close();
  });

  test('tampered signature returns FORBIDDEN', async () => {
    const key = uniqueKey('a.png');
    await storage.put(key, Buffer.from('x'), { contentType: 'image/png' });
    const url = new URL(await storage.presignDownload(key, { expiresInSeconds: 300, fileName: 'a.png' }));
    const signature = url.searchParams.get('sig')!;
    url.searchParams.set('sig', (signature.startsWith('a') ? 'b' : 'a') + signature.slice(1));

    const response = await fetch(url);
    const body = (await response.json()) as { error: { code: string } };

    expect(response.status).toBe(403);
    expect(body.error.code).toBe('FORBIDDEN');
  });

  test('missing signature returns FORBIDDEN', async () => {
    const key = uniqueKey('a.png');
    await storage.put(key, Buffer.from('x'), { contentType: 'image/png' });
    const url = new URL(await storage.presignDownload(key, { expiresInSeconds: 300, fileName: 'a.png' }));
    url.searchParams.delete('sig');

    const response = await fetch(url);
    const body = (await response.json()) as { error: { code: string } };

    expect(response.status).toBe(403);
    expect(body.error.code).toBe('FORBIDDEN');
  });

  test('extended expiry returns FORBIDDEN', async () => {
    const key = uniqueKey('a.png');
    await storage.put(key, Buffer.from('x'), { contentType: 'image/png' });
    const url = new URL(await storage.presignDownload(key, { expiresInSeconds: 300, fileName: 'a.png' }));
    url.searchParams.set('expires', String(Number(url.searchParams.get('expires')) + 86_400));

    const response = await fetch(url);
    const body = (await response.json()) as { error: { code: string } };

    expect(response.status).toBe(403);
    expect(body.error.code).toBe('FORBIDDEN');
  });

  test('expired link returns GONE', async () => {
    const key = uniqueKey('a.png');
    await storage.put(key, Buffer.from('x'), { contentType: 'image/png' });
    const url = await signingInThePast(server).presignDownload(key, { expiresInSeconds: 60, fileName: 'a.png' });

    const response = await fetch(url);
    const body = (await response.json()) as { error: { code: string } };

    expect(response.status).toBe(410);
    expect(body.error.code).toBe('GONE');
  });

  test('deleted object returns NOT_FOUND', async () => {
    const key = uniqueKey('a.png');
    await storage.put(key, Buffer.from('x'), { contentType: 'image/png' });
    const url = await storage.presignDownload(key, { expiresInSeconds: 300, fileName: 'a.png' });
    await storage.delete(key);

    const response = await fetch(url);
    const body = (await response.json()) as { error: { code: string } };

    expect(response.status).toBe(404);
    expect(body.error.code).toBe('NOT_FOUND');
  });

  test('download sets length and no-sniff headers', async () => {
    const key = uniqueKey('a.png');
    await storage.put(key, Buffer.from('12345'), { contentType: 'image/png' });
    const url = await storage.presignDownload(key, { expiresInSeconds: 300, fileName: 'a.png' });

    const response = await fetch(url);
    await response.arrayBuffer();

    expect(response.headers.get('content-length')).toBe('5');
    expect(response.headers.get('x-content-type-options')).toBe('nosniff');
    expect(parseContentDisposition(response.headers.get('content-disposition') ?? '').parameters.filename).toBe('a.png');
  });

  test('key with spaces and non-ASCII downloads', async () => {
    const key = `results/${randomBytes(4).toString('hex')}/日本 語 #1.png`;
    await storage.put(key, Buffer.from('unicode key'), { contentType: 'image/png' });
    const url = await storage.presignDownload(key, { expiresInSeconds: 300, fileName: 'a.png' });

    const response = await fetch(url);
    const body = await response.text();

    expect(response.status).toBe(200);
    expect(body).toBe('unicode key');
  });
});

describe('local disk files', () => {
  let rootDir: string;
  let storage: LocalDiskStorage;

  beforeEach(async () => {
    rootDir = await fs.mkdtemp(path.join(os.tmpdir(), 'novart-local-files-'));
    storage = new LocalDiskStorage({ rootDir, publicUrl: 'http://127.0.0.1:1', signingSecret: SIGNING_SECRET });
  });

  afterEach(async () => {
    await fs.rm(rootDir, { recursive: true, force: true });
  });

  test('failed stream leaves no object', async () => {
    const key = uniqueKey('broken.png');

    const result = storage.put(key, failingStream(), { contentType: 'image/png' });

    await expect(result).rejects.toThrow('upstream connection reset');
    await expect(storage.exists(key)).resolves.toBe(false);
    await expect(fs.readdir(path.join(rootDir, 'tmp'))).resolves.toEqual([]);
  });

  test('failed stream keeps the previous version', async () => {
    const key = uniqueKey('kept.png');
    await storage.put(key, Buffer.from('previous'), { contentType: 'image/png' });

    const result = storage.put(key, failingStream(), { contentType: 'image/webp' });

    await expect(result).rejects.toThrow('upstream connection reset');
    const object = await storage.get(key);
    const body = Buffer.concat(await object.body.toArray());
    expect(body.toString()).toBe('previous');
    expect(object.contentType).toBe('image/png');
  });

  test('put rejects a wrong contentLength', async () => {
    const key = uniqueKey('short.png');

    const result = storage.put(key, Readable.from([Buffer.from('abc')]), { contentType: 'image/png', contentLength: 10 });

    await expect(result).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
    await expect(storage.exists(key)).resolves.toBe(false);
  });

  test('delete removes emptied folders', async () => {
    const key = 'results/task-1/0.png';
    await storage.put(key, Buffer.from('x'), { contentType: 'image/png' });

    await storage.delete(key);

    await expect(fs.readdir(path.join(rootDir, 'objects'))).resolves.toEqual([]);
    await expect(fs.readdir(path.join(rootDir, 'metadata'))).resolves.toEqual([]);
  });

  test('delete keeps folders with other objects', async () => {
    await storage.put('results/task-2/0.png', Buffer.from('x'), { contentType: 'image/png' });
    await storage.put('results/task-2/1.png', Buffer.from('y'), { contentType: 'image/png' });

    await storage.delete('results/task-2/0.png');

    await expect(storage.exists('results/task-2/1.png')).resolves.toBe(true);
  });

  test('check fails when the root is a file', async () => {
    const filePath = path.join(rootDir, 'not-a-folder');
    await fs.writeFile(filePath, 'x');
    const blocked = new LocalDiskStorage({ rootDir: filePath, publicUrl: 'http://127.0.0.1:1', signingSecret: SIGNING_SECRET });

    const result = blocked.check();

    await expect(result).rejects.toMatchObject({ code: 'SERVICE_UNAVAILABLE' });
    await expect(result).rejects.toThrow(filePath);
  });

  test('constructor rejects a short signing secret', () => {
    const create = () => new LocalDiskStorage({ rootDir, publicUrl: 'http://127.0.0.1:1', signingSecret: 'short' });

    expect(create).toThrow('signingSecret');
  });
});

function failingStream(): Readable {
  return new Readable({
    read() {
      this.push(Buffer.alloc(1024, 1));
      this.destroy(new Error('upstream connection reset'));
    },
  });
}
