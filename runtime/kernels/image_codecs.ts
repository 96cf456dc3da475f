/**
 * What the image decoders share: the decoded-pixels record and TensorFlow's
 * format sniffing by magic bytes (decode_image_op.cc ClassifyFileFormat).
 * Each format lives in its own module (image_png.ts, image_jpeg.ts,
 * image_gif.ts, image_bmp.ts) and returns pixels in TF's layout:
 * [frames,] height, width, channels, row-major, channels interleaved.
 */

export interface DecodedImage {
  /** Number of frames (GIF animations); 1 for still images. */
  frames: number;
  height: number;
  width: number;
  channels: number;
  /** 8-bit samples, or 16-bit samples for PNG decoded at 16 bits. */
  data: Uint8Array | Uint16Array;
}

export type ImageFormat = 'jpeg' | 'png' | 'gif' | 'bmp' | 'unknown';

const startsWith = (b: Uint8Array, magic: number[]) => b.length >= magic.length && magic.every((m, i) => b[i] === m);

/** Classifies image bytes the way TF does: JPEG, PNG, GIF, BMP by their first bytes. */
export function sniffImageFormat(bytes: Uint8Array): ImageFormat {
  if (startsWith(bytes, [0xff, 0xd8, 0xff])) return 'jpeg';
  if (startsWith(bytes, [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])) return 'png';
  if (startsWith(bytes, [0x47, 0x49, 0x46, 0x38])) return 'gif';
  if (startsWith(bytes, [0x42, 0x4d])) return 'bmp';
  return 'unknown';
}
