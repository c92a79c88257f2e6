import { createHash } from 'node:crypto';
import sharp from 'sharp';
import type { GeneratedImage, GenerationRequest, ImageProvider } from './types';

/**
 * A provider that needs no network. It paints an abstract landscape (a
 * gradient sky, soft glowing orbs, rolling hills) with a palette and layout
 * taken from a hash of the prompt. The product thus works out of the box, and
 * tests get real, deterministic PNGs.
 */

export interface RenderInput {
  prompt: string;
  negativePrompt?: string;
  /** Part of the hash, so two models give two looks for one prompt. */
  model?: string;
  seed: number;
  width: number;
  height: number;
}

/** Renders `count` images. Image `index` uses seed + index, so each one differs. */
export async function renderImages(input: RenderInput & { count: number }): Promise<GeneratedImage[]> {
  const indexes = Array.from({ length: input.count }, (_, index) => index);
  return Promise.all(indexes.map(async (index) => ({ data: await renderImage({ ...input, seed: input.seed + index }), mimeType: 'image/png' as const })));
}

/** Renders one PNG of exactly width × height. The same input gives the same bytes. */
export async function renderImage(input: RenderInput): Promise<Buffer> {
  const random = new HashRandom(JSON.stringify([input.prompt, input.negativePrompt ?? '', input.model ?? '', input.seed]));
  const scene = composeScene(random);

  // The picture is all soft shapes, so painting at half size and upscaling loses nothing visible and saves most of the time.
  const paintWidth = Math.ceil(input.width / 2);
  const paintHeight = Math.ceil(input.height / 2);
  const pixels = paint(scene, paintWidth, paintHeight);

  // Fast zlib settings: the gradients compress well anyway, and speed matters more than bytes here.
  return sharp(pixels, { raw: { width: paintWidth, height: paintHeight, channels: 3 } })
    .resize(input.width, input.height, { fit: 'fill', kernel: 'cubic' })
    .png({ compressionLevel: 4, adaptiveFiltering: false })
    .toBuffer();
}

/** Creates the built-in renderer provider, which completes every request synchronously. */
export function createBuiltinProvider(id: string): ImageProvider {
  return {
    id,
    kind: 'builtin',
    async generate(request: GenerationRequest, options = {}) {
      options.signal?.throwIfAborted();

      // NOTE: reference images are accepted but do not influence the picture.
      const images = await renderImages({
        prompt: request.prompt,
        model: request.model,
        seed: request.seed,
        width: request.width,
        height: request.height,
        count: request.count,
        ...(request.negativePrompt === undefined ? {} : { negativePrompt: request.negativePrompt }),
      });
      return { kind: 'completed', images };
    },
  };
}

type Rgb = [number, number, number];

interface Orb {
  x: number;
  y: number;
  radius: number;
  color: Rgb;
  strength: number;
}

interface Hill {
  base: number;
  amplitude: number;
  frequency: number;
  phase: number;
  color: Rgb;
}

interface Scene {
  skyTop: Rgb;
  skyBottom: Rgb;
  tilt: number;
  orbs: Orb[];
  hills: Hill[];
}

function composeScene(random: HashRandom): Scene {
  const hue = random.next() * 360;
  const spread = 20 + random.next() * 140;
  const hueAt = (step: number) => (hue + step * spread) % 360;

  const skyTop = hsl(hueAt(0), 0.45 + random.next() * 0.3, 0.18 + random.next() * 0.2);
  const skyBottom = hsl(hueAt(1), 0.55 + random.next() * 0.35, 0.55 + random.next() * 0.2);

  const orbs = Array.from({ length: 3 + Math.floor(random.next() * 4) }, () => ({
    x: random.next(),
    y: 0.1 + random.next() * 0.55,
    radius: 0.08 + random.next() * 0.3,
    color: hsl(hueAt(random.next() * 3), 0.6 + random.next() * 0.35, 0.6 + random.next() * 0.3),
    strength: 0.35 + random.next() * 0.5,
  }));

  const hillCount = 2 + Math.floor(random.next() * 3);
  const hills = Array.from({ length: hillCount }, (_, layer) => ({
    base: 0.55 + ((layer + 1) / (hillCount + 1)) * 0.4,
    amplitude: 0.02 + random.next() * 0.08,
    frequency: 0.8 + random.next() * 2.4,
    phase: random.next() * Math.PI * 2,
    color: hsl(hueAt(2 + random.next()), 0.35 + random.next() * 0.3, 0.32 - (layer / hillCount) * 0.2),
  }));

  return { skyTop, skyBottom, tilt: (random.next() - 0.5) * 0.6, orbs, hills };
}

/** Paints the scene into an RGB buffer, in normalised coordinates so every size shows the same picture. */
function paint(scene: Scene, width: number, height: number): Buffer {
  const red = new Float32Array(width * height);
  const green = new Float32Array(width * height);
  const blue = new Float32Array(width * height);

  for (let y = 0; y < height; y += 1) {
    for (let x = 0; x < width; x += 1) {
      const t = clamp01(y / height + (x / width - 0.5) * scene.tilt);
      const offset = y * width + x;
      red[offset] = mix(scene.skyTop[0], scene.skyBottom[0], t);
      green[offset] = mix(scene.skyTop[1], scene.skyBottom[1], t);
      blue[offset] = mix(scene.skyTop[2], scene.skyBottom[2], t);
    }
  }

  const scale = Math.min(width, height);
  for (const orb of scene.orbs) {
    const centerX = orb.x * width;
    const centerY = orb.y * height;
    const radius = orb.radius * scale;
    const left = Math.max(0, Math.floor(centerX - radius));
    const right = Math.min(width, Math.ceil(centerX + radius));
    const top = Math.max(0, Math.floor(centerY - radius));
    const bottom = Math.min(height, Math.ceil(centerY + radius));

    for (let y = top; y < bottom; y += 1) {
      for (let x = left; x < right; x += 1) {
        const dx = (x - centerX) / radius;
        const dy = (y - centerY) / radius;
        const falloff = 1 - (dx * dx + dy * dy);
        if (falloff <= 0) continue;
        const alpha = orb.strength * falloff * falloff;
        const offset = y * width + x;
        red[offset] = mix(red[offset]!, orb.color[0], alpha);
        green[offset] = mix(green[offset]!, orb.color[1], alpha);
        blue[offset] = mix(blue[offset]!, orb.color[2], alpha);
      }
    }
  }

  for (const hill of scene.hills) {
    for (let x = 0; x < width; x += 1) {
      const across = x / width;
      const ridge = hill.base - hill.amplitude * (Math.sin(across * hill.frequency * Math.PI * 2 + hill.phase) + 0.5 * Math.sin(across * hill.frequency * 5.3 + hill.phase * 2));
      const edge = Math.max(0, ridge * height);
      const start = Math.floor(edge);
      for (let y = start; y < height; y += 1) {
        // The ridge pixel is blended by coverage to smooth the outline, and a fade downwards adds depth.
        const coverage = y === start ? 1 - (edge - start) : 1;
        const shade = 1 - 0.25 * ((y - start) / height);
        const offset = y * width + x;
        red[offset] = mix(red[offset]!, hill.color[0] * shade, coverage);
        green[offset] = mix(green[offset]!, hill.color[1] * shade, coverage);
        blue[offset] = mix(blue[offset]!, hill.color[2] * shade, coverage);
      }
    }
  }

  const pixels = Buffer.allocUnsafe(width * height * 3);
  for (let y = 0; y < height; y += 1) {
    const dy = y / height - 0.5;
    for (let x = 0; x < width; x += 1) {
      const dx = x / width - 0.5;
      const vignette = 1 - 0.45 * (dx * dx + dy * dy);
      const offset = y * width + x;
      pixels[offset * 3] = toByte(red[offset]! * vignette);
      pixels[offset * 3 + 1] = toByte(green[offset]! * vignette);
      pixels[offset * 3 + 2] = toByte(blue[offset]! * vignette);
    }
  }
  return pixels;
}

/** Deterministic random numbers in [0, 1), read from SHA-256 digests of the seed text and a counter. */
class HashRandom {
  private block = Buffer.alloc(0);
  private position = 0;
  private counter = 0;

  constructor(private readonly seedText: string) {}

  next(): number {
    if (this.position + 4 > this.block.length) {
      this.block = createHash('sha256').update(`${this.counter}\0${this.seedText}`).digest();
      this.counter += 1;
      this.position = 0;
    }
    const value = this.block.readUInt32BE(this.position) / 2 ** 32;
    this.position += 4;
    return value;
  }
}

function hsl(hue: number, saturation: number, lightness: number): Rgb {
  const chroma = (1 - Math.abs(2 * lightness - 1)) * saturation;
  const segment = hue / 60;
  const second = chroma * (1 - Math.abs((segment % 2) - 1));
  const match = lightness - chroma / 2;
  const sectors: Rgb[] = [
    [chroma, second, 0],
    [second, chroma, 0],
    [0, chroma, second],
    [0, second, chroma],
    [second, 0, chroma],
    [chroma, 0, second],
  ];
  const [r, g, b] = sectors[Math.floor(segment) % 6]!;
  return [(r + match) * 255, (g + match) * 255, (b + match) * 255];
}

function mix(from: number, to: number, amount: number): number {
  return from + (to - from) * amount;
}

function clamp01(value: number): number {
  return Math.min(1, Math.max(0, value));
}

function toByte(value: number): number {
  return Math.min(255, Math.max(0, Math.round(value)));
}
