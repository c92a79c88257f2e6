import { AppError } from '../../lib/errors';
import { formatSize, resolveSize } from '../../activities/providers/sizes';

function rejection(run: () => unknown): AppError {
  try {
    run();
  } catch (error) {
    if (error instanceof AppError) return error;
    throw error;
  }
  throw new Error('expected a rejection');
}

describe('resolveSize', () => {
  test('keeps an exact size', () => {
    const size = resolveSize({ size: '1536x1024' });

    expect(size).toEqual({ width: 1536, height: 1024 });
  });

  test('defaults to a 1024 square', () => {
    const size = resolveSize();

    expect(size).toEqual({ width: 1024, height: 1024 });
  });

  test('turns 16:9 into a landscape size', () => {
    const size = resolveSize({ aspectRatio: '16:9' });

    expect(size).toEqual({ width: 1024, height: 576 });
  });

  test('turns 9:16 into a portrait size', () => {
    const size = resolveSize({ aspectRatio: '9:16' });

    expect(size).toEqual({ width: 576, height: 1024 });
  });

  test('rounds the short side to a multiple of 64', () => {
    const size = resolveSize({ aspectRatio: '4:3' });

    expect(size).toEqual({ width: 1024, height: 768 });
  });

  test('honours a larger long side', () => {
    const size = resolveSize({ aspectRatio: '16:9', longSide: 2048 });

    expect(size).toEqual({ width: 2048, height: 1152 });
  });

  test('formats a size as WIDTHxHEIGHT', () => {
    const text = formatSize({ width: 768, height: 1344 });

    expect(text).toBe('768x1344');
  });

  test('rejects a side that is not a multiple of 64', () => {
    const error = rejection(() => resolveSize({ size: '1000x1000' }));

    expect(error.code).toBe('VALIDATION_FAILED');
    expect(error.message).toContain('multiple of 64');
    expect(error.details).toEqual({ field: 'size' });
  });

  test('rejects a side below 256', () => {
    const error = rejection(() => resolveSize({ size: '128x1024' }));

    expect(error.code).toBe('VALIDATION_FAILED');
    expect(error.message).toContain('between 256 and 2048');
  });

  test('rejects a side above 2048', () => {
    const error = rejection(() => resolveSize({ size: '4096x1024' }));

    expect(error.code).toBe('VALIDATION_FAILED');
  });

  test('rejects text that is not a size', () => {
    const error = rejection(() => resolveSize({ size: 'large' }));

    expect(error.message).toContain('WIDTHxHEIGHT');
  });

  test('rejects text that is not an aspect ratio', () => {
    const error = rejection(() => resolveSize({ aspectRatio: '16/9' }));

    expect(error.details).toEqual({ field: 'aspectRatio' });
    expect(error.message).toContain('W:H');
  });

  test('rejects a zero in an aspect ratio', () => {
    const error = rejection(() => resolveSize({ aspectRatio: '0:1' }));

    expect(error.code).toBe('VALIDATION_FAILED');
  });

  test('rejects an aspect ratio too elongated for the bounds', () => {
    const error = rejection(() => resolveSize({ aspectRatio: '10:1' }));

    expect(error.message).toContain('too elongated');
  });

  test('rejects a size and an aspect ratio together', () => {
    const error = rejection(() => resolveSize({ size: '1024x1024', aspectRatio: '1:1' }));

    expect(error.message).toContain('not both');
  });
});
