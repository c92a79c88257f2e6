import sharp from 'sharp';
import { createBuiltinProvider, renderImage, renderImages } from '../../activities/providers/builtin-renderer';
import { resolveSize } from '../../activities/providers/sizes';

const base = { prompt: 'a lighthouse at dusk', seed: 42, width: 512, height: 512 };

describe('built-in renderer', () => {
  test('renders a PNG of the exact size', async () => {
    const png = await renderImage({ ...base, width: 1024, height: 576 });

    const metadata = await sharp(png).metadata();
    expect(metadata.format).toBe('png');
    expect(metadata.width).toBe(1024);
    expect(metadata.height).toBe(576);
  });

  test('renders the size of an aspect ratio', async () => {
    const size = resolveSize({ aspectRatio: '3:4' });

    const png = await renderImage({ ...base, ...size });

    const metadata = await sharp(png).metadata();
    expect(metadata.width).toBe(768);
    expect(metadata.height).toBe(1024);
  });

  test('gives identical bytes for identical input', async () => {
    const first = await renderImage(base);

    const second = await renderImage({ ...base });

    expect(second.equals(first)).toBe(true);
  });

  test('changes with the seed', async () => {
    const first = await renderImage(base);

    const second = await renderImage({ ...base, seed: 43 });

    expect(second.equals(first)).toBe(false);
  });

  test('changes with the negative prompt', async () => {
    const first = await renderImage(base);

    const second = await renderImage({ ...base, negativePrompt: 'fog' });

    expect(second.equals(first)).toBe(false);
  });

  test('renders distinct images per count', async () => {
    const images = await renderImages({ ...base, count: 3 });

    const distinct = new Set(images.map((image) => image.data.toString('base64')));
    expect(images).toHaveLength(3);
    expect(distinct.size).toBe(3);
    expect(images.every((image) => image.mimeType === 'image/png')).toBe(true);
  });

  test('renders image n with seed plus n', async () => {
    const images = await renderImages({ ...base, count: 2 });

    const second = await renderImage({ ...base, seed: base.seed + 1 });

    expect(images[1]?.data.equals(second)).toBe(true);
  });

  test('completes synchronously as provider', async () => {
    const provider = createBuiltinProvider('builtin');

    const result = await provider.generate({ ...base, model: 'novart-basic', count: 1, referenceImages: [] });

    expect(result.kind).toBe('completed');
    const images = result.kind === 'completed' ? result.images : [];
    expect(images).toHaveLength(1);
    expect((await sharp(images[0]!.data).metadata()).width).toBe(512);
  });
});
