/**
 * PNG decoding with TensorFlow's conversions (core/lib/png/png_io.cc
 * on libpng; encoding, byte-exact with TF's, is image/encode_png_tf.ts). fast-png does the codec work (inflate, unfiltering, interlace,
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
 *
 * The common file (8-bit gray, gray+alpha, RGB or RGBA, not interlaced, no
 * palette or tRNS) takes a fast path: chunk CRCs checked with node:zlib's
 * crc32, the IDAT stream inflated by node:zlib into a buffer of the exact
 * size, rows unfiltered here. Anything unusual or invalid goes to fast-png,
 * so errors and edge cases behave exactly as fast-png makes them.
 */
import zlib from 'node:zlib';
import { decode as pngDecode } from 'fast-png';
import { invalidArgument } from '../errors.js';
import type { DecodedImage } from './image_codecs.js';
import { checkImagePixels } from './image_limits.js';

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

const SIGNATURE = [137, 80, 78, 71, 13, 10, 26, 10];
const TYPE_IHDR = 0x49484452;
const TYPE_IDAT = 0x49444154;
const TYPE_IEND = 0x49454e44;
/** Samples per pixel by colour type, for the types the fast path takes (no palette). */
const SIMPLE_CHANNELS: Readonly<Record<number, number>> = { 0: 1, 2: 3, 4: 2, 6: 4 };
/** Images up to this many pixels take the fast path (it holds the whole inflated stream at once). */
const SIMPLE_MAX_PIXELS = 1 << 24;

interface SimplePng {
  width: number;
  height: number;
  depth: 8;
  channels: number;
  data: Uint8Array;
  palette?: undefined;
  transparency?: undefined;
}

/** Reverses PNG row filters (types 0-4) from `raw` (filter byte + row, per row) into `out`; false on an unknown filter type. */
function unfilter(raw: Uint8Array, out: Uint8Array, height: number, rowBytes: number, bpp: number): boolean {
  for (let y = 0; y < height; y++) {
    const src = y * (rowBytes + 1) + 1;
    const dst = y * rowBytes;
    const prev = dst - rowBytes;
    const filter = raw[src - 1];
    if (filter === 0 || (filter === 2 && y === 0)) {
      out.set(raw.subarray(src, src + rowBytes), dst);
    } else if (filter === 1) {
      for (let i = 0; i < bpp; i++) out[dst + i] = raw[src + i];
      for (let i = bpp; i < rowBytes; i++) out[dst + i] = raw[src + i] + out[dst + i - bpp];
    } else if (filter === 2) {
      for (let i = 0; i < rowBytes; i++) out[dst + i] = raw[src + i] + out[prev + i];
    } else if (filter === 3) {
      if (y === 0) {
        for (let i = 0; i < bpp; i++) out[dst + i] = raw[src + i];
        for (let i = bpp; i < rowBytes; i++) out[dst + i] = raw[src + i] + (out[dst + i - bpp] >> 1);
      } else {
        for (let i = 0; i < bpp; i++) out[dst + i] = raw[src + i] + (out[prev + i] >> 1);
        for (let i = bpp; i < rowBytes; i++) out[dst + i] = raw[src + i] + ((out[dst + i - bpp] + out[prev + i]) >> 1);
      }
    } else if (filter === 4) {
      for (let i = 0; i < rowBytes; i++) {
        const a = i >= bpp ? out[dst + i - bpp] : 0;
        const b = y > 0 ? out[prev + i] : 0;
        const c = i >= bpp && y > 0 ? out[prev + i - bpp] : 0;
        const p = a + b - c;
        const pa = Math.abs(p - a);
        const pb = Math.abs(p - b);
        const pc = Math.abs(p - c);
        out[dst + i] = raw[src + i] + (pa <= pb && pa <= pc ? a : pb <= pc ? b : c);
      }
    } else {
      return false;
    }
  }
  return true;
}

/** The fast path (see the module comment), or undefined to let fast-png decode the file. */
function decodeSimple(bytes: Uint8Array): SimplePng | undefined {
  if (bytes.length < 57) return undefined;
  for (let i = 0; i < 8; i++) if (bytes[i] !== SIGNATURE[i]) return undefined;
  const width = u32(bytes, 16);
  const height = u32(bytes, 20);
  const channels = SIMPLE_CHANNELS[bytes[25]];
  // bit depth 8; compression, filter and interlace methods 0.
  if (bytes[24] !== 8 || bytes[26] !== 0 || bytes[27] !== 0 || bytes[28] !== 0 || channels === undefined) return undefined;
  if (width === 0 || height === 0 || width * height > SIMPLE_MAX_PIXELS) return undefined;
  const idat: Uint8Array[] = [];
  let ended = false;
  for (let o = 8; o + 12 <= bytes.length; ) {
    const length = u32(bytes, o);
    const end = o + 8 + length;
    if (end + 4 > bytes.length) return undefined;
    if (zlib.crc32(bytes.subarray(o + 4, end)) !== u32(bytes, end)) return undefined;
    const type = u32(bytes, o + 4);
    if (type === TYPE_IDAT) idat.push(bytes.subarray(o + 8, end));
    else if (type === TYPE_IEND) {
      ended = true;
      break;
    } else if (type === TYPE_IHDR ? o !== 8 : (bytes[o + 4] & 0x20) === 0) {
      return undefined; // a second IHDR, or a critical chunk other than IDAT/IEND (PLTE...)
    } else if (chunkType(bytes, o + 4) === 'tRNS') {
      return undefined;
    }
    o = end + 4;
  }
  if (!ended || idat.length === 0) return undefined;
  const rowBytes = width * channels;
  const expected = height * (rowBytes + 1);
  let raw: Uint8Array;
  try {
    raw = zlib.inflateSync(idat.length === 1 ? idat[0] : Buffer.concat(idat), {
      chunkSize: Math.max(64, expected + 1),
      maxOutputLength: expected + 1,
    });
  } catch {
    return undefined;
  }
  if (raw.length !== expected) return undefined;
  const data = new Uint8Array(height * rowBytes);
  if (!unfilter(raw, data, height, rowBytes, channels)) return undefined;
  return { width, height, depth: 8, channels, data };
}

/**
 * Refuses a PNG whose image data inflates to more than its header's
 * dimensions allow (a zlib bomb), before fast-png inflates it all: the IDAT
 * stream is inflated here with a cap of the largest size those dimensions
 * need (interlaced rows included).
 */
function checkInflatedSize(bytes: Uint8Array): void {
  const width = u32(bytes, 16);
  const height = u32(bytes, 20);
  const samples = ({ 0: 1, 2: 3, 3: 1, 4: 2, 6: 4 } as Record<number, number>)[bytes[25]] ?? 4;
  const depth = Math.min(Math.max(bytes[24], 1), 16);
  // Adam7 adds at most one filter byte and one partial byte per row and pass.
  const cap = height * (Math.ceil((width * samples * depth) / 8) + 1) + 14 * (height + 8) + 1024;
  const idat: Uint8Array[] = [];
  for (let o = 8; o + 12 <= bytes.length; ) {
    const length = u32(bytes, o);
    const end = o + 8 + length;
    if (end > bytes.length) break;
    if (u32(bytes, o + 4) === TYPE_IDAT) idat.push(bytes.subarray(o + 8, end));
    o = end + 4;
  }
  try {
    zlib.inflateSync(Buffer.concat(idat), { maxOutputLength: cap, finishFlush: zlib.constants.Z_SYNC_FLUSH });
  } catch (e) {
    if ((e as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE') {
      throw invalidArgument(`Invalid PNG data, size ${bytes.length}: the image data inflates to more than ${width} by ${height} pixels need`);
    }
    // Other zlib errors: fast-png reports them as it does.
  }
}

/**
 * Decodes PNG bytes to `channels` (0 = as in file) samples of `bits` (8 or 16),
 * as TF's DecodePng does.
 */
export function decodePng(bytes: Uint8Array, channels: number, bits: 8 | 16): DecodedImage {
  const header = readHeader(bytes);
  if (!header) throw invalidArgument('Invalid PNG. Failed to initialize decoder.');
  // The size the header declares, checked before anything is inflated.
  checkImagePixels('PNG', u32(bytes, 16), u32(bytes, 20));
  let png: ReturnType<typeof pngDecode> | SimplePng | undefined = decodeSimple(bytes);
  if (!png) {
    checkInflatedSize(bytes);
    try {
      png = pngDecode(bytes, { checkCrc: true });
    } catch {
      throw invalidArgument(`Invalid PNG data, size ${bytes.length}`);
    }
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
  if (bits === 8 && depth === 8 && !isPalette && !hasTrns && outChannels === fileChannels && png.data instanceof Uint8Array) {
    // Samples as in the file: nothing to convert.
    return { frames: 1, height, width, channels: outChannels, data: png.data };
  }

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
