import { appError } from '../../lib/errors';

/**
 * Turns a requested size (`1024x768`) or aspect ratio (`16:9`) into pixel
 * dimensions every provider accepts: multiples of 64 within 256–2048.
 */

export const SIZE_STEP = 64;
export const MIN_SIDE = 256;
export const MAX_SIDE = 2048;
export const DEFAULT_LONG_SIDE = 1024;

export interface ImageSize {
  width: number;
  height: number;
}

export interface SizeInput {
  /** Exact dimensions, `WIDTHxHEIGHT`. */
  size?: string;
  /** Proportions, `W:H`; the long side becomes `longSide`. */
  aspectRatio?: string;
  longSide?: number;
}

/** Resolves the input into width × height, or throws VALIDATION_FAILED naming the field. */
export function resolveSize(input: SizeInput = {}): ImageSize {
  if (input.size !== undefined && input.aspectRatio !== undefined) {
    throw invalid('size', 'give either size or aspectRatio, not both');
  }
  if (input.size !== undefined) return parseSize(input.size);

  const longSide = input.longSide ?? DEFAULT_LONG_SIDE;
  checkSide('longSide', longSide);
  if (input.aspectRatio === undefined) return { width: longSide, height: longSide };

  return sizeForAspectRatio(input.aspectRatio, longSide);
}

/** Parses `WIDTHxHEIGHT`, each side a multiple of 64 within 256–2048. */
export function parseSize(text: string): ImageSize {
  const match = /^\s*(\d{1,5})\s*[xX×]\s*(\d{1,5})\s*$/.exec(text);
  if (!match) throw invalid('size', `"${text}" is not a size; use WIDTHxHEIGHT, for example 1024x1024`);

  const width = Number(match[1]);
  const height = Number(match[2]);
  checkSide('size', width);
  checkSide('size', height);
  return { width, height };
}

/** Gives the long side `longSide` and rounds the short side to the nearest multiple of 64. */
export function sizeForAspectRatio(text: string, longSide: number = DEFAULT_LONG_SIDE): ImageSize {
  const match = /^\s*(\d{1,4}(?:\.\d{1,3})?)\s*:\s*(\d{1,4}(?:\.\d{1,3})?)\s*$/.exec(text);
  const across = Number(match?.[1]);
  const down = Number(match?.[2]);
  if (!match || !(across > 0) || !(down > 0)) {
    throw invalid('aspectRatio', `"${text}" is not an aspect ratio; use W:H, for example 16:9`);
  }

  const shortSide = Math.round((longSide * Math.min(across, down)) / Math.max(across, down) / SIZE_STEP) * SIZE_STEP;
  if (shortSide < MIN_SIDE) {
    throw invalid('aspectRatio', `${text} is too elongated: its short side would be below ${MIN_SIDE} pixels at a long side of ${longSide}`);
  }

  return across >= down ? { width: longSide, height: shortSide } : { width: shortSide, height: longSide };
}

function checkSide(field: string, side: number): void {
  if (!Number.isInteger(side) || side < MIN_SIDE || side > MAX_SIDE) {
    throw invalid(field, `${side} pixels is out of range; each side must be between ${MIN_SIDE} and ${MAX_SIDE}`);
  }
  if (side % SIZE_STEP !== 0) {
    throw invalid(field, `${side} pixels is not a multiple of ${SIZE_STEP}`);
  }
}

function invalid(field: string, message: string) {
  return appError('VALIDATION_FAILED', message, { field });
}

/** Formats dimensions the way OpenAI-compatible APIs expect them. */
export function formatSize(size: ImageSize): string {
  return `${size.width}x${size.height}`;
}
