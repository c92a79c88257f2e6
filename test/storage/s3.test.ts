import { randomBytes } from 'node:crypto';

import { S3Storage } from '../../lib/storage/s3';
import { createTestBucket, startS3Server, testS3Options } from '../support/s3-server';
import { describeObjectStorage, uniqueKey, type StorageHarness } from './object-storage-contract';

const ONE_HOUR_MS = 3_600_000;

describeObjectStorage('S3', async (): Promise<StorageHarness> => {
  const options = await createTestBucket();
  const storage = new S3Storage(options);
  const storageInThePast = new S3Storage({ ...options, now: () => Date.now() - ONE_HOUR_MS });

  return {
    storage,
    storageInThePast,
    // S3 returns 403 AccessDenied for an expired presigned URL.
    expiredStatus: 403,
    close: async () => {
      storage.close();
      storageInThePast.close();
    },
  };
});

describe('S3 storage', () => {
  test('expired presigned URL is rejected as expired', async () => {
    const options = await createTestBucket();
    const storage = new S3Storage(options);
    const storageInThePast = new S3Storage({ ...options, now: () => Date.now() - ONE_HOUR_MS });
    const key = uniqueKey('a.png');
    await storage.put(key, Buffer.from('x'), { contentType: 'image/png' });
    const url = await storageInThePast.presignDownload(key, { expiresInSeconds: 60, fileName: 'a.png' });

    const response = await fetch(url);
    const body = await response.text();

    expect(response.status).toBe(403);
    expect(body).toContain('Request has expired');
    storage.close();
    storageInThePast.close();
  });

  test('ensureBucket creates a bucket once', async () => {
    const storage = new S3Storage(testS3Options(`ensure-${randomBytes(6).toString('hex')}`));

    await storage.ensureBucket();
    await storage.ensureBucket();
    const result = storage.check();

    await expect(result).resolves.toBeUndefined();
    storage.close();
  });

  test('check fails for a missing bucket', async () => {
    const storage = new S3Storage(testS3Options('missing-bucket'));

    const result = storage.check();

    await expect(result).rejects.toMatchObject({ code: 'SERVICE_UNAVAILABLE' });
    await expect(result).rejects.toThrow('NoSuchBucket');
    storage.close();
  });

  test('check fails with a wrong secret', async () => {
    const options = await createTestBucket();
    const accessKeyId = options.credentials!.accessKeyId;
    const storage = new S3Storage({ ...options, credentials: { accessKeyId, secretAccessKey: 'wrong-secret' } });

    const result = storage.check();

    await expect(result).rejects.toMatchObject({ code: 'SERVICE_UNAVAILABLE' });
    await expect(result).rejects.toThrow('SignatureDoesNotMatch');
    storage.close();
  });

  test('get reports a missing bucket as NoSuchBucket', async () => {
    const storage = new S3Storage(testS3Options('no-such-bucket'));

    const result = storage.get(uniqueKey('a.png'));

    await expect(result).rejects.toMatchObject({ name: 'NoSuchBucket' });
    storage.close();
  });

  test('check fails when the server is down', async () => {
    const server = await startS3Server();
    const storage = new S3Storage({
      bucket: 'down-test',
      region: server.env.TEST_S3_REGION!,
      endpoint: server.env.TEST_S3_ENDPOINT!,
      forcePathStyle: true,
      credentials: {
        accessKeyId: server.env.TEST_S3_ACCESS_KEY_ID!,
        secretAccessKey: server.env.TEST_S3_SECRET_ACCESS_KEY!,
      },
    });
    await storage.ensureBucket();
    await expect(storage.check()).resolves.toBeUndefined();

    await server.stop();
    const result = storage.check();

    await expect(result).rejects.toMatchObject({ code: 'SERVICE_UNAVAILABLE' });
    await expect(result).rejects.toThrow(server.env.TEST_S3_ENDPOINT!);
    storage.close();
  });
});
