/**
 * BMP decoding exactly as TensorFlow's DecodeBmp does it (decode_image_op.cc
 * DecodeBmpV2): TF does not use a BMP library; it reads the pixel-data offset,
 * width, height and bits per pixel from the header, requires uncompressed
 * 8/24/32-bit rows (padded to 4 bytes, bottom-up unless the height is
 * negative) filling the file exactly, and copies samples: BGR(A) → RGB(A),
 * 8-bit samples as gray (no palette lookup). Alpha of 32-bit files is copied
 * as stored. Requested channels 3/4 drop or add (255) alpha; 1 is refused.
 * Errors are INVALID_ARGUMENT with TF's texts.
 */
import { invalidArgument } from '../errors.js';
import type { DecodedImage } from './image_codecs.js';
import { checkImagePixels } from './image_limits.js';

export function decodeBmp(bytes: Uint8Array, channels: number): DecodedImage {
  if (channels === 1) throw invalidArgument(`\`channels\` must be 0, 3 or 4 for BMP, but got ${channels}`);
  if (bytes.length < 32) {
    throw invalidArgument(
      `Incomplete bmp content, requires at least 32 bytes to find the header size, width, height, and bpp, got ${bytes.length} bytes`,
    );
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerSize = view.getInt32(10, true);
  const width = view.getInt32(18, true);
  const height = view.getInt32(22, true);
  const bpp = view.getInt16(28, true);
  const imgChannels = Math.trunc(bpp / 8);
  if (imgChannels !== 1 && imgChannels !== 3 && imgChannels !== 4) {
    throw invalidArgument(`Number of channels inherent in the image must be 1, 3 or 4, was ${imgChannels}`);
  }
  const outChannels = channels === 0 ? imgChannels : channels;
  if (width <= 0) throw invalidArgument('Width must be positive');
  if (height === 0) throw invalidArgument('Height must be nonzero');
  if (headerSize < 0) throw invalidArgument('header size must be nonnegative');
  const absHeight = Math.abs(height);
  if (width * absHeight >= Math.floor(2147483647 / 8)) {
    throw invalidArgument('Total possible pixel bytes must be less than 2^30');
  }
  checkImagePixels('BMP', width, absHeight);
  const rowSize = Math.floor((imgChannels * width + 3) / 4) * 4;
  const sizeDiff = bytes.length - headerSize - rowSize * absHeight;
  if (sizeDiff !== 0) {
    throw invalidArgument(`Input size should match (header_size + row_size * abs_height) but they differ by ${sizeDiff}`);
  }
  const topDown = height < 0;
  const out = new Uint8Array(absHeight * width * outChannels);
  for (let i = 0; i < absHeight; i++) {
    const row = headerSize + (topDown ? i : absHeight - 1 - i) * rowSize;
    for (let j = 0; j < width; j++) {
      const src = row + j * imgChannels;
      const dst = (i * width + j) * outChannels;
      if (imgChannels === 1) {
        out[dst] = bytes[src];
        if (outChannels >= 3) out[dst + 1] = out[dst + 2] = bytes[src];
        if (outChannels === 4) out[dst + 3] = 255;
      } else {
        out[dst] = bytes[src + 2];
        out[dst + 1] = bytes[src + 1];
        out[dst + 2] = bytes[src];
        if (outChannels === 4) out[dst + 3] = imgChannels === 4 ? bytes[src + 3] : 255;
      }
    }
  }
  return { frames: 1, height: absHeight, width, channels: outChannels, data: out };
}
