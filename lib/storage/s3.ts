import type { Readable } from 'node:stream';

import {
  CreateBucketCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  S3ServiceException,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { create as createContentDisposition } from 'content-disposition';

import { appError } from '../errors';
import {
  ObjectNotFoundError,
  validateKey,
  validatePresignOptions,
  type ObjectStorage,
  type PresignDownloadOptions,
  type PutOptions,
  type StoredObject,
} from './types';

export interface S3StorageOptions {
  bucket: string;
  region: string;
  /** Endpoint URL of an S3-compatible service; unset for AWS S3. */
  endpoint?: string;
  /** Address buckets as `endpoint/bucket/key`, which most self-hosted servers need. */
  forcePathStyle?: boolean;
  /** Unset: the AWS SDK default credential chain. */
  credentials?: { accessKeyId: string; secretAccessKey: string };
  /** Current time in milliseconds, used as the signing time of presigned URLs. */
  now?: () => number;
}

const CHECK_TIMEOUT_MS = 5_000;

// NOTE: the product runs on Node 20, for which the AWS SDK prints a support warning in every process.
// The lock file pins SDK versions that still support Node 20, so the warning is turned off here.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

/**
 * Object storage on Amazon S3 or an S3-compatible service. The tests run it
 * against Versity S3 Gateway v1.7.0.
 *
 * NOTE: presigned URLs use `endpoint` as is, so browsers must be able to reach that address.
 */
export class S3Storage implements ObjectStorage {
  readonly bucket: string;
  readonly client: S3Client;
  private readonly endpointLabel: string;
  private readonly now: () => number;

  constructor(options: S3StorageOptions) {
    this.bucket = options.bucket;
    this.endpointLabel = options.endpoint ?? `AWS S3 (${options.region})`;
    this.now = options.now ?? Date.now;
    this.client = new S3Client({
      region: options.region,
      endpoint: options.endpoint,
      forcePathStyle: options.forcePathStyle ?? false,
      credentials: options.credentials,
      // SDK releases since 3.729 add a trailing CRC32 to every upload, which some self-hosted servers reject or store corrupted.
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
      // The idle timeout ends hung connections while leaving slow but moving transfers alone.
      requestHandler: { connectionTimeout: 5_000, socketTimeout: 60_000 },
    });
  }

  async put(key: string, body: Buffer | Readable, options: PutOptions): Promise<void> {
    validateKey(key);

    if (Buffer.isBuffer(body) || options.contentLength !== undefined) {
      await this.client.send(
        new PutObjectCommand({
          Bucket: this.bucket,
          Key: key,
          Body: body,
          ContentType: options.contentType,
          ContentLength: options.contentLength ?? (body as Buffer).length,
        }),
      );
      return;
    }

    // A stream of unknown length cannot be signed as one request, so it goes up in multipart chunks.
    const upload = new Upload({
      client: this.client,
      params: { Bucket: this.bucket, Key: key, Body: body, ContentType: options.contentType },
    });
    await upload.done();
  }

  async get(key: string): Promise<StoredObject> {
    validateKey(key);

    try {
      const response = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }));
      return {
        // In Node.js the SDK returns the HTTP response itself, a Readable.
        body: response.Body as Readable,
        contentType: response.ContentType ?? 'application/octet-stream',
        contentLength: response.ContentLength ?? 0,
      };
    } catch (error) {
      if (isNotFound(error)) throw new ObjectNotFoundError(key);
      throw error;
    }
  }

  async exists(key: string): Promise<boolean> {
    validateKey(key);

    try {
      await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: key }));
      return true;
    } catch (error) {
      if (isNotFound(error)) return false;
      throw error;
    }
  }

  async delete(key: string): Promise<void> {
    validateKey(key);

    // S3 returns success for DeleteObject on a missing key, so delete is idempotent.
    await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: key }));
  }

  async presignDownload(key: string, options: PresignDownloadOptions): Promise<string> {
    validateKey(key);
    validatePresignOptions(options);

    const command = new GetObjectCommand({
      Bucket: this.bucket,
      Key: key,
      ResponseContentDisposition: createContentDisposition(options.fileName),
      ResponseContentType: options.contentType,
    });
    return getSignedUrl(this.client, command, {
      expiresIn: options.expiresInSeconds,
      signingDate: new Date(this.now()),
    });
  }

  async check(): Promise<void> {
    try {
      // Unlike HeadBucket, a listing returns an error body whose code distinguishes a missing bucket from a bad key.
      await this.client.send(new ListObjectsV2Command({ Bucket: this.bucket, MaxKeys: 1 }), {
        abortSignal: AbortSignal.timeout(CHECK_TIMEOUT_MS),
      });
    } catch (error) {
      throw appError(
        'SERVICE_UNAVAILABLE',
        `S3 bucket "${this.bucket}" at ${this.endpointLabel} is not available: ${describeS3Error(error)}`,
      );
    }
  }

  /** Creates the bucket unless it exists already. */
  async ensureBucket(): Promise<void> {
    try {
      await this.client.send(new HeadBucketCommand({ Bucket: this.bucket }));
      return;
    } catch (error) {
      if (!isNotFound(error)) throw error;
    }

    try {
      await this.client.send(new CreateBucketCommand({ Bucket: this.bucket }));
    } catch (error) {
      // Another process may have created it between the two requests.
      if (error instanceof S3ServiceException && error.name === 'BucketAlreadyOwnedByYou') return;
      throw error;
    }
  }

  /** Closes the client's idle connections. */
  close(): void {
    this.client.destroy();
  }
}

// HEAD responses carry no error body, so a missing key there is only a 404 named NotFound.
function isNotFound(error: unknown): boolean {
  if (!(error instanceof S3ServiceException) || error.name === 'NoSuchBucket') return false;
  return error.name === 'NoSuchKey' || error.name === 'NotFound' || error.$metadata.httpStatusCode === 404;
}

function describeS3Error(error: unknown): string {
  if (error instanceof S3ServiceException) {
    return `${error.name} (HTTP ${error.$metadata.httpStatusCode ?? 'status unknown'}): ${error.message}`;
  }
  if (error instanceof Error && error.name === 'TimeoutError') return `timed out after ${CHECK_TIMEOUT_MS} ms`;
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}
