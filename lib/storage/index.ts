import type { Config } from '../config';
import { LocalDiskStorage } from './local-disk';
import { S3Storage } from './s3';
import type { ObjectStorage } from './types';

export { createDownloadRouter, type DownloadRouterOptions } from './download-router';
export { DOWNLOAD_ROUTE_PREFIX, LocalDiskStorage, type LocalDiskStorageOptions, type VerifiedDownload } from './local-disk';
export { S3Storage, type S3StorageOptions } from './s3';
export * from './types';

export interface CreateStorageOptions {
  /** HMAC key of the local driver's download links; ignored by the S3 driver. */
  localSigningSecret: string;
}

type StorageConfig = Pick<
  Config,
  | 'STORAGE_DRIVER'
  | 'S3_ENDPOINT'
  | 'S3_REGION'
  | 'S3_BUCKET'
  | 'S3_ACCESS_KEY_ID'
  | 'S3_SECRET_ACCESS_KEY'
  | 'S3_FORCE_PATH_STYLE'
  | 'storageLocalDir'
  | 'publicUrl'
>;

/**
 * Creates the storage driver that `config.STORAGE_DRIVER` names. With the local
 * driver, mount `createDownloadRouter(storage)` so its download links resolve.
 */
export function createStorage(config: StorageConfig, options: CreateStorageOptions): LocalDiskStorage | S3Storage {
  if (config.STORAGE_DRIVER === 'local') {
    return new LocalDiskStorage({
      rootDir: config.storageLocalDir,
      publicUrl: config.publicUrl,
      signingSecret: options.localSigningSecret,
    });
  }

  if (!config.S3_BUCKET) throw new Error('S3_BUCKET is required when STORAGE_DRIVER=s3');
  const credentials =
    config.S3_ACCESS_KEY_ID && config.S3_SECRET_ACCESS_KEY
      ? { accessKeyId: config.S3_ACCESS_KEY_ID, secretAccessKey: config.S3_SECRET_ACCESS_KEY }
      : undefined;

  return new S3Storage({
    bucket: config.S3_BUCKET,
    region: config.S3_REGION,
    endpoint: config.S3_ENDPOINT,
    forcePathStyle: config.S3_FORCE_PATH_STYLE,
    credentials,
  });
}

/** Narrows a storage to the local driver, whose links need the download router. */
export function isLocalDiskStorage(storage: ObjectStorage): storage is LocalDiskStorage {
  return storage instanceof LocalDiskStorage;
}
