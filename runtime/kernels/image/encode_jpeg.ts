/**
 * EncodeJpeg / EncodeJpegVariableQuality, written to give the bytes TF's
 * libjpeg-turbo path gives (tensorflow/core/lib/jpeg/jpeg_mem.cc Compress
 * with TF's defaults): baseline sequential JPEG, JFIF 1.01 APP0 with the
 * density attrs, IJG quality scaling of the Annex K quantisation tables
 * (force_baseline), RGB → YCbCr with libjpeg's 16-bit fixed-point tables,
 * 4:2:0 chroma (h2v2 box downsampling with alternating 1/2 rounding bias)
 * unless chroma_downsampling is false, edge pixels replicated to whole
 * blocks (below the image: input rows to an even count, then downsampled
 * rows, as libjpeg's prep controller does), dummy blocks (DC of their left neighbour) to complete MCUs, the
 * accurate integer forward DCT (jfdctint.c), rounding quantisation, and the
 * Annex K Huffman tables; markers in libjpeg's order (DQT per table, SOF0,
 * DHT per table as the scan first needs it, SOS). Grayscale images are one
 * component. progressive and optimize_size are not supported (UNIMPLEMENTED).
 */
import { invalidArgument, unimplemented } from '../../errors.js';
import { shapeString, Tensor } from '../../tensor.js';
import type { KernelContext } from '../registry.js';
import { registerKernel } from '../registry.js';

const NATURAL = [
  0, 1, 8, 16, 9, 2, 3, 10, 17, 24, 32, 25, 18, 11, 4, 5, 12, 19, 26, 33, 40, 48, 41, 34, 27, 20, 13, 6, 7, 14, 21, 28, 35, 42, 49, 56,
  57, 50, 43, 36, 29, 22, 15, 23, 30, 37, 44, 51, 58, 59, 52, 45, 38, 31, 39, 46, 53, 60, 61, 54, 47, 55, 62, 63,
];

const LUMA_Q = [
  16, 11, 10, 16, 24, 40, 51, 61, 12, 12, 14, 19, 26, 58, 60, 55, 14, 13, 16, 24, 40, 57, 69, 56, 14, 17, 22, 29, 51, 87, 80, 62, 18, 22,
  37, 56, 68, 109, 103, 77, 24, 35, 55, 64, 81, 104, 113, 92, 49, 64, 78, 87, 103, 121, 120, 101, 72, 92, 95, 98, 112, 100, 103, 99,
];
const CHROMA_Q = [
  17, 18, 24, 47, 99, 99, 99, 99, 18, 21, 26, 66, 99, 99, 99, 99, 24, 26, 56, 99, 99, 99, 99, 99, 47, 66, 99, 99, 99, 99, 99, 99,
  ...new Array<number>(32).fill(99),
];

interface HuffSpec {
  bits: number[]; // counts of codes of length 1..16
  vals: number[];
}

const DC_LUMA: HuffSpec = { bits: [0, 1, 5, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0], vals: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11] };
const DC_CHROMA: HuffSpec = { bits: [0, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0], vals: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11] };

const AC_LUMA: HuffSpec = {
  bits: [0, 2, 1, 3, 3, 2, 4, 3, 5, 5, 4, 4, 0, 0, 1, 0x7d],
  vals: [
    0x01, 0x02, 0x03, 0x00, 0x04, 0x11, 0x05, 0x12, 0x21, 0x31, 0x41, 0x06, 0x13, 0x51, 0x61, 0x07, 0x22, 0x71, 0x14, 0x32, 0x81, 0x91,
    0xa1, 0x08, 0x23, 0x42, 0xb1, 0xc1, 0x15, 0x52, 0xd1, 0xf0, 0x24, 0x33, 0x62, 0x72, 0x82, 0x09, 0x0a, 0x16, 0x17, 0x18, 0x19, 0x1a,
    0x25, 0x26, 0x27, 0x28, 0x29, 0x2a, 0x34, 0x35, 0x36, 0x37, 0x38, 0x39, 0x3a, 0x43, 0x44, 0x45, 0x46, 0x47, 0x48, 0x49, 0x4a, 0x53,
    0x54, 0x55, 0x56, 0x57, 0x58, 0x59, 0x5a, 0x63, 0x64, 0x65, 0x66, 0x67, 0x68, 0x69, 0x6a, 0x73, 0x74, 0x75, 0x76, 0x77, 0x78, 0x79,
    0x7a, 0x83, 0x84, 0x85, 0x86, 0x87, 0x88, 0x89, 0x8a, 0x92, 0x93, 0x94, 0x95, 0x96, 0x97, 0x98, 0x99, 0x9a, 0xa2, 0xa3, 0xa4, 0xa5,
    0xa6, 0xa7, 0xa8, 0xa9, 0xaa, 0xb2, 0xb3, 0xb4, 0xb5, 0xb6, 0xb7, 0xb8, 0xb9, 0xba, 0xc2, 0xc3, 0xc4, 0xc5, 0xc6, 0xc7, 0xc8, 0xc9,
    0xca, 0xd2, 0xd3, 0xd4, 0xd5, 0xd6, 0xd7, 0xd8, 0xd9, 0xda, 0xe1, 0xe2, 0xe3, 0xe4, 0xe5, 0xe6, 0xe7, 0xe8, 0xe9, 0xea, 0xf1, 0xf2,
    0xf3, 0xf4, 0xf5, 0xf6, 0xf7, 0xf8, 0xf9, 0xfa,
  ],
};
const AC_CHROMA: HuffSpec = {
  bits: [0, 2, 1, 2, 4, 4, 3, 4, 7, 5, 4, 4, 0, 1, 2, 0x77],
  vals: [
    0x00, 0x01, 0x02, 0x03, 0x11, 0x04, 0x05, 0x21, 0x31, 0x06, 0x12, 0x41, 0x51, 0x07, 0x61, 0x71, 0x13, 0x22, 0x32, 0x81, 0x08, 0x14,
    0x42, 0x91, 0xa1, 0xb1, 0xc1, 0x09, 0x23, 0x33, 0x52, 0xf0, 0x15, 0x62, 0x72, 0xd1, 0x0a, 0x16, 0x24, 0x34, 0xe1, 0x25, 0xf1, 0x17,
    0x18, 0x19, 0x1a, 0x26, 0x27, 0x28, 0x29, 0x2a, 0x35, 0x36, 0x37, 0x38, 0x39, 0x3a, 0x43, 0x44, 0x45, 0x46, 0x47, 0x48, 0x49, 0x4a,
    0x53, 0x54, 0x55, 0x56, 0x57, 0x58, 0x59, 0x5a, 0x63, 0x64, 0x65, 0x66, 0x67, 0x68, 0x69, 0x6a, 0x73, 0x74, 0x75, 0x76, 0x77, 0x78,
    0x79, 0x7a, 0x82, 0x83, 0x84, 0x85, 0x86, 0x87, 0x88, 0x89, 0x8a, 0x92, 0x93, 0x94, 0x95, 0x96, 0x97, 0x98, 0x99, 0x9a, 0xa2, 0xa3,
    0xa4, 0xa5, 0xa6, 0xa7, 0xa8, 0xa9, 0xaa, 0xb2, 0xb3, 0xb4, 0xb5, 0xb6, 0xb7, 0xb8, 0xb9, 0xba, 0xc2, 0xc3, 0xc4, 0xc5, 0xc6, 0xc7,
    0xc8, 0xc9, 0xca, 0xd2, 0xd3, 0xd4, 0xd5, 0xd6, 0xd7, 0xd8, 0xd9, 0xda, 0xe2, 0xe3, 0xe4, 0xe5, 0xe6, 0xe7, 0xe8, 0xe9, 0xea, 0xf2,
    0xf3, 0xf4, 0xf5, 0xf6, 0xf7, 0xf8, 0xf9, 0xfa,
  ],
};

interface HuffTable {
  code: Int32Array;
  size: Int32Array;
}

/** Canonical codes from the code-length counts (jpeg_make_c_derived_tbl). */
function derive(spec: HuffSpec): HuffTable {
  const code = new Int32Array(256);
  const size = new Int32Array(256);
  let c = 0;
  let k = 0;
  for (let len = 1; len <= 16; len++) {
    for (let i = 0; i < spec.bits[len - 1]; i++) {
      const sym = spec.vals[k++];
      code[sym] = c++;
      size[sym] = len;
    }
    c <<= 1;
  }
  return { code, size };
}

const TABLES = { dcL: derive(DC_LUMA), acL: derive(AC_LUMA), dcC: derive(DC_CHROMA), acC: derive(AC_CHROMA) };

function scaledTable(base: number[], quality: number): number[] {
  let q = quality;
  if (q <= 0) q = 1;
  if (q > 100) q = 100;
  const scale = q < 50 ? Math.trunc(5000 / q) : 200 - q * 2;
  return base.map((v) => {
    let t = Math.trunc((v * scale + 50) / 100);
    if (t <= 0) t = 1;
    if (t > 32767) t = 32767;
    if (t > 255) t = 255;
    return t;
  });
}

class BitWriter {
  private buf = new Uint8Array(4096);
  private len = 0;
  private acc = 0; // pending bits, at most 7 between calls
  private n = 0;
  private put(b: number): void {
    if (this.len === this.buf.length) {
      const next = new Uint8Array(this.buf.length * 2);
      next.set(this.buf);
      this.buf = next;
    }
    this.buf[this.len++] = b;
  }
  bytes(...b: number[]): void {
    for (const v of b) this.put(v);
  }
  word(v: number): void {
    this.put((v >> 8) & 0xff);
    this.put(v & 0xff);
  }
  /** Appends the low `size` bits of `code` (size <= 16), stuffing a zero after each 0xFF byte. */
  bits(code: number, size: number): void {
    if (size === 0) return;
    this.acc = (this.acc << size) | (code & ((1 << size) - 1));
    this.n += size;
    while (this.n >= 8) {
      this.n -= 8;
      const byte = (this.acc >> this.n) & 0xff;
      this.put(byte);
      if (byte === 0xff) this.put(0);
    }
    this.acc &= (1 << this.n) - 1;
  }
  flush(): void {
    if (this.n > 0) this.bits(0x7f, 8 - this.n);
  }
  result(): Uint8Array {
    return this.buf.slice(0, this.len);
  }
}

const CONST_BITS = 13;
const PASS1_BITS = 2;
const descale = (x: number, n: number) => (x + (1 << (n - 1))) >> n;

/** jfdctint.c's accurate integer DCT, in place on 64 centred samples (output scaled by 8). */
function fdctIslow(d: Int32Array): void {
  for (let pass = 0; pass < 2; pass++) {
    for (let i = 0; i < 8; i++) {
      const at = (k: number) => (pass === 0 ? i * 8 + k : k * 8 + i);
      const d0 = d[at(0)], d1 = d[at(1)], d2 = d[at(2)], d3 = d[at(3)];
      const d4 = d[at(4)], d5 = d[at(5)], d6 = d[at(6)], d7 = d[at(7)];
      const tmp0 = d0 + d7, tmp7 = d0 - d7, tmp1 = d1 + d6, tmp6 = d1 - d6;
      const tmp2 = d2 + d5, tmp5 = d2 - d5, tmp3 = d3 + d4, tmp4 = d3 - d4;
      const tmp10 = tmp0 + tmp3, tmp13 = tmp0 - tmp3, tmp11 = tmp1 + tmp2, tmp12 = tmp1 - tmp2;
      const shift = pass === 0 ? CONST_BITS - PASS1_BITS : CONST_BITS + PASS1_BITS;
      if (pass === 0) {
        d[at(0)] = (tmp10 + tmp11) << PASS1_BITS;
        d[at(4)] = (tmp10 - tmp11) << PASS1_BITS;
      } else {
        d[at(0)] = descale(tmp10 + tmp11, PASS1_BITS);
        d[at(4)] = descale(tmp10 - tmp11, PASS1_BITS);
      }
      let z1 = (tmp12 + tmp13) * 4433;
      d[at(2)] = descale(z1 + tmp13 * 6270, shift);
      d[at(6)] = descale(z1 + tmp12 * -15137, shift);
      z1 = tmp4 + tmp7;
      let z2 = tmp5 + tmp6;
      let z3 = tmp4 + tmp6;
      let z4 = tmp5 + tmp7;
      const z5 = (z3 + z4) * 9633;
      const t4 = tmp4 * 2446, t5 = tmp5 * 16819, t6 = tmp6 * 25172, t7 = tmp7 * 12299;
      z1 *= -7373;
      z2 *= -20995;
      z3 = z3 * -16069 + z5;
      z4 = z4 * -3196 + z5;
      d[at(7)] = descale(t4 + z1 + z3, shift);
      d[at(5)] = descale(t5 + z2 + z4, shift);
      d[at(3)] = descale(t6 + z2 + z3, shift);
      d[at(1)] = descale(t7 + z1 + z4, shift);
    }
  }
}

interface Plane {
  data: Uint8Array;
  width: number; // padded
  height: number; // padded
}

/** Encodes one image (uint8 rows, 1 or 3 channels) to JPEG bytes. */
export function encodeJpeg(
  pixels: Uint8Array,
  height: number,
  width: number,
  channels: 1 | 3,
  opts: { quality: number; chroma: boolean; densityUnit: number; xDensity: number; yDensity: number },
): Uint8Array {
  const gray = channels === 1;
  const hs = gray || !opts.chroma ? 1 : 2; // max sampling factor
  const mcuW = 8 * hs;
  const mcusX = Math.ceil(width / mcuW);
  const mcusY = Math.ceil(height / mcuW);
  const padW = mcusX * mcuW;
  const padH = mcusY * mcuW;
  // Full-resolution planes, edge-replicated to whole MCUs.
  const planes: Uint8Array[] = [];
  const ncomp = gray ? 1 : 3;
  for (let c = 0; c < ncomp; c++) planes.push(new Uint8Array(padW * padH));
  const FIX = (x: number) => Math.round(x * 65536);
  for (let y = 0; y < padH; y++) {
    const sy = Math.min(y, height - 1);
    for (let x = 0; x < padW; x++) {
      const sx = Math.min(x, width - 1);
      const at = (sy * width + sx) * channels;
      const o = y * padW + x;
      if (gray) {
        planes[0][o] = pixels[at];
        continue;
      }
      const r = pixels[at], g = pixels[at + 1], b = pixels[at + 2];
      planes[0][o] = (FIX(0.299) * r + FIX(0.587) * g + FIX(0.114) * b + 32768) >> 16;
      planes[1][o] = (-FIX(0.16874) * r - FIX(0.33126) * g + FIX(0.5) * b + (128 << 16) + 32767) >> 16;
      planes[2][o] = (FIX(0.5) * r - FIX(0.41869) * g - FIX(0.08131) * b + (128 << 16) + 32767) >> 16;
    }
  }
  const comps: Plane[] = [{ data: planes[0], width: padW, height: padH }];
  for (let c = 1; c < ncomp; c++) {
    if (hs === 1) {
      comps.push({ data: planes[c], width: padW, height: padH });
      continue;
    }
    const w2 = padW / 2, h2 = padH / 2;
    const out = new Uint8Array(w2 * h2);
    // libjpeg pads the input to an even row count, downsamples, then repeats the last downsampled row.
    const lastRow = Math.ceil(height / 2) - 1;
    for (let y = 0; y < h2; y++) {
      let bias = 1;
      const sy = Math.min(y, lastRow);
      for (let x = 0; x < w2; x++) {
        const p = planes[c];
        const a = (2 * sy) * padW + 2 * x;
        out[y * w2 + x] = (p[a] + p[a + 1] + p[a + padW] + p[a + padW + 1] + bias) >> 2;
        bias ^= 3;
      }
    }
    comps.push({ data: out, width: w2, height: h2 });
  }
  const qL = scaledTable(LUMA_Q, opts.quality);
  const qC = scaledTable(CHROMA_Q, opts.quality);
  const w = new BitWriter();
  w.bytes(0xff, 0xd8);
  // JFIF APP0
  w.bytes(0xff, 0xe0);
  w.word(16);
  w.bytes(0x4a, 0x46, 0x49, 0x46, 0, 1, 1, opts.densityUnit);
  w.word(opts.xDensity);
  w.word(opts.yDensity);
  w.bytes(0, 0);
  const dqt = (id: number, q: number[]) => {
    w.bytes(0xff, 0xdb);
    w.word(67);
    w.bytes(id);
    for (let i = 0; i < 64; i++) w.bytes(q[NATURAL[i]]);
  };
  dqt(0, qL);
  if (!gray) dqt(1, qC);
  // SOF0
  w.bytes(0xff, 0xc0);
  w.word(8 + 3 * ncomp);
  w.bytes(8);
  w.word(height);
  w.word(width);
  w.bytes(ncomp);
  w.bytes(1, (hs << 4) | hs, 0);
  if (!gray) w.bytes(2, 0x11, 1, 3, 0x11, 1);
  const dht = (cls: number, spec: HuffSpec) => {
    w.bytes(0xff, 0xc4);
    w.word(2 + 1 + 16 + spec.vals.length);
    w.bytes(cls);
    w.bytes(...spec.bits);
    w.bytes(...spec.vals);
  };
  dht(0x00, DC_LUMA);
  dht(0x10, AC_LUMA);
  if (!gray) {
    dht(0x01, DC_CHROMA);
    dht(0x11, AC_CHROMA);
  }
  // SOS
  w.bytes(0xff, 0xda);
  w.word(6 + 2 * ncomp);
  w.bytes(ncomp);
  w.bytes(1, 0x00);
  if (!gray) w.bytes(2, 0x11, 3, 0x11);
  w.bytes(0, 63, 0);

  const lastDc = new Int32Array(ncomp);
  const block = new Int32Array(64);
  const coef = new Int32Array(64);
  // Real blocks per component: ceil(width * h / (hmax * 8)).
  const realBlocksX = comps.map((_, c) => Math.ceil((width * (c === 0 ? hs : 1)) / (hs * 8)));
  const realBlocksY = comps.map((_, c) => Math.ceil((height * (c === 0 ? hs : 1)) / (hs * 8)));
  const encodeBlock = (c: number, dc: HuffTable, ac: HuffTable) => {
    const diff = coef[0] - lastDc[c];
    lastDc[c] = coef[0];
    let t = diff < 0 ? -diff : diff;
    let nbits = 0;
    while (t) {
      nbits++;
      t >>= 1;
    }
    w.bits(dc.code[nbits], dc.size[nbits]);
    if (nbits) w.bits((diff < 0 ? diff - 1 : diff) & ((1 << nbits) - 1), nbits);
    let run = 0;
    for (let k = 1; k < 64; k++) {
      const v = coef[NATURAL[k]];
      if (v === 0) {
        run++;
        continue;
      }
      while (run > 15) {
        w.bits(ac.code[0xf0], ac.size[0xf0]);
        run -= 16;
      }
      let a = v < 0 ? -v : v;
      let nb = 0;
      while (a) {
        nb++;
        a >>= 1;
      }
      const sym = (run << 4) + nb;
      w.bits(ac.code[sym], ac.size[sym]);
      w.bits((v < 0 ? v - 1 : v) & ((1 << nb) - 1), nb);
      run = 0;
    }
    if (run > 0) w.bits(ac.code[0], ac.size[0]);
  };
  const dctBlock = (p: Plane, bx: number, by: number, q: number[]) => {
    for (let y = 0; y < 8; y++) for (let x = 0; x < 8; x++) block[y * 8 + x] = p.data[(by * 8 + y) * p.width + bx * 8 + x] - 128;
    fdctIslow(block);
    for (let i = 0; i < 64; i++) {
      const div = q[i] << 3;
      let t = block[i];
      if (t < 0) {
        t = -t + (div >> 1);
        t = t >= div ? Math.trunc(t / div) : 0;
        coef[i] = -t;
      } else {
        t += div >> 1;
        coef[i] = t >= div ? Math.trunc(t / div) : 0;
      }
    }
  };
  let prevDcInMcu = 0;
  for (let my = 0; my < mcusY; my++) {
    for (let mx = 0; mx < mcusX; mx++) {
      for (let c = 0; c < ncomp; c++) {
        const h = c === 0 ? hs : 1;
        const q = c === 0 ? qL : qC;
        const dc = c === 0 ? TABLES.dcL : TABLES.dcC;
        const ac = c === 0 ? TABLES.acL : TABLES.acC;
        for (let yy = 0; yy < h; yy++) {
          for (let xx = 0; xx < h; xx++) {
            const bx = mx * h + xx;
            const by = my * h + yy;
            if (by >= realBlocksY[c]) {
              // A dummy row at the bottom: zero AC, DC of the MCU's block above it (the last block of the previous row).
              coef.fill(0);
              coef[0] = prevDcInMcu;
            } else if (bx >= realBlocksX[c]) {
              coef.fill(0);
              coef[0] = prevDcInMcu;
            } else {
              dctBlock(comps[c], bx, by, q);
            }
            prevDcInMcu = coef[0];
            encodeBlock(c, dc, ac);
          }
        }
      }
    }
  }
  w.flush();
  w.bytes(0xff, 0xd9);
  return w.result();
}

function encodeKernel(ctx: KernelContext, variable: boolean): Tensor[] {
  const image = ctx.inputs[0];
  let quality: number;
  if (variable) {
    const qt = ctx.inputs[1];
    if (qt.rank !== 0) throw invalidArgument(`quality must be scalar: ${shapeString(qt.shape)}`);
    quality = qt.numbers()[0];
  } else {
    quality = ctx.attrs.int('quality', 95);
  }
  if (!(quality >= 0 && quality <= 100)) throw invalidArgument(`quality must be in [0,100], got ${quality}`);
  const format = ctx.attrs.string('format', '');
  if (!['', 'grayscale', 'rgb'].includes(format)) throw invalidArgument(`format must be '', grayscale or rgb, got ${format}`);
  if (ctx.attrs.bool('progressive', false)) throw unimplemented('EncodeJpeg: progressive encoding is not supported by this runtime');
  if (ctx.attrs.bool('optimize_size', false)) throw unimplemented('EncodeJpeg: optimize_size is not supported by this runtime');
  const unit = ctx.attrs.string('density_unit', 'in');
  if (unit !== 'in' && unit !== 'cm') throw invalidArgument(`density_unit must be 'in' or 'cm', not ${unit}`);
  if (ctx.attrs.string('xmp_metadata', '') !== '') throw unimplemented('EncodeJpeg: xmp_metadata is not supported by this runtime');
  if (image.dtype !== 'uint8') throw invalidArgument('image must be uint8');
  if (image.rank !== 3) throw invalidArgument(`image must be 3-dimensional${shapeString(image.shape)}`);
  const [h, w, c] = image.shape;
  if (h >= 65536 || w >= 65536) throw invalidArgument(`image too large to encode: ${shapeString(image.shape)}`);
  let channels = c;
  if (format === 'grayscale') channels = 1;
  else if (format === 'rgb') channels = 3;
  if (format === '' && c !== 1 && c !== 3) throw invalidArgument(`image must have 1 or 3 channels, got ${shapeString(image.shape)}`);
  if (channels !== c) throw invalidArgument(`Wrong number of channels for ${format}: expected ${channels}, got ${shapeString(image.shape)}`);
  if (h === 0 || w === 0) throw invalidArgument(`Invalid image provided.`);
  const bytes = encodeJpeg(image.values() as Uint8Array, h, w, channels as 1 | 3, {
    quality,
    chroma: ctx.attrs.bool('chroma_downsampling', true),
    densityUnit: unit === 'in' ? 1 : 2,
    xDensity: ctx.attrs.int('x_density', 300),
    yDensity: ctx.attrs.int('y_density', 300),
  });
  return [Tensor.fromHost('string', [], [bytes])];
}

registerKernel({ op: 'EncodeJpeg', kernel: (ctx) => encodeKernel(ctx, false) });
registerKernel({ op: 'EncodeJpegVariableQuality', kernel: (ctx) => encodeKernel(ctx, true) });
