import path from 'node:path';

import { loadConfig } from '../../lib/config';
import { createStorage, isLocalDiskStorage, LocalDiskStorage, S3Storage } from '../../lib/storage';

const SIGNING_SECRET = 'a-signing-secret-of-sufficient-length';

describe('createStorage', () => {
  test('picks the local driver by default', () => {
    const config = loadConfig({ DATA_DIR: '/tmp/novart-data', PUBLIC_URL: 'https://studio.example.org/' });

    const storage = createStorage(config, { localSigningSecret: SIGNING_SECRET });

    expect(storage).toBeInstanceOf(LocalDiskStorage);
    expect((storage as LocalDiskStorage).rootDir).toBe(path.resolve('/tmp/novart-data/objects'));
    expect(isLocalDiskStorage(storage)).toBe(true);
  });

  test('local links point at the public URL', async () => {
    const config = loadConfig({ DATA_DIR: '/tmp/novart-data', PUBLIC_URL: 'https://studio.example.org/' });
    const storage = createStorage(config, { localSigningSecret: SIGNING_SECRET });

    const url = new URL(await storage.presignDownload('results/t1/0.png', { expiresInSeconds: 60, fileName: '0.png' }));

    expect(url.origin).toBe('https://studio.example.org');
    expect(url.pathname).toBe('/files/results/t1/0.png');
  });

  test('picks the S3 driver with its bucket', () => {
    const config = loadConfig({
      STORAGE_DRIVER: 's3',
      S3_BUCKET: 'novart-results',
      S3_ENDPOINT: 'http://127.0.0.1:9000',
      S3_ACCESS_KEY_ID: 'key',
      S3_SECRET_ACCESS_KEY: 'secret',
    });

    const storage = createStorage(config, { localSigningSecret: SIGNING_SECRET });

    expect(storage).toBeInstanceOf(S3Storage);
    expect((storage as S3Storage).bucket).toBe('novart-results');
    expect(isLocalDiskStorage(storage)).toBe(false);
    (storage as S3Storage).close();
  });
});
