import { randomUUID } from 'node:crypto';
import type { Client } from '@temporalio/client';
import sharp, { type Metadata } from 'sharp';
import type { PrismaClient, ReferenceUpload } from '../prisma/generated/client';
import { referenceUploadWorkflowId } from '../workflows/definitions';
import type { referenceUploadRetention } from '../workflows/maintenance';
import type { Config } from './config';
import { AppError } from './errors';
import type { ObjectStorage } from './storage/types';

export const MAX_UPLOAD_BYTES = 10 * 1024 * 1024;
export const MAX_UPLOAD_SIDE = 8_192;
export const MAX_UPLOAD_PIXELS = 40_000_000;

type UploadFormat = 'png' | 'jpeg' | 'webp';

const MIME_TYPES: Record<UploadFormat, string> = { png: 'image/png', jpeg: 'image/jpeg', webp: 'image/webp' };

/** Detects PNG, JPEG or WebP from the leading bytes; the declared type and file name are not trusted. */
export function detectImageFormat(bytes: Buffer): UploadFormat | undefined {
  if (bytes.length >= 8 && bytes.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]))) return 'png';
  if (bytes.length >= 3 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) return 'jpeg';
  if (bytes.length >= 12 && bytes.toString('ascii', 0, 4) === 'RIFF' && bytes.toString('ascii', 8, 12) === 'WEBP') return 'webp';
  return undefined;
}

export interface UploadServiceDependencies {
  prisma: PrismaClient;
  storage: ObjectStorage;
  temporal: Client;
  config: Pick<Config, 'REFERENCE_RETENTION' | 'TEMPORAL_TASK_QUEUE'>;
}

/**
 * Accepts a reference image: checks type, size and pixel count from the header
 * before decoding anything, re-encodes it (which drops EXIF, GPS and other
 * metadata), stores it and schedules its deletion after the retention period.
 */
export async function storeReferenceUpload(deps: UploadServiceDependencies, accountId: string, bytes: Buffer): Promise<ReferenceUpload> {
  if (bytes.length === 0) throw new AppError('VALIDATION_FAILED', 'The upload is empty');
  if (bytes.length > MAX_UPLOAD_BYTES) {
    throw new AppError('PAYLOAD_TOO_LARGE', `Uploads are limited to ${MAX_UPLOAD_BYTES} bytes`, { maxBytes: MAX_UPLOAD_BYTES });
  }

  const format = detectImageFormat(bytes);
  if (!format) throw new AppError('UNSUPPORTED_MEDIA_TYPE', 'Only PNG, JPEG and WebP images are accepted', { accepted: Object.values(MIME_TYPES) });

  const metadata = await readHeader(bytes);
  const width = metadata.width ?? 0;
  const height = metadata.height ?? 0;
  if (width < 1 || height < 1 || width > MAX_UPLOAD_SIDE || height > MAX_UPLOAD_SIDE || width * height > MAX_UPLOAD_PIXELS) {
    throw new AppError('VALIDATION_FAILED', `Images must be at most ${MAX_UPLOAD_SIDE} pixels a side and ${MAX_UPLOAD_PIXELS} pixels in all`, {
      width,
      height,
    });
  }

  let clean: Buffer;
  try {
    clean = await sharp(bytes, { limitInputPixels: MAX_UPLOAD_PIXELS, failOn: 'error' }).rotate().toFormat(format).toBuffer();
  } catch {
    throw new AppError('VALIDATION_FAILED', 'The image could not be decoded');
  }

  const id = randomUUID();
  const objectKey = `uploads/${accountId}/${id}.${format === 'jpeg' ? 'jpg' : format}`;
  const expiresAt = new Date(Date.now() + deps.config.REFERENCE_RETENTION);
  await deps.storage.put(objectKey, clean, { contentType: MIME_TYPES[format], contentLength: clean.length });
  const upload = await deps.prisma.referenceUpload.create({
    data: { id, accountId, objectKey, mimeType: MIME_TYPES[format], width, height, sizeBytes: clean.length, expiresAt },
  });

  await deps.temporal.workflow.start<typeof referenceUploadRetention>('referenceUploadRetention', {
    workflowId: referenceUploadWorkflowId(id),
    taskQueue: deps.config.TEMPORAL_TASK_QUEUE,
    args: [{ uploadId: id, retainForMs: deps.config.REFERENCE_RETENTION }],
  });
  return upload;
}

async function readHeader(bytes: Buffer): Promise<Metadata> {
  try {
    // metadata() parses the header only; no pixels are decoded here.
    return await sharp(bytes, { limitInputPixels: false }).metadata();
  } catch {
    throw new AppError('VALIDATION_FAILED', 'The image header could not be read');
  }
}

export function serializeUpload(upload: ReferenceUpload) {
  return {
    id: upload.id,
    mimeType: upload.mimeType,
    width: upload.width,
    height: upload.height,
    sizeBytes: upload.sizeBytes,
    createdAt: upload.createdAt.toISOString(),
    expiresAt: upload.expiresAt.toISOString(),
    expired: upload.deletedAt !== null || upload.expiresAt <= new Date(),
  };
}
