/**
 * How large an image the decode kernels (DecodePng, DecodeJpeg,
 * DecodeAndCropJpeg, DecodeGif, DecodeBmp, DecodeImage) accept: each reads
 * the dimensions from the header first and refuses, with INVALID_ARGUMENT and
 * before allocating anything, an image of more than `maxPixels` pixels (for
 * GIF: the canvas times the frames) or a GIF of more than `maxGifFrames`
 * frames. Process-wide, like the kernels: `modelhost serve` sets them from
 * --max_image_pixels / --max_gif_frames, and the worker pool hands them to
 * each inference worker (workerData.imageLimits) which sets them again.
 */
import { invalidArgument } from '../errors.js';

export interface ImageLimits {
  /** Most pixels (height x width, x frames for GIF) one decoded image may have. */
  maxPixels: number;
  /** Most frames one GIF may have. */
  maxGifFrames: number;
}

/**
 * 2^25 pixels: an 8K UHD frame (7680 x 4320 = 33.2 MP) or a 24 MP photo
 * fits; decoded that is 128 MB as 8-bit RGBA, 512 MB as float32.
 */
export const DEFAULT_MAX_IMAGE_PIXELS = 2 ** 25;
/** 1,000 frames; their pixels together must still fit the pixel limit. */
export const DEFAULT_MAX_GIF_FRAMES = 1000;

let current: ImageLimits = { maxPixels: DEFAULT_MAX_IMAGE_PIXELS, maxGifFrames: DEFAULT_MAX_GIF_FRAMES };

export function imageLimits(): ImageLimits {
  return current;
}

/** Replaces the limits given; the others keep their values. */
export function setImageLimits(limits: Partial<ImageLimits> | undefined): void {
  if (limits) current = { ...current, ...limits };
}

/** Throws INVALID_ARGUMENT when a `format` image of width x height (x frames) is over the pixel limit. */
export function checkImagePixels(format: string, width: number, height: number, frames = 1): void {
  const pixels = width * height * frames;
  if (pixels > current.maxPixels) {
    const what = frames > 1 ? `${frames} frames of ${width} by ${height}` : `${width} by ${height}`;
    throw invalidArgument(
      `${format} image too large: ${what} is ${pixels} pixels, more than the ${current.maxPixels} allowed ` +
        '(--max_image_pixels). Resize the image before sending it, or raise the limit.',
    );
  }
}

/** Throws INVALID_ARGUMENT when a GIF has more than the allowed frames. */
export function checkGifFrames(frames: number): void {
  if (frames > current.maxGifFrames) {
    throw invalidArgument(
      `GIF has more than ${current.maxGifFrames} frames, the limit set by --max_gif_frames. ` +
        'Send fewer frames, or raise the limit.',
    );
  }
}
