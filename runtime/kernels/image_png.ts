/**
 * PNG decoding and encoding with TensorFlow's conversions (core/lib/png/png_io.cc
 * on libpng). fast-png does the codec work (inflate, unfiltering, interlace,
 * CRCs); this module applies the libpng transformations TF requests:
 *
 *  - channels 0 = as in the file (palette: 3, or 4 with tRNS; gray 1;
 *    gray+alpha 2; RGB 3; RGBA 4);
 *  - an even channel count wants alpha: the file's alpha, else tRNS turned into
 *    alpha, else libpng's filler (1 << file_bit_depth) - 1 (so 255 for 8-bit
 *    files, and the quirky 1/3/15 for 1/2/4-bit files, as TF gives);
 *  - an odd count strips alpha;
 *  - RGB to gray with png_set_rgb_to_gray(1, 0.299, 0.587) in libpng's fixed
 *    point (9797, 19234, 3737)/32768, through libpng's gamma tables when the
 *    file declares a significant gamma (gAMA or sRGB), else truncating;
 *  - gray to RGB by replication; 1/2/4-bit gray scaled to 8 bits;
 *  - 16-bit samples to 8 by keeping the high byte (png_set_strip_16);
 *    8-bit samples to 16 by v * 257.
 * Errors are INVALID_ARGUMENT with TF's texts.
 */
import { decode as pngDecode, encode as pngEncode } from 'fast-png';
import { invalidArgument } from '../errors.js';
import type { DecodedImage } from './image_codecs.js';

const RC = 9797;
const GC = 19234;
const BC = 32768 - RC - GC;
const FP_1 = 100000;
const GAMMA_THRESHOLD = 5000;
const SRGB_GAMMA = 45455;

interface PngHeader {
  colorType: number;
  bitDepth: number;
  /** File gamma in libpng fixed point (x100000), 0 when not declared. */
  gamma: number;
  sigBit: number;
}

const u32 = (b: Uint8Array, o: number) => ((b[o] << 24) | (b[o + 1] << 16) | (b[o + 2] << 8) | b[o + 3]) >>> 0;
const chunkType = (b: Uint8Array, o: number) => String.fromCharCode(b[o], b[o + 1], b[o + 2], b[o + 3]);

/** Reads what libpng's png_read_info sees: IHDR and the chunks before IDAT; undefined when it would fail. */
function readHeader(bytes: Uint8Array): PngHeader | undefined {
  if (bytes.length < 33 || chunkType(bytes, 12) !== 'IHDR' || u32(bytes, 8) !== 13) return undefined;
  const width = u32(bytes, 16);
  const height = u32(bytes, 20);
  if (width === 0 || height === 0) return undefined;
  const header: PngHeader = { bitDepth: bytes[24], colorType: bytes[25], gamma: 0, sigBit: 0 };
  let srgb = false;
  for (let o = 33; o + 8 <= bytes.length; ) {
    const len = u32(bytes, o);
    const type = chunkType(bytes, o + 4);
    if (type === 'IDAT' || o + 12 + len > bytes.length) break;
    if (type === 'gAMA' && len === 4) header.gamma = u32(bytes, o + 8);
    if (type === 'sRGB') srgb = true;
    if (type === 'sBIT' && len >= 1) header.sigBit = Math.max(...bytes.subarray(o + 8, o + 8 + Math.min(len, 3)));
    o += 12 + len;
  }
  if (srgb) header.gamma = SRGB_GAMMA;
  return header;
}

const significant = (g: number) => g < FP_1 - GAMMA_THRESHOLD || g > FP_1 + GAMMA_THRESHOLD;
const reciprocal = (g: number) => Math.floor(1e10 / g + 0.5);

/** libpng's rgb_to_gray for one pixel at 8 or 16 bits, with or without gamma tables. */
function makeGrayConverter(header: PngHeader, workBits: number, out8: boolean): (r: number, g: number, b: number) => number {
  const fileGamma = header.gamma === 0 ? FP_1 : header.gamma;
  if (!significant(fileGamma)) {
    return (r, g, b) => (r === g && r === b ? r : (RC * r + GC * g + BC * b) >>> 15);
  }
  const toLinear = reciprocal(fileGamma) * 1e-5;
  const fromLinear = reciprocal(reciprocal(fileGamma)) * 1e-5;
  if (workBits === 8) {
    const table = (exp: number) =>
      Uint8Array.from({ length: 256 }, (_, i) => (i > 0 && i < 255 ? Math.floor(255 * Math.pow(i / 255, exp) + 0.5) : i));
    const to1 = table(toLinear);
    const from1 = table(fromLinear);
    return (r, g, b) => (r === g && r === b ? r : from1[(RC * to1[r] + GC * to1[g] + BC * to1[b] + 16384) >>> 15]);
  }
  // 16-bit tables are indexed by the sample shifted right by libpng's gamma_shift.
  let shift = header.sigBit > 0 && header.sigBit < 16 ? 16 - header.sigBit : 0;
  if (out8 && shift < 5) shift = 5;
  if (shift > 8) shift = 8;
  const max = (1 << (16 - shift)) - 1;
  const lookup = (v: number, exp: number) => Math.floor(65535 * Math.pow((v >> shift) / max, exp) + 0.5);
  return (r, g, b) => {
    if (r === g && r === b) return r;
    const gray = (RC * lookup(r, toLinear) + GC * lookup(g, toLinear) + BC * lookup(b, toLinear) + 16384) >>> 15;
    return lookup(gray, fromLinear);
  };
}

/** Unpacks 1/2/4-bit samples (rows padded to whole bytes) into one value per sample. */
function unpackSamples(data: Uint8Array, width: number, height: number, depth: number): Uint8Array {
  const out = new Uint8Array(width * height);
  const rowBytes = Math.ceil((width * depth) / 8);
  const mask = (1 << depth) - 1;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const bit = x * depth;
      const byte = data[y * rowBytes + (bit >> 3)];
      out[y * width + x] = (byte >> (8 - depth - (bit & 7))) & mask;
    }
  }
  return out;
}

/**
 * Decodes PNG bytes to `channels` (0 = as in file) samples of `bits` (8 or 16),
 * as TF's DecodePng does.
 */
export function decodePng(bytes: Uint8Array, channels: number, bits: 8 | 16): DecodedImage {
  const header = readHeader(bytes);
  if (!header) throw invalidArgument('Invalid PNG. Failed to initialize decoder.');
  let png: ReturnType<typeof pngDecode>;
  try {
    png = pngDecode(bytes, { checkCrc: true });
  } catch {
    throw invalidArgument(`Invalid PNG data, size ${bytes.length}`);
  }
  const { width, height, depth } = png;
  if (width >= 2 ** 27 || height >= 2 ** 27 || width * height >= 2 ** 29) {
    throw invalidArgument(`PNG size too large for int: ${width} by ${height}`);
  }
  const isPalette = header.colorType === 3;
  const palette = png.palette ?? [];
  const hasTrns = isPalette ? palette.some((c) => c.length === 4) : (png.transparency?.length ?? 0) > 0;
  const fileChannels = png.channels;
  const hasAlphaChannel = !isPalette && (fileChannels === 2 || fileChannels === 4);
  const isColor = isPalette || fileChannels >= 3;
  const outChannels = channels === 0 ? (isPalette ? (hasTrns ? 4 : 3) : fileChannels) : channels;
  const wantAlpha = (outChannels & 1) === 0;
  const wantGray = outChannels < 3;

  // Samples at the working depth: 16 for 16-bit files, 8 otherwise (after expansion).
  const work16 = depth === 16;
  const workMax = work16 ? 65535 : 255;
  const pixels = width * height;
  const raw = depth < 8 ? unpackSamples(png.data as Uint8Array, width, height, depth) : png.data;
  const expand = !isPalette && depth < 8 ? 255 / ((1 << depth) - 1) : 1;
  const filler = ((1 << depth) - 1) & (work16 ? 0xffff : 0xff);
  const trns = png.transparency;
  const toGray = wantGray && isColor ? makeGrayConverter(header, work16 ? 16 : 8, bits === 8) : undefined;

  const out = bits === 8 ? new Uint8Array(pixels * outChannels) : new Uint16Array(pixels * outChannels);
  // Final scaling from the working depth to the requested one.
  const emit = work16 ? (bits === 8 ? (v: number) => v >>> 8 : (v: number) => v) : bits === 8 ? (v: number) => v : (v: number) => v * 257;

  let r = 0;
  let g = 0;
  let b = 0;
  let a = 0;
  for (let p = 0; p < pixels; p++) {
    if (isPalette) {
      const c = palette[raw[p]] ?? [0, 0, 0];
      r = c[0];
      g = c[1];
      b = c[2];
      a = c.length === 4 ? c[3] : hasTrns ? 255 : filler;
    } else if (isColor) {
      const o = p * fileChannels;
      r = raw[o];
      g = raw[o + 1];
      b = raw[o + 2];
      if (hasAlphaChannel) a = raw[o + 3];
      else if (trns && trns.length >= 3) a = r === trns[0] && g === trns[1] && b === trns[2] ? 0 : workMax;
      else a = filler;
    } else {
      const o = p * fileChannels;
      const s = raw[o];
      r = g = b = Math.round(s * expand);
      if (hasAlphaChannel) a = raw[o + 1];
      else if (trns && trns.length >= 1) a = s === trns[0] ? 0 : workMax;
      else a = filler;
    }
    const o = p * outChannels;
    if (wantGray) {
      out[o] = emit(toGray ? toGray(r, g, b) : r);
      if (wantAlpha) out[o + 1] = emit(a);
    } else {
      out[o] = emit(r);
      out[o + 1] = emit(g);
      out[o + 2] = emit(b);
      if (wantAlpha) out[o + 3] = emit(a);
    }
  }
  return { frames: 1, height, width, channels: outChannels, data: out };
}

/** Encodes interleaved 8- or 16-bit samples as PNG (compression -1 = zlib default, else 0-9). */
export function encodePng(
  data: Uint8Array | Uint16Array,
  height: number,
  width: number,
  channels: number,
  compression = -1,
): Uint8Array {
  const depth = data instanceof Uint16Array ? 16 : 8;
  const level = (compression < 0 ? 6 : compression) as 0 | 1 | 2 | 3 | 4 | 5 | 6 | 7 | 8 | 9;
  return pngEncode({ width, height, data, depth, channels }, { zlib: { level } });
}
