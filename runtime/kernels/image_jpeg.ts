/**
 * JPEG decoding as TensorFlow's DecodeJpeg does it on libjpeg-turbo
 * (core/lib/jpeg/jpeg_mem.cc). jpeg-js does the codec work (entropy decoding
 * and inverse DCT) and hands back the raw component planes; this module then
 * applies libjpeg's own post-processing:
 *
 *  - colour space as libjpeg infers it (JFIF → YCbCr, Adobe transform 0 → RGB,
 *    component ids 'R','G','B' → RGB, otherwise YCbCr);
 *  - chroma upsampling: libjpeg-turbo's "fancy" triangle filters for h2v1,
 *    h1v2 and h2v2 subsampling (fancy_upscaling=true, TF's default), plain
 *    replication otherwise;
 *  - YCbCr → RGB with libjpeg's fixed-point tables; channels=1 of a YCbCr
 *    image is the Y plane itself; gray → RGB by replication;
 *  - `ratio` 2/4/8 shrinks to ceil(size/ratio) by box averaging (libjpeg scales
 *    inside the IDCT; values may differ by a few levels), and a crop window
 *    (DecodeAndCropJpeg) is validated and applied as TF does.
 * jpeg-js's IDCT is not libjpeg's IFAST, so pixels may differ from TF by a
 * level or two; shapes, channel handling and errors match.
 * Errors: INVALID_ARGUMENT "jpeg::Uncompress failed. Invalid JPEG data or crop window."
 */
import jpeg from 'jpeg-js';
import { invalidArgument } from '../errors.js';
import type { DecodedImage } from './image_codecs.js';
import { checkImagePixels, imageLimits } from './image_limits.js';

export const JPEG_FAILED = 'jpeg::Uncompress failed. Invalid JPEG data or crop window.';

export interface JpegOptions {
  /** 0 (as in file, at most 3), 1 or 3. */
  channels: number;
  ratio?: number;
  fancyUpscaling?: boolean;
  /** [y, x, height, width] of DecodeAndCropJpeg. */
  crop?: [number, number, number, number];
}

export interface JpegComponent {
  id: number;
  h: number;
  v: number;
}

export interface JpegInfo {
  width: number;
  height: number;
  components: JpegComponent[];
  jfif: boolean;
  /** Adobe APP14 colour transform (0 RGB/CMYK, 1 YCbCr, 2 YCCK), or -1 when absent. */
  adobeTransform: number;
  /** Byte offset of the Adobe transform flag, or -1. */
  adobeTransformAt: number;
}

const isSof = (m: number) => m >= 0xc0 && m <= 0xcf && m !== 0xc4 && m !== 0xc8 && m !== 0xcc;

/** Walks the markers up to the first scan; undefined when there is no frame header. */
export function readJpegInfo(b: Uint8Array): JpegInfo | undefined {
  let info: JpegInfo | undefined;
  let jfif = false;
  let adobeTransform = -1;
  let adobeTransformAt = -1;
  let o = 2;
  while (o + 4 <= b.length) {
    if (b[o] !== 0xff) return undefined;
    const m = b[o + 1];
    if (m === 0xff) {
      o++;
      continue;
    }
    if (m === 0xd9 || m === 0xda) break;
    if (m === 0x01 || (m >= 0xd0 && m <= 0xd7)) {
      o += 2;
      continue;
    }
    const len = (b[o + 2] << 8) | b[o + 3];
    const seg = b.subarray(o + 4, o + 2 + len);
    if (m === 0xe0 && seg.length >= 5 && String.fromCharCode(...seg.subarray(0, 5)) === 'JFIF\0') jfif = true;
    if (m === 0xee && seg.length >= 12 && String.fromCharCode(...seg.subarray(0, 5)) === 'Adobe') {
      adobeTransform = seg[11];
      adobeTransformAt = o + 4 + 11;
    }
    if (isSof(m) && seg.length >= 6) {
      const n = seg[5];
      const components: JpegComponent[] = [];
      for (let k = 0; k < n && 6 + 3 * k + 2 < seg.length; k++) {
        components.push({ id: seg[6 + 3 * k], h: seg[7 + 3 * k] >> 4, v: seg[7 + 3 * k] & 15 });
      }
      info = { height: (seg[1] << 8) | seg[2], width: (seg[3] << 8) | seg[4], components, jfif, adobeTransform, adobeTransformAt };
    }
    o += 2 + len;
  }
  if (info) {
    info.jfif = jfif;
    info.adobeTransform = adobeTransform;
    info.adobeTransformAt = adobeTransformAt;
  }
  return info;
}

function isRgbColorSpace(info: JpegInfo): boolean {
  if (info.jfif) return false;
  if (info.adobeTransform >= 0) return info.adobeTransform === 0;
  const [a, b, c] = info.components.map((k) => k.id);
  return a === 0x52 && b === 0x47 && c === 0x42;
}

// libjpeg's jdcolor.c fixed-point YCbCr → RGB tables.
const SCALEBITS = 16;
const ONE_HALF = 1 << (SCALEBITS - 1);
const FIX = (x: number) => Math.floor(x * (1 << SCALEBITS) + 0.5);
const CR_R = new Int32Array(256);
const CB_B = new Int32Array(256);
const CR_G = new Int32Array(256);
const CB_G = new Int32Array(256);
for (let i = 0; i < 256; i++) {
  const x = i - 128;
  CR_R[i] = (FIX(1.402) * x + ONE_HALF) >> SCALEBITS;
  CB_B[i] = (FIX(1.772) * x + ONE_HALF) >> SCALEBITS;
  CR_G[i] = -FIX(0.71414) * x;
  CB_G[i] = -FIX(0.34414) * x + ONE_HALF;
}
const clamp8 = (v: number) => (v < 0 ? 0 : v > 255 ? 255 : v);

/** Recovers a subsampled component plane from jpeg-js's replicated full-size plane. */
function subsampledPlane(full: Uint8Array, stride: number, ch: number, width: number, height: number, rx: number, ry: number) {
  const cw = Math.ceil(width / rx);
  const chh = Math.ceil(height / ry);
  const plane = new Uint8Array(cw * chh);
  for (let y = 0; y < chh; y++) {
    for (let x = 0; x < cw; x++) plane[y * cw + x] = full[(y * ry * width + x * rx) * stride + ch];
  }
  return { plane, cw, chh };
}

/** libjpeg-turbo's h2v1 / h1v2 / h2v2 fancy upsampling of one plane, written into `full` at channel `ch`. */
function fancyUpsample(full: Uint8Array, stride: number, ch: number, width: number, height: number, rx: number, ry: number) {
  const { plane, cw, chh } = subsampledPlane(full, stride, ch, width, height, rx, ry);
  const row = (y: number) => Math.min(Math.max(y, 0), chh - 1) * cw;
  const put = (x: number, y: number, v: number) => {
    if (x < width && y < height) full[(y * width + x) * stride + ch] = v;
  };
  if (rx === 2 && ry === 1) {
    for (let y = 0; y < chh; y++) {
      const r = row(y);
      for (let c = 0; c < cw; c++) {
        const v = plane[r + c] * 3;
        put(2 * c, y, c === 0 ? plane[r] : (v + plane[r + c - 1] + 1) >> 2);
        put(2 * c + 1, y, c === cw - 1 ? plane[r + c] : (v + plane[r + c + 1] + 2) >> 2);
      }
    }
  } else if (rx === 1 && ry === 2) {
    for (let y = 0; y < height; y++) {
      const r0 = row(y >> 1);
      const r1 = row((y & 1) === 0 ? (y >> 1) - 1 : (y >> 1) + 1);
      const bias = (y & 1) === 0 ? 1 : 2;
      for (let c = 0; c < cw; c++) put(c, y, (plane[r0 + c] * 3 + plane[r1 + c] + bias) >> 2);
    }
  } else {
    const sums = new Int32Array(cw);
    for (let y = 0; y < height; y++) {
      const r0 = row(y >> 1);
      const r1 = row((y & 1) === 0 ? (y >> 1) - 1 : (y >> 1) + 1);
      for (let c = 0; c < cw; c++) sums[c] = plane[r0 + c] * 3 + plane[r1 + c];
      for (let c = 0; c < cw; c++) {
        const t = sums[c] * 3;
        put(2 * c, y, c === 0 ? (sums[0] * 4 + 8) >> 4 : (t + sums[c - 1] + 8) >> 4);
        put(2 * c + 1, y, c === cw - 1 ? (sums[c] * 4 + 7) >> 4 : (t + sums[c + 1] + 7) >> 4);
      }
    }
  }
}

/** Box-averages an interleaved image by `ratio`, to ceil(size / ratio). */
function shrink(data: Uint8Array, width: number, height: number, channels: number, ratio: number) {
  const w = Math.ceil(width / ratio);
  const h = Math.ceil(height / ratio);
  const out = new Uint8Array(w * h * channels);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      for (let c = 0; c < channels; c++) {
        let sum = 0;
        let n = 0;
        for (let yy = y * ratio; yy < Math.min(height, (y + 1) * ratio); yy++) {
          for (let xx = x * ratio; xx < Math.min(width, (x + 1) * ratio); xx++) {
            sum += data[(yy * width + xx) * channels + c];
            n++;
          }
        }
        out[(y * w + x) * channels + c] = Math.round(sum / n);
      }
    }
  }
  return { data: out, width: w, height: h };
}

/** Decodes JPEG bytes to `channels` 8-bit samples as TF's DecodeJpeg does. */
export function decodeJpeg(bytes: Uint8Array, options: JpegOptions): DecodedImage {
  const info = readJpegInfo(bytes);
  if (!info || info.components.length === 0 || info.width === 0 || info.height === 0) throw invalidArgument(JPEG_FAILED);
  // The size the frame header declares, checked before anything is decoded.
  checkImagePixels('JPEG', info.width, info.height);
  const { maxPixels } = imageLimits();
  const ncomp = info.components.length;
  const outChannels = options.channels === 0 ? Math.min(ncomp, 3) : options.channels;
  let input = bytes;
  if (ncomp === 3 && info.adobeTransform > 0) {
    // jpeg-js would colour-convert on its own when Adobe says YCbCr; clear the flag to get raw planes.
    input = bytes.slice();
    input[info.adobeTransformAt] = 0;
  }
  let decoded: { width: number; height: number; data: Uint8Array };
  try {
    decoded = jpeg.decode(input, {
      useTArray: true,
      formatAsRGBA: false,
      // Raw planes for 1 and 3 components; jpeg-js converts CMYK/YCCK itself.
      colorTransform: ncomp === 4 ? undefined : false,
      // jpeg-js's own bounds, from the same limit (a second frame header could declare another size).
      maxResolutionInMP: Math.ceil(maxPixels / 1e6),
      maxMemoryUsageInMB: Math.max(512, Math.ceil((maxPixels * 16) / 2 ** 20)),
    });
  } catch {
    throw invalidArgument(JPEG_FAILED);
  }
  const { width, height } = decoded;
  const raw = decoded.data;
  const pixels = width * height;
  let data = new Uint8Array(pixels * outChannels);

  if (ncomp === 3 && options.fancyUpscaling !== false) {
    const maxH = Math.max(...info.components.map((c) => c.h));
    const maxV = Math.max(...info.components.map((c) => c.v));
    for (let k = 1; k < 3; k++) {
      const { h, v } = info.components[k];
      const rx = maxH / h;
      const ry = maxV / v;
      const cw = Math.ceil(width / rx);
      const fancy = (rx === 2 && ry === 1 && cw > 2) || (rx === 1 && ry === 2) || (rx === 2 && ry === 2 && cw > 2);
      if (fancy && info.components[0].h === maxH && info.components[0].v === maxV) {
        fancyUpsample(raw, 3, k, width, height, rx, ry);
      }
    }
  }

  if (ncomp === 1) {
    // Gray: jpeg-js repeats the single plane three times.
    for (let p = 0; p < pixels; p++) for (let c = 0; c < outChannels; c++) data[p * outChannels + c] = raw[p * 3];
  } else if (ncomp === 4) {
    if (outChannels === 1) throw invalidArgument(JPEG_FAILED);
    data = raw.slice(0, pixels * 3);
  } else if (isRgbColorSpace(info)) {
    for (let p = 0; p < pixels; p++) {
      const r = raw[p * 3];
      const g = raw[p * 3 + 1];
      const b = raw[p * 3 + 2];
      if (outChannels === 1) {
        data[p] = (FIX(0.299) * r + FIX(0.587) * g + FIX(0.114) * b + ONE_HALF) >> SCALEBITS;
      } else data.set([r, g, b], p * 3);
    }
  } else {
    for (let p = 0; p < pixels; p++) {
      const y = raw[p * 3];
      if (outChannels === 1) {
        data[p] = y;
        continue;
      }
      const cb = raw[p * 3 + 1];
      const cr = raw[p * 3 + 2];
      data[p * 3] = clamp8(y + CR_R[cr]);
      data[p * 3 + 1] = clamp8(y + ((CB_G[cb] + CR_G[cr]) >> SCALEBITS));
      data[p * 3 + 2] = clamp8(y + CB_B[cb]);
    }
  }

  let img = { data, width, height };
  const ratio = options.ratio ?? 1;
  if (ratio > 1) img = shrink(data, width, height, outChannels, ratio);
  if (options.crop) {
    const [cy, cx, chh, cw] = options.crop;
    if (cw <= 0 || chh <= 0 || cx < 0 || cy < 0 || cy + chh > img.height || cx + cw > img.width) {
      throw invalidArgument(JPEG_FAILED);
    }
    const cropped = new Uint8Array(cw * chh * outChannels);
    for (let y = 0; y < chh; y++) {
      const src = ((cy + y) * img.width + cx) * outChannels;
      cropped.set(img.data.subarray(src, src + cw * outChannels), y * cw * outChannels);
    }
    img = { data: cropped, width: cw, height: chh };
  }
  return { frames: 1, height: img.height, width: img.width, channels: outChannels, data: img.data };
}
