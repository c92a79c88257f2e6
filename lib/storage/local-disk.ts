import { createHmac, randomUUID, timingSafeEqual } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';

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

export interface LocalDiskStorageOptions {
  rootDir: string;
  /** Base URL of the product; download links point at `${publicUrl}/files/<key>`. */
  publicUrl: string;
  /** HMAC-SHA256 key of download links. */
  signingSecret: string;
  /** Current time in milliseconds; replaceable to sign links in the past. */
  now?: () => number;
}

/** The verified parameters of a download link. */
export interface VerifiedDownload {
  key: string;
  fileName: string;
  contentType?: string;
}

interface ObjectMetadata {
  contentType: string;
}

const DEFAULT_CONTENT_TYPE = 'application/octet-stream';

/** The route prefix the download router serves. */
export const DOWNLOAD_ROUTE_PREFIX = '/files';

/**
 * Stores objects as files under `rootDir`: bodies in `objects/`, content types
 * in JSON files under `metadata/`, and partial writes in `tmp/` until they are
 * renamed into place, so readers never see a half-written object.
 *
 * NOTE: a key cannot be both an object and a prefix of another key ("a" and "a/b"),
 * which S3 allows, because both would map to the same path.
 */
export class LocalDiskStorage implements ObjectStorage {
  readonly rootDir: string;
  private readonly objectsDir: string;
  private readonly metadataDir: string;
  private readonly tmpDir: string;
  private readonly publicUrl: string;
  private readonly signingSecret: string;
  private readonly now: () => number;

  constructor(options: LocalDiskStorageOptions) {
    if (options.signingSecret.length < 16) {
      throw new Error('LocalDiskStorage: signingSecret must be at least 16 characters');
    }

    this.rootDir = path.resolve(options.rootDir);
    this.objectsDir = path.join(this.rootDir, 'objects');
    this.metadataDir = path.join(this.rootDir, 'metadata');
    this.tmpDir = path.join(this.rootDir, 'tmp');
    this.publicUrl = options.publicUrl.replace(/\/+$/, '');
    this.signingSecret = options.signingSecret;
    this.now = options.now ?? Date.now;
  }

  async put(key: string, body: Buffer | Readable, options: PutOptions): Promise<void> {
    validateKey(key);
    await fs.mkdir(this.tmpDir, { recursive: true });

    const bodyTemp = this.tempPath();
    const metadataTemp = this.tempPath();
    try {
      await pipeline(Buffer.isBuffer(body) ? Readable.from([body]) : body, createWriteStream(bodyTemp));
      await syncFile(bodyTemp);

      const { size } = await fs.stat(bodyTemp);
      const expectedLength = options.contentLength ?? (Buffer.isBuffer(body) ? body.length : undefined);
      if (expectedLength !== undefined && size !== expectedLength) {
        throw appError('VALIDATION_FAILED', `Body of ${key} has ${size} bytes, but contentLength is ${expectedLength}`, {
          key,
        });
      }

      const metadata: ObjectMetadata = { contentType: options.contentType };
      await fs.writeFile(metadataTemp, JSON.stringify(metadata));

      // Metadata goes first, so a reader that finds the new body also finds its content type.
      await this.moveIntoPlace(metadataTemp, this.metadataPath(key));
      await this.moveIntoPlace(bodyTemp, this.objectPath(key));
    } finally {
      await fs.rm(bodyTemp, { force: true });
      await fs.rm(metadataTemp, { force: true });
    }
  }

  async get(key: string): Promise<StoredObject> {
    validateKey(key);

    // Reading through one open handle keeps size and content consistent if the object is replaced meanwhile.
    let handle: fs.FileHandle;
    try {
      handle = await fs.open(this.objectPath(key), 'r');
    } catch (error) {
      if (isMissingPathError(error)) throw new ObjectNotFoundError(key);
      throw error;
    }

    try {
      const stats = await handle.stat();
      if (!stats.isFile()) throw new ObjectNotFoundError(key);

      const metadata = await this.readMetadata(key);
      return {
        body: handle.createReadStream(),
        contentType: metadata?.contentType ?? DEFAULT_CONTENT_TYPE,
        contentLength: stats.size,
      };
    } catch (error) {
      await handle.close();
      throw error;
    }
  }

  async exists(key: string): Promise<boolean> {
    validateKey(key);

    try {
      const stats = await fs.stat(this.objectPath(key));
      return stats.isFile();
    } catch (error) {
      if (isMissingPathError(error)) return false;
      throw error;
    }
  }

  async delete(key: string): Promise<void> {
    validateKey(key);

    await fs.rm(this.objectPath(key), { force: true });
    await fs.rm(this.metadataPath(key), { force: true });

    await removeEmptyParents(path.dirname(this.objectPath(key)), this.objectsDir);
    await removeEmptyParents(path.dirname(this.metadataPath(key)), this.metadataDir);
  }

  async presignDownload(key: string, options: PresignDownloadOptions): Promise<string> {
    validateKey(key);
    validatePresignOptions(options);

    const expires = Math.floor(this.now() / 1000) + options.expiresInSeconds;
    const query = new URLSearchParams({ expires: String(expires), name: options.fileName });
    if (options.contentType !== undefined) query.set('type', options.contentType);
    query.set('sig', this.sign(key, String(expires), options.fileName, options.contentType));

    const encodedKey = key.split('/').map(encodeURIComponent).join('/');
    return `${this.publicUrl}${DOWNLOAD_ROUTE_PREFIX}/${encodedKey}?${query.toString()}`;
  }

  /**
   * Checks the signature and expiry of a download link from its decoded key and
   * query parameters. Throws FORBIDDEN for a missing or wrong signature and GONE
   * for an expired link. The signature is checked first, so a forged link never
   * reveals whether it would have expired.
   */
  verifyDownload(key: string, query: Record<string, unknown>): VerifiedDownload {
    const { expires, name: fileName, type: contentType, sig: signature } = query;
    if (typeof expires !== 'string' || typeof fileName !== 'string' || typeof signature !== 'string') {
      throw appError('FORBIDDEN', 'Download link is incomplete: expires, name and sig are required');
    }
    if (contentType !== undefined && typeof contentType !== 'string') {
      throw appError('FORBIDDEN', 'Download link has an invalid type parameter');
    }

    const expectedSignature = Buffer.from(this.sign(key, expires, fileName, contentType));
    const providedSignature = Buffer.from(signature);
    if (
      providedSignature.length !== expectedSignature.length ||
      !timingSafeEqual(providedSignature, expectedSignature)
    ) {
      throw appError('FORBIDDEN', 'Download link signature is invalid');
    }

    if (!/^\d+$/.test(expires) || Number(expires) * 1000 <= this.now()) {
      throw appError('GONE', 'Download link has expired. Request a new one.');
    }

    validateKey(key);
    return { key, fileName, contentType };
  }

  async check(): Promise<void> {
    try {
      await fs.mkdir(this.objectsDir, { recursive: true });
      await fs.mkdir(this.metadataDir, { recursive: true });
      await fs.mkdir(this.tmpDir, { recursive: true });

      const probe = this.tempPath();
      await fs.writeFile(probe, 'probe');
      await fs.rm(probe);
    } catch (error) {
      throw appError('SERVICE_UNAVAILABLE', `Local storage directory ${this.rootDir} is not writable: ${errorMessage(error)}`);
    }
  }

  private sign(key: string, expires: string, fileName: string, contentType: string | undefined): string {
    // A JSON array separates the fields unambiguously, whatever characters they contain.
    const payload = JSON.stringify([key, expires, fileName, contentType ?? null]);
    return createHmac('sha256', this.signingSecret).update(payload).digest('base64url');
  }

  private async moveIntoPlace(source: string, target: string): Promise<void> {
    await fs.mkdir(path.dirname(target), { recursive: true });
    try {
      await fs.rename(source, target);
    } catch (error) {
      // A concurrent delete may have removed the freshly created, still empty parent folder.
      if (!isMissingPathError(error)) throw error;
      await fs.mkdir(path.dirname(target), { recursive: true });
      await fs.rename(source, target);
    }
  }

  private async readMetadata(key: string): Promise<ObjectMetadata | undefined> {
    try {
      return JSON.parse(await fs.readFile(this.metadataPath(key), 'utf8')) as ObjectMetadata;
    } catch (error) {
      if (isMissingPathError(error)) return undefined;
      throw error;
    }
  }

  private objectPath(key: string): string {
    return path.join(this.objectsDir, ...key.split('/'));
  }

  private metadataPath(key: string): string {
    return `${path.join(this.metadataDir, ...key.split('/'))}.json`;
  }

  private tempPath(): string {
    return path.join(this.tmpDir, `${randomUUID()}.tmp`);
  }
}

async function syncFile(filePath: string): Promise<void> {
  const handle = await fs.open(filePath, 'r+');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** Removes `directory` and its parents while they are empty, stopping at `stopAt`. */
async function removeEmptyParents(directory: string, stopAt: string): Promise<void> {
  let current = directory;
  while (current.startsWith(stopAt + path.sep)) {
    try {
      await fs.rmdir(current);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ENOTEMPTY' || code === 'EEXIST' || code === 'ENOENT') return;
      throw error;
    }
    current = path.dirname(current);
  }
}

function isMissingPathError(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  return code === 'ENOENT' || code === 'ENOTDIR' || code === 'EISDIR';
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
