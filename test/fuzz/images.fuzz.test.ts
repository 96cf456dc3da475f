// Fuzz: the image decoders (PNG, JPEG, GIF, BMP, as DecodeImage and friends
// call them) over mutated real images from ../shared/fixtures/images and
// crafted headers of random sizes. Each input decodes or fails with
// INVALID_ARGUMENT; never another exception, a crash or a hang; and nothing
// larger than --max_image_pixels is ever decoded.
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StatusError } from '../../runtime/errors.js';
import { decodeBmp } from '../../runtime/kernels/image_bmp.js';
import { sniffImageFormat, type DecodedImage } from '../../runtime/kernels/image_codecs.js';
import { decodeGif } from '../../runtime/kernels/image_gif.js';
import { decodeJpeg } from '../../runtime/kernels/image_jpeg.js';
import { imageLimits, setImageLimits, type ImageLimits } from '../../runtime/kernels/image_limits.js';
import { decodePng } from '../../runtime/kernels/image_png.js';
import { craftedGif, craftedJpeg, craftedPng } from '../helpers/crafted_images.js';
import { expectStatusOrResult, mutatedBytes } from './fuzz_helpers.js';

const IMAGES = path.resolve(import.meta.dirname, '../../../shared/fixtures/images');
const seeds = fs.readdirSync(IMAGES).map((f) => new Uint8Array(fs.readFileSync(path.join(IMAGES, f))));

// A small pixel limit keeps every decode cheap and lets crafted sizes cross it.
const LIMITS: ImageLimits = { maxPixels: 1 << 16, maxGifFrames: 50 };
let saved: ImageLimits;
beforeAll(() => {
  saved = imageLimits();
  setImageLimits(LIMITS);
});
afterAll(() => setImageLimits(saved));

/** Decodes as DecodeImage would (format by magic bytes), with a few channel and depth choices. */
function decodeAll(bytes: Uint8Array, variant: number): DecodedImage[] {
  switch (sniffImageFormat(bytes)) {
    case 'png':
      return [decodePng(bytes, [0, 1, 3, 4][variant % 4], variant % 2 ? 16 : 8)];
    case 'jpeg':
      return [decodeJpeg(bytes, { channels: [0, 1, 3][variant % 3], ratio: [1, 2, 4, 8][variant % 4], fancyUpscaling: variant % 2 === 0 })];
    case 'gif':
      return [decodeGif(bytes, variant % 2 === 0)];
    case 'bmp':
      return [decodeBmp(bytes, [0, 3, 4][variant % 3])];
    default:
      return [];
  }
}

function endsWell(bytes: Uint8Array, variant: number): void {
  const r = expectStatusOrResult(() => decodeAll(bytes, variant), ['INVALID_ARGUMENT'], () => Buffer.from(bytes).toString('hex'));
  if (r instanceof StatusError) return;
  for (const img of r) {
    expect(img.width * img.height * img.frames).toBeLessThanOrEqual(LIMITS.maxPixels);
    expect(img.data.length).toBe(img.frames * img.height * img.width * img.channels);
  }
}

describe('image decoder fuzz', () => {
  it('mutated fixture images (PNG, JPEG, GIF, BMP)', () => {
    fc.assert(
      fc.property(fc.constantFrom(...seeds).chain((s) => mutatedBytes(s)), fc.nat(), (bytes, variant) => endsWell(bytes, variant)),
      { numRuns: 2500 },
    );
  }, 60_000);

  it('crafted headers of any size, frame count and image data', () => {
    const dim = fc.oneof(fc.integer({ min: 0, max: 70_000 }), fc.integer({ min: 0, max: 2 ** 32 - 1 }), fc.integer({ min: 1, max: 64 }));
    fc.assert(
      fc.property(
        fc.constantFrom('png', 'jpeg', 'gif'),
        dim,
        dim,
        fc.integer({ min: 1, max: 80 }),
        fc.uint8Array({ maxLength: 64 }),
        fc.constantFrom(0, 2, 3, 4, 6),
        fc.nat(),
        (format, w, h, frames, data, colorType, variant) => {
          const bytes =
            format === 'png'
              ? craftedPng(w, h, zlib.deflateSync(data), colorType)
              : format === 'jpeg'
                ? craftedJpeg(w & 0xffff, h & 0xffff, 1 + (variant % 3))
                : craftedGif(w & 0xffff, h & 0xffff, frames);
          endsWell(bytes, variant);
        },
      ),
      { numRuns: 1200 },
    );
  }, 60_000);

  it('a PNG whose image data inflates far past its declared size is refused before fast-png inflates it', () => {
    // 64 x 64 declared, 50 MB of zeros deflated to ~50 KB (a zlib bomb); palette type to skip the fast path.
    const bomb = craftedPng(64, 64, zlib.deflateSync(Buffer.alloc(50 * 1024 * 1024)), 3);
    expect(() => decodePng(bomb, 0, 8)).toThrow(/inflates to more than 64 by 64 pixels need/);
  });
});
