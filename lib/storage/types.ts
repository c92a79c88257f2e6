import type { Readable } from 'node:stream';

import { AppError } from '../errors';

export interface PutOptions {
  contentType: string;
  /** Size in bytes; when given for a stream, a body of another size is rejected. */
  contentLength?: number;
}

export interface StoredObject {
  body: Readable;
  contentType: string;
  contentLength: number;
}

export interface PresignDownloadOptions {
  expiresInSeconds: number;
  /** File name the browser saves the download under; any Unicode text. */
  fileName: string;
  /** Content type of the response; defaults to the stored one. */
  contentType?: string;
}

/** Object storage for generated images, previews and uploads, addressed by slash-separated keys. */
export interface ObjectStorage {
  /** Stores `body` under `key`, replacing any existing object. */
  put(key: string, body: Buffer | Readable, options: PutOptions): Promise<void>;

  /** Opens an object for reading; throws ObjectNotFoundError when the key does not exist. */
  get(key: string): Promise<StoredObject>;

  exists(key: string): Promise<boolean>;

  /** Deletes an object; deleting a missing key succeeds. */
  delete(key: string): Promise<void>;

  /** Returns an absolute URL that downloads the object as an attachment until it expires. */
  presignDownload(key: string, options: PresignDownloadOptions): Promise<string>;

  /** Checks that the storage is reachable and writable; throws with the reason when it is not. */
  check(): Promise<void>;
}

/** Raised when an object key does not exist. */
export class ObjectNotFoundError extends AppError {
  constructor(readonly key: string) {
    super('NOT_FOUND', `Object not found: ${key}`, { key });
    this.name = 'ObjectNotFoundError';
  }
}

/** S3 limits keys to 1024 bytes of UTF-8; the local driver keeps the same limit. */
export const MAX_KEY_BYTES = 1024;

/** Presigned S3 URLs (signature version 4) are valid for at most 7 days. */
export const MAX_PRESIGN_SECONDS = 7 * 24 * 3600;

// C0 and C1 control characters and DEL.
const CONTROL_CHARACTERS = /[\u0000-\u001f\u007f-\u009f]/;

/**
 * Throws a VALIDATION_FAILED AppError unless `key` is a relative, slash-separated
 * path without empty, `.` or `..` segments, backslashes or control characters.
 */
export function validateKey(key: string): void {
  const problem = findKeyProblem(key);
  if (problem) {
    throw new AppError('VALIDATION_FAILED', `Invalid object key ${JSON.stringify(key)}: ${problem}`, { key });
  }
}

function findKeyProblem(key: string): string | undefined {
  if (typeof key !== 'string' || key === '') return 'must be a non-empty string';
  if (Buffer.byteLength(key, 'utf8') > MAX_KEY_BYTES) return `must be at most ${MAX_KEY_BYTES} bytes`;
  if (CONTROL_CHARACTERS.test(key)) return 'must not contain control characters';
  if (key.includes('\\')) return 'must not contain backslashes';
  if (key.startsWith('/')) return 'must not start with "/"';

  const segments = key.split('/');
  if (segments.some((segment) => segment === '')) return 'must not contain empty segments or end with "/"';
  if (segments.some((segment) => segment === '.' || segment === '..')) return 'must not contain "." or ".." segments';

  return undefined;
}

/** Throws a VALIDATION_FAILED AppError for an empty file name or a link lifetime outside 1 second to 7 days. */
export function validatePresignOptions(options: PresignDownloadOptions): void {
  const { expiresInSeconds, fileName } = options;
  if (!Number.isInteger(expiresInSeconds) || expiresInSeconds < 1 || expiresInSeconds > MAX_PRESIGN_SECONDS) {
    throw new AppError(
      'VALIDATION_FAILED',
      `Invalid link lifetime ${expiresInSeconds}: use a whole number of seconds from 1 to ${MAX_PRESIGN_SECONDS}`,
    );
  }
  if (typeof fileName !== 'string' || fileName.trim() === '') {
    throw new AppError('VALIDATION_FAILED', 'Invalid download file name: must be a non-empty string');
  }
}
