import { createHash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';

import { parse as parseContentDisposition } from 'content-disposition';

import { ObjectNotFoundError, type ObjectStorage } from '../../lib/storage/types';

/** A storage under test, reachable over HTTP for its download links. */
export interface StorageHarness {
  storage: ObjectStorage;
  /** The same objects, signing links with a clock one hour behind. */
  storageInThePast: ObjectStorage;
  /** HTTP status the server returns for an expired link. */
  expiredStatus: number;
  close(): Promise<void>;
}

const LARGE_SIZE = 24 * 1024 * 1024;

/** Defines the tests that every ObjectStorage driver must pass. */
export function describeObjectStorage(driverName: string, createHarness: () => Promise<StorageHarness>): void {
  describe(`${driverName} object storage`, () => {
    let harness: StorageHarness;
    let storage: ObjectStorage;

    beforeAll(async () => {
      harness = await createHarness();
      storage = harness.storage;
    });

    afterAll(async () => {
      await harness?.close();
    });

    test('get returns what put stored', async () => {
      const key = uniqueKey('image.png');
      const body = Buffer.from('fake png bytes');

      await storage.put(key, body, { contentType: 'image/png' });
      const object = await storage.get(key);
      const stored = await buffer(object.body);

      expect(stored.toString()).toBe('fake png bytes');
      expect(object.contentType).toBe('image/png');
      expect(object.contentLength).toBe(body.length);
    });

    test('put replaces an existing object', async () => {
      const key = uniqueKey('image.webp');
      await storage.put(key, Buffer.from('first'), { contentType: 'image/png' });

      await storage.put(key, Buffer.from('second version'), { contentType: 'image/webp' });
      const object = await storage.get(key);
      const stored = await buffer(object.body);

      expect(stored.toString()).toBe('second version');
      expect(object.contentType).toBe('image/webp');
    });

    test('get rejects a missing key', async () => {
      const key = uniqueKey('missing.png');

      const result = storage.get(key);

      await expect(result).rejects.toBeInstanceOf(ObjectNotFoundError);
      await expect(result).rejects.toMatchObject({ code: 'NOT_FOUND', status: 404, key });
    });

    test('exists distinguishes stored and missing keys', async () => {
      const key = uniqueKey('present.png');
      await storage.put(key, Buffer.from('x'), { contentType: 'image/png' });

      const present = await storage.exists(key);
      const missing = await storage.exists(uniqueKey('absent.png'));

      expect(present).toBe(true);
      expect(missing).toBe(false);
    });

    test('delete removes the object', async () => {
      const key = uniqueKey('deleted.png');
      await storage.put(key, Buffer.from('x'), { contentType: 'image/png' });

      await storage.delete(key);

      await expect(storage.exists(key)).resolves.toBe(false);
      await expect(storage.get(key)).rejects.toBeInstanceOf(ObjectNotFoundError);
    });

    test('delete twice succeeds', async () => {
      const key = uniqueKey('twice.png');
      await storage.put(key, Buffer.from('x'), { contentType: 'image/png' });

      await storage.delete(key);
      const second = storage.delete(key);

      await expect(second).resolves.toBeUndefined();
    });

    test('delete of a never stored key succeeds', async () => {
      const key = uniqueKey('never.png');

      const result = storage.delete(key);

      await expect(result).resolves.toBeUndefined();
    });

    test.each([
      ['empty', ''],
      ['leading slash', '/results/a.png'],
      ['parent segment', 'results/../secrets.txt'],
      ['only parent', '..'],
      ['current segment', 'results/./a.png'],
      ['empty segment', 'results//a.png'],
      ['trailing slash', 'results/'],
      ['newline', 'results/a\n.png'],
      ['NUL', 'results/a\u0000.png'],
      ['backslash', 'results\\a.png'],
    ])('put rejects a key with %s', async (_case, key) => {
      const result = storage.put(key, Buffer.from('x'), { contentType: 'image/png' });

      await expect(result).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
    });

    test('presigned link downloads the object', async () => {
      const key = uniqueKey('download.png');
      await storage.put(key, Buffer.from('downloadable'), { contentType: 'image/png' });
      const url = await storage.presignDownload(key, { expiresInSeconds: 300, fileName: 'result.png' });

      const response = await fetch(url);
      const body = Buffer.from(await response.arrayBuffer());

      expect(response.status).toBe(200);
      expect(body.toString()).toBe('downloadable');
      expect(response.headers.get('content-type')).toBe('image/png');
      expect(parseContentDisposition(response.headers.get('content-disposition') ?? '').type).toBe('attachment');
    });

    test('presigned link keeps a non-ASCII file name', async () => {
      const key = uniqueKey('sunset.png');
      await storage.put(key, Buffer.from('x'), { contentType: 'image/png' });
      const url = await storage.presignDownload(key, { expiresInSeconds: 300, fileName: '夕焼け 写真.png' });

      const response = await fetch(url);
      await response.arrayBuffer();
      const disposition = parseContentDisposition(response.headers.get('content-disposition') ?? '');

      expect(response.status).toBe(200);
      expect(disposition.type).toBe('attachment');
      expect(disposition.parameters.filename).toBe('夕焼け 写真.png');
    });

    test('presigned link overrides the content type', async () => {
      const key = uniqueKey('typed.bin');
      await storage.put(key, Buffer.from('x'), { contentType: 'application/octet-stream' });
      const url = await storage.presignDownload(key, {
        expiresInSeconds: 300,
        fileName: 'typed.webp',
        contentType: 'image/webp',
      });

      const response = await fetch(url);
      await response.arrayBuffer();

      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toBe('image/webp');
    });

    test('presigned link with a changed signature is rejected', async () => {
      const key = uniqueKey('tampered.png');
      await storage.put(key, Buffer.from('tampered-object-content'), { contentType: 'image/png' });
      const url = new URL(await storage.presignDownload(key, { expiresInSeconds: 300, fileName: 'a.png' }));
      const signatureName = url.searchParams.has('sig') ? 'sig' : 'X-Amz-Signature';
      url.searchParams.set(signatureName, changeFirstCharacter(url.searchParams.get(signatureName) ?? ''));

      const response = await fetch(url);
      const body = await response.text();

      expect(response.status).toBe(403);
      expect(body).not.toContain('tampered-object-content');
    });

    test('presigned link for another key is rejected', async () => {
      const allowedKey = uniqueKey('allowed.png');
      const otherKey = uniqueKey('other.png');
      await storage.put(allowedKey, Buffer.from('allowed'), { contentType: 'image/png' });
      await storage.put(otherKey, Buffer.from('other-object-content'), { contentType: 'image/png' });
      const url = new URL(await storage.presignDownload(allowedKey, { expiresInSeconds: 300, fileName: 'a.png' }));
      url.pathname = url.pathname.replace(encodeURIComponent(lastSegment(allowedKey)), encodeURIComponent(lastSegment(otherKey)));

      const response = await fetch(url);
      const body = await response.text();

      expect(url.pathname).toContain(encodeURIComponent(lastSegment(otherKey)));
      expect(response.status).toBe(403);
      expect(body).not.toContain('other-object-content');
    });

    test('presigned link with a changed file name is rejected', async () => {
      const key = uniqueKey('renamed.png');
      await storage.put(key, Buffer.from('x'), { contentType: 'image/png' });
      const url = new URL(await storage.presignDownload(key, { expiresInSeconds: 300, fileName: 'a.png' }));
      const nameParameter = url.searchParams.has('name') ? 'name' : 'response-content-disposition';
      url.searchParams.set(nameParameter, url.searchParams.get(nameParameter)!.replace('a.png', 'b.exe'));

      const response = await fetch(url);
      await response.arrayBuffer();

      expect(response.status).toBe(403);
    });

    test('expired presigned link is rejected', async () => {
      const key = uniqueKey('expired.png');
      await storage.put(key, Buffer.from('x'), { contentType: 'image/png' });
      const url = await harness.storageInThePast.presignDownload(key, { expiresInSeconds: 60, fileName: 'a.png' });

      const response = await fetch(url);
      await response.arrayBuffer();

      expect(response.status).toBe(harness.expiredStatus);
    });

    test('presigned link of a deleted object returns 404', async () => {
      const key = uniqueKey('gone.png');
      await storage.put(key, Buffer.from('x'), { contentType: 'image/png' });
      const url = await storage.presignDownload(key, { expiresInSeconds: 300, fileName: 'a.png' });
      await storage.delete(key);

      const response = await fetch(url);
      await response.arrayBuffer();

      expect(response.status).toBe(404);
    });

    test('presignDownload rejects an out-of-range lifetime', async () => {
      const key = uniqueKey('lifetime.png');

      const tooShort = storage.presignDownload(key, { expiresInSeconds: 0, fileName: 'a.png' });
      const tooLong = storage.presignDownload(key, { expiresInSeconds: 8 * 24 * 3600, fileName: 'a.png' });

      await expect(tooShort).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
      await expect(tooLong).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
    });

    test('large stream with length round-trips byte-exact', async () => {
      const key = uniqueKey('large-known.bin');
      const original = randomBytes(LARGE_SIZE);

      await storage.put(key, chunkedStream(original), { contentType: 'application/octet-stream', contentLength: original.length });
      const object = await storage.get(key);
      const stored = await buffer(object.body);

      expect(object.contentLength).toBe(original.length);
      expect(stored.length).toBe(original.length);
      expect(sha256(stored)).toBe(sha256(original));
    });

    test('large stream without length round-trips byte-exact', async () => {
      const key = uniqueKey('large-unknown.bin');
      const original = randomBytes(LARGE_SIZE);

      await storage.put(key, chunkedStream(original), { contentType: 'application/octet-stream' });
      const url = await storage.presignDownload(key, { expiresInSeconds: 300, fileName: 'large.bin' });
      const response = await fetch(url);
      const downloaded = Buffer.from(await response.arrayBuffer());

      expect(response.status).toBe(200);
      expect(downloaded.length).toBe(original.length);
      expect(sha256(downloaded)).toBe(sha256(original));
    });

    test('check passes when the storage is up', async () => {
      const result = storage.check();

      await expect(result).resolves.toBeUndefined();
    });
  });
}

export function uniqueKey(fileName: string): string {
  return `results/${randomBytes(8).toString('hex')}/${fileName}`;
}

function lastSegment(key: string): string {
  return key.slice(key.lastIndexOf('/') + 1);
}

function changeFirstCharacter(text: string): string {
  const replacement = text.startsWith('a') ? 'b' : 'a';
  return replacement + text.slice(1);
}

// A prime chunk size keeps chunk boundaries off the 5 MiB multipart boundaries.
function chunkedStream(data: Buffer): Readable {
  const chunkSize = 65_521;
  return Readable.from(
    (function* chunks() {
      for (let offset = 0; offset < data.length; offset += chunkSize) {
        yield data.subarray(offset, offset + chunkSize);
      }
    })(),
  );
}

function sha256(data: Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}
