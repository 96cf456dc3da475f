/**
 * JPEG decoding bit-exact with TensorFlow's DecodeJpeg on libjpeg-turbo
 * (tensorflow/core/lib/jpeg/jpeg_mem.cc + jpeg_handle.cc). Our own decoder,
 * following libjpeg-turbo's arithmetic:
 *
 *  - markers (jdmarker.c): DQT (8/16-bit), DHT (checked like jdhuff.c's
 *    jpeg_make_d_derived_tbl), SOF0/1/2 at 8 bits, SOS, DRI, APP0 JFIF,
 *    APP14 Adobe; the frame header is read (and its size checked) before
 *    anything is allocated;
 *  - Huffman entropy decoding, sequential (jdhuff.c) and progressive
 *    (jdphuff.c: DC first/refine, AC first/refine with EOB runs), restart
 *    markers; at a marker or the end of data the bit reader pads with zeros
 *    and, once a needed bit was padding, skips the rest of the segment's MCUs
 *    ("insufficient_data"); bad codes decode as symbol 0;
 *  - the end of the data: without try_recover_truncated, libjpeg suspends,
 *    TF keeps the complete scanlines and blackens the rest (or fails below
 *    acceptable_fraction; multi-scan files fail); with it, TF's source
 *    manager inserts a fake EOI (zero padding as above);
 *  - IDCT: jpeg_idct_ifast ('' — TF's default flags use JDCT_IFAST — and
 *    INTEGER_FAST), jpeg_idct_islow (INTEGER_ACCURATE)
 *    (AA&N multiplier table of jddctmgr.c for ifast), and for `ratio`
 *    2/4/8 the reduced jpeg_idct_4x4 / 2x2 / 1x1 (jidctred.c), with each
 *    component's DCT scaling chosen as jdmaster.c does (chroma scaled up in
 *    the IDCT instead of upsampled when it can be); results saturate to
 *    0..255 as libjpeg-turbo's SIMD IDCTs do;
 *  - upsampling (jdsample.c): fancy h2v1 / h1v2 / h2v2 triangle filters when
 *    fancy_upscaling and the scaled DCT size > 1 (h2v1/h2v2 only when the
 *    component is wider than 2 samples), replication otherwise (libjpeg's
 *    merged upsampler gives the same bytes as replication);
 *  - colour (jdcolor.c): libjpeg's colour space guess (JFIF, Adobe transform,
 *    component ids), fixed-point YCbCr → RGB tables, RGB → gray, YCCK → CMYK,
 *    then TF's CMYK → RGB (inverted when an Adobe marker was seen);
 *  - DecodeAndCropJpeg: the window is validated against the (scaled) output
 *    size; like jpeg_crop_scanline the decoded columns start at an iMCU
 *    boundary, so the upsamplers see the cropped rows' ends as image edges;
 *  - a single sequential scan is rendered one MCU row at a time (no
 *    whole-image coefficient buffer); progressive and multi-scan files keep
 *    all coefficients; at most MAX_SCANS scans (bounded work per byte).
 * Verified pixel for pixel against TF in test/runtime/kernels/jpeg_fixtures
 * (tools/conformance/make_jpeg_fixtures.py). Progressive images whose
 * coefficients are incomplete (truncated files under try_recover_truncated)
 * get libjpeg's block smoothing. Known gap: the pixels TF returns for
 * truncated files under try_recover_truncated are not reproduced exactly
 * (baseline: TF's handling of the tail after the data ends; progressive:
 * within a few levels at the right edge); shapes, successes and failures are.
 * Also a gap: arithmetic-coded (SOF9/SOF10) JPEGs, which TF's libjpeg-turbo
 * build decodes, are refused here, as are lossless and 12-bit ones.
 * Errors: INVALID_ARGUMENT "jpeg::Uncompress failed. Invalid JPEG data or crop window."
 */
import { invalidArgument } from '../errors.js';
import { checkTensorSize } from '../limits.js';
import type { DecodedImage } from './image_codecs.js';
import { checkImagePixels } from './image_limits.js';

export const JPEG_FAILED = 'jpeg::Uncompress failed. Invalid JPEG data or crop window.';

export interface JpegOptions {
  /** 0 (as in file, at most 3), 1 or 3. */
  channels: number;
  ratio?: number;
  fancyUpscaling?: boolean;
  /** '' / 'INTEGER_ACCURATE' (islow) or 'INTEGER_FAST' (ifast). */
  dctMethod?: string;
  tryRecoverTruncated?: boolean;
  acceptableFraction?: number;
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

const fail = () => invalidArgument(JPEG_FAILED);

/** Natural-order index of the k-th zigzag coefficient (jutils.c jpeg_natural_order). */
const NATURAL = Int32Array.of(
  0, 1, 8, 16, 9, 2, 3, 10, 17, 24, 32, 25, 18, 11, 4, 5, 12, 19, 26, 33, 40, 48, 41, 34, 27, 20, 13, 6, 7, 14, 21, 28,
  35, 42, 49, 56, 57, 50, 43, 36, 29, 22, 15, 23, 30, 37, 44, 51, 58, 59, 52, 45, 38, 31, 39, 46, 53, 60, 61, 54, 47,
  55, 62, 63,
);

// ---------------------------------------------------------------------------
// Huffman tables

const LOOKAHEAD = 9;

interface HuffTable {
  /** (length << 8) | symbol for codes of at most LOOKAHEAD bits, 0 otherwise. */
  look: Int32Array;
  maxcode: Int32Array;
  valoff: Int32Array;
  vals: Uint8Array;
  /**
   * AC tables: for a 9-bit lookahead holding a whole (code, value) pair,
   * (value << 8) | (run << 4) | bits, else 0 (libjpeg-turbo's fast AC idea).
   */
  fastAc: Int32Array;
}

function buildHuffman(counts: Uint8Array, vals: Uint8Array, isDc: boolean): HuffTable {
  const look = new Int32Array(1 << LOOKAHEAD);
  const maxcode = new Int32Array(18).fill(-1);
  const valoff = new Int32Array(17);
  let code = 0;
  let p = 0;
  for (let l = 1; l <= 16; l++) {
    const n = counts[l - 1];
    if (n) {
      valoff[l] = p - code;
      for (let i = 0; i < n; i++, p++, code++) {
        if (l <= LOOKAHEAD) {
          const shift = LOOKAHEAD - l;
          for (let f = 0; f < 1 << shift; f++) look[(code << shift) | f] = (l << 8) | vals[p];
        }
      }
      maxcode[l] = code - 1;
    }
    // jpeg_make_d_derived_tbl: codes must fit their length.
    if (code > 1 << l) throw fail();
    code <<= 1;
  }
  maxcode[17] = 0x7fffffff;
  if (isDc) for (let i = 0; i < p; i++) if (vals[i] > 15) throw fail();
  const fastAc = new Int32Array(isDc ? 0 : 1 << LOOKAHEAD);
  if (!isDc) {
    for (let i = 0; i < 1 << LOOKAHEAD; i++) {
      const e = look[i];
      if (!e) continue;
      const l = e >> 8;
      const rs = e & 255;
      const size = rs & 15;
      if (size === 0 || l + size > LOOKAHEAD) continue;
      const raw = (i >> (LOOKAHEAD - l - size)) & ((1 << size) - 1);
      const v = raw < 1 << (size - 1) ? raw - (1 << size) + 1 : raw;
      fastAc[i] = (v << 8) | ((rs >> 4) << 4) | (l + size);
    }
  }
  return { look, maxcode, valoff, vals, fastAc };
}

// ---------------------------------------------------------------------------
// Entropy decoding

class Suspend extends Error {}

/** libjpeg stuffs zero bits after a marker or the end of the data. */
const PAD = 0;

interface Component {
  id: number;
  h: number;
  v: number;
  tq: number;
  /** Blocks per line / column covering the component (libjpeg width_in_blocks). */
  bw: number;
  bh: number;
  /** Blocks per line / column of the MCU-padded coefficient array. */
  bwPad: number;
  bhPad: number;
  /** All block rows (bhPad), or one MCU row when a single sequential scan is rendered as it goes. */
  coefs: Int16Array;
  streaming: boolean;
  /** First block row held in coefs. */
  rowBase: number;
  /** Progressive: jdphuff.c's coef_bits for coefficients 0..9 (-1 unseen) and their state before the last scan. */
  bits: Int32Array;
  prevBits: Int32Array;
  quant?: Uint16Array;
  dcPred: number;
  dc?: HuffTable;
  ac?: HuffTable;
}

class BitReader {
  pos: number;
  buf = 0;
  cnt = 0;
  /** Zero bits appended after a marker or the end of data (the low `pad` bits of buf). */
  pad = 0;
  atMarker = false;
  /** A needed bit was padding: the rest of this restart segment is skipped. */
  insufficient = false;
  /** libjpeg's own bit buffer (64-bit, refilled to 57 bits), only to know when it would suspend. */
  private ljPos: number;
  private ljBits = 0;
  private ljMarker = false;

  constructor(
    readonly d: Uint8Array,
    start: number,
    readonly recover: boolean,
  ) {
    this.pos = start;
    this.ljPos = start;
  }

  /** jpeg_fill_bit_buffer's trigger: without recovery, running out of data while refilling suspends. */
  private check(n: number): void {
    const d = this.d;
    while (this.ljBits < 57) {
      if (this.ljPos >= d.length) {
        if (!this.recover) throw new Suspend();
        this.ljMarker = true;
        return;
      }
      if (d[this.ljPos] === 0xff) {
        let p = this.ljPos + 1;
        while (p < d.length && d[p] === 0xff) p++;
        if (p >= d.length) {
          if (!this.recover) throw new Suspend();
          this.ljMarker = true;
          return;
        }
        if (d[p] !== 0) {
          this.ljMarker = true;
          return;
        }
        this.ljPos = p + 1;
      } else this.ljPos++;
      this.ljBits += 8;
    }
  }

  private fill(need: number): void {
    const d = this.d;
    while (this.cnt < need + 8 && this.cnt <= 24) {
      let byte = 0;
      if (!this.atMarker) {
        if (this.pos >= d.length) {
          this.atMarker = true;
        } else if (d[this.pos] === 0xff) {
          let p = this.pos + 1;
          while (p < d.length && d[p] === 0xff) p++;
          if (p >= d.length) {
            this.atMarker = true;
            this.pos = d.length;
          } else if (d[p] === 0) {
            byte = 0xff;
            this.pos = p + 1;
          } else {
            this.atMarker = true;
            this.pos = p - 1;
          }
        } else byte = d[this.pos++];
      }
      if (this.atMarker) {
        this.pad += 8;
        byte = PAD;
      }
      this.buf = (this.buf << 8) | byte;
      this.cnt += 8;
    }
  }

  /** Makes sure `n` bits are available (libjpeg's CHECK_BIT_BUFFER / lookahead fill). */
  private ensure(n: number): void {
    if (this.cnt < n) {
      if (this.atMarker) {
        // Only padding can come: libjpeg pads without touching the source.
        while (this.cnt < n) {
          this.buf = (this.buf << 8) | PAD;
          this.cnt += 8;
          this.pad += 8;
        }
      } else this.fill(n);
    }
  }

  private consume(n: number): void {
    this.ljBits -= n;
    this.cnt -= n;
    if (this.cnt < this.pad) {
      this.insufficient = true;
      this.pad = this.cnt;
    }
  }

  bits(n: number): number {
    if (n === 0) return 0;
    if (this.ljBits < n && !this.ljMarker) this.check(n);
    if (this.cnt < n) this.ensure(n);
    const v = (this.buf >>> (this.cnt - n)) & ((1 << n) - 1);
    this.consume(n);
    return v;
  }

  bit(): number {
    return this.bits(1);
  }

  /** HUFF_EXTEND of `s` received bits. */
  receiveExtend(s: number): number {
    const v = this.bits(s);
    return v < 1 << (s - 1) ? v - (1 << s) + 1 : v;
  }

  /** A whole AC (run, value) pair from the lookahead when it fits, consumed; else 0. */
  fastAc(t: HuffTable): number {
    if ((this.ljBits < LOOKAHEAD && !this.ljMarker) || this.cnt < LOOKAHEAD) return 0;
    const e = t.fastAc[(this.buf >>> (this.cnt - LOOKAHEAD)) & ((1 << LOOKAHEAD) - 1)];
    if (e) this.consume(e & 15);
    return e;
  }

  decode(t: HuffTable): number {
    if (this.ljBits < 8 && !this.ljMarker) this.check(8);
    if (this.cnt < LOOKAHEAD) this.ensure(LOOKAHEAD);
    {
      const e = t.look[(this.buf >>> (this.cnt - LOOKAHEAD)) & ((1 << LOOKAHEAD) - 1)];
      if (e) {
        this.consume(e >> 8);
        return e & 255;
      }
    }
    let l = 1;
    let code = this.bit();
    while (code > t.maxcode[l]) {
      code = (code << 1) | this.bit();
      l++;
    }
    if (l > 16) return 0;
    return t.vals[(t.valoff[l] + code) & 255];
  }

  /** At a marker that is no RSTn: no later restart can resume decoding. */
  stuck(): boolean {
    const d = this.d;
    return this.atMarker && !(this.pos + 1 < d.length && d[this.pos] === 0xff && d[this.pos + 1] >= 0xd0 && d[this.pos + 1] <= 0xd7);
  }

  /** At a restart interval's end: drop the buffered bits and read the RSTn marker. */
  restart(): void {
    this.buf = 0;
    this.cnt = 0;
    this.pad = 0;
    this.ljBits = 0;
    const d = this.d;
    let p = this.pos;
    if (!this.atMarker) {
      // jdmarker.c next_marker: skip garbage up to the next marker.
      while (p < d.length && !(d[p] === 0xff && p + 1 < d.length && d[p + 1] !== 0 && d[p + 1] !== 0xff)) p++;
    }
    while (p + 1 < d.length && d[p] === 0xff && d[p + 1] === 0xff) p++;
    if (p + 1 < d.length && d[p] === 0xff && d[p + 1] >= 0xd0 && d[p + 1] <= 0xd7) {
      this.pos = p + 2;
      this.ljPos = p + 2;
      this.ljMarker = false;
      this.atMarker = false;
      this.insufficient = false;
    } else {
      // Another marker (or the end): the segment is treated as empty.
      this.pos = p;
      this.atMarker = true;
    }
  }
}

interface Frame {
  width: number;
  height: number;
  progressive: boolean;
  comps: Component[];
  maxH: number;
  maxV: number;
  mcusX: number;
  mcusY: number;
  /** jdcoefct.c last_good_iMCU_row: the last iMCU row whose MCUs began with data. */
  lastGood: number;
  scans: number;
}

interface Scan {
  comps: Component[];
  ss: number;
  se: number;
  ah: number;
  al: number;
}

/** Decodes one scan; returns the number of complete iMCU rows when it suspends, else -1. */
function decodeScan(
  frame: Frame, scan: Scan, br: BitReader, restartInterval: number, eobrun: { n: number }, onRow?: (my: number) => void,
): void {
  const { comps, ss, se, ah, al } = scan;
  const progressive = frame.progressive;
  const single = comps.length === 1;
  const c0 = comps[0];
  const mcusX = single ? c0.bw : frame.mcusX;
  const mcusY = single ? c0.bh : frame.mcusY;
  const total = mcusX * mcusY;
  let todo = restartInterval;
  for (const c of comps) c.dcPred = 0;
  eobrun.n = 0;

  const decodeBlock = (c: Component, off: number) => {
    const co = c.coefs;
    if (!progressive) {
      const t = br.decode(c.dc!);
      const diff = t === 0 ? 0 : br.receiveExtend(t);
      c.dcPred = (c.dcPred + diff) | 0;
      co[off] = c.dcPred;
      const ac = c.ac!;
      for (let k = 1; k < 64; k++) {
        const e = br.fastAc(ac);
        if (e) {
          k += (e >> 4) & 15;
          if (k > 63) break;
          co[off + NATURAL[k]] = e >> 8;
          continue;
        }
        const rs = br.decode(ac);
        const s = rs & 15;
        const r = rs >> 4;
        if (s === 0) {
          if (r !== 15) break;
          k += 15;
        } else {
          k += r;
          const v = br.receiveExtend(s);
          if (k > 63) break;
          co[off + NATURAL[k]] = v;
        }
      }
      return;
    }
    if (ss === 0) {
      if (ah === 0) {
        const t = br.decode(c.dc!);
        const diff = t === 0 ? 0 : br.receiveExtend(t);
        c.dcPred = (c.dcPred + diff) | 0;
        co[off] = c.dcPred << al;
      } else if (br.bit()) co[off] |= 1 << al;
      return;
    }
    const ac = c.ac!;
    if (ah === 0) {
      if (eobrun.n > 0) {
        eobrun.n--;
        return;
      }
      for (let k = ss; k <= se; k++) {
        const rs = br.decode(ac);
        const s = rs & 15;
        const r = rs >> 4;
        if (s) {
          k += r;
          const v = br.receiveExtend(s);
          if (k > 63) break;
          co[off + NATURAL[k]] = v * (1 << al);
        } else if (r === 15) k += 15;
        else {
          eobrun.n = (1 << r) - 1;
          if (r) eobrun.n += br.bits(r);
          break;
        }
      }
      return;
    }
    // AC refinement (jdphuff.c decode_mcu_AC_refine).
    const p1 = 1 << al;
    const m1 = -1 << al;
    let k = ss;
    if (eobrun.n === 0) {
      for (; k <= se; k++) {
        const rs = br.decode(ac);
        let r = rs >> 4;
        const s = rs & 15;
        let v = 0;
        if (s) {
          // s must be 1; libjpeg warns otherwise and carries on.
          v = br.bit() ? p1 : m1;
        } else if (r !== 15) {
          eobrun.n = 1 << r;
          if (r) eobrun.n += br.bits(r);
          break;
        }
        while (k <= se) {
          const z = off + NATURAL[k];
          if (co[z] !== 0) {
            if (br.bit()) {
              if ((co[z] & p1) === 0) co[z] += co[z] >= 0 ? p1 : m1;
            }
          } else {
            if (--r < 0) break;
          }
          k++;
        }
        if (v && k <= se) co[off + NATURAL[k]] = v;
      }
    }
    if (eobrun.n > 0) {
      for (; k <= se; k++) {
        const z = off + NATURAL[k];
        if (co[z] !== 0 && br.bit()) {
          if ((co[z] & p1) === 0) co[z] += co[z] >= 0 ? p1 : m1;
        }
      }
      eobrun.n--;
    }
  };

  for (let m = 0; m < total; m++) {
    if (restartInterval && todo === 0) {
      br.restart();
      for (const c of comps) c.dcPred = 0;
      eobrun.n = 0;
      todo = restartInterval;
    }
    if (br.insufficient && br.stuck()) break; // nothing more can be decoded in this scan
    const mx = m % mcusX;
    const my = (m / mcusX) | 0;
    if (!br.insufficient) {
      frame.lastGood = single ? Math.floor(my / c0.v) : my;
      if (single) {
        decodeBlock(c0, ((my - c0.rowBase) * c0.bwPad + mx) * 64);
      } else {
        for (const c of comps) {
          for (let v = 0; v < c.v; v++) {
            const row = my * c.v + v - c.rowBase;
            for (let h = 0; h < c.h; h++) decodeBlock(c, (row * c.bwPad + mx * c.h + h) * 64);
          }
        }
      }
    }
    todo--;
    scanProgress.mcus = m + 1;
    if (onRow && mx === mcusX - 1) onRow(my);
  }
  if (onRow) {
    // Rows the data never reached keep zero coefficients (uniform gray).
    for (let my = Math.floor(scanProgress.mcus / mcusX); my < mcusY; my++) if (my * mcusX + mcusX > scanProgress.mcus) onRow(my);
  }
}

/** MCUs completed by the scan being decoded (for truncated baseline files). */
const scanProgress = { mcus: 0 };

// ---------------------------------------------------------------------------
// Inverse DCTs (dequantization included); outputs saturate to 0..255.

const clamp = (v: number) => (v < 0 ? 0 : v > 255 ? 255 : v);
const ws = new Int32Array(64);

function idctIslow(co: Int16Array, off: number, q: Uint16Array, out: Uint8Array, o: number, stride: number): void {
  for (let c = 0; c < 8; c++) {
    const i = off + c;
    if (co[i + 8] === 0 && co[i + 16] === 0 && co[i + 24] === 0 && co[i + 32] === 0 && co[i + 40] === 0 && co[i + 48] === 0 && co[i + 56] === 0) {
      const dc = (co[i] * q[c]) << 2;
      for (let r = 0; r < 8; r++) ws[r * 8 + c] = dc;
      continue;
    }
    let z2 = co[i + 16] * q[c + 16];
    let z3 = co[i + 48] * q[c + 48];
    let z1 = (z2 + z3) * 4433;
    let tmp2 = z1 + z3 * -15137;
    let tmp3 = z1 + z2 * 6270;
    z2 = co[i] * q[c];
    z3 = co[i + 32] * q[c + 32];
    let tmp0 = (z2 + z3) * 8192;
    let tmp1 = (z2 - z3) * 8192;
    const tmp10 = tmp0 + tmp3;
    const tmp13 = tmp0 - tmp3;
    const tmp11 = tmp1 + tmp2;
    const tmp12 = tmp1 - tmp2;
    tmp3 = co[i + 8] * q[c + 8];
    tmp2 = co[i + 24] * q[c + 24];
    tmp1 = co[i + 40] * q[c + 40];
    tmp0 = co[i + 56] * q[c + 56];
    let z4 = tmp1 + tmp3;
    z3 = tmp0 + tmp2;
    z2 = tmp1 + tmp2;
    z1 = tmp0 + tmp3;
    const z5 = (z3 + z4) * 9633;
    tmp3 *= 12299;
    tmp2 *= 25172;
    tmp1 *= 16819;
    tmp0 *= 2446;
    z4 = z4 * -3196 + z5;
    z3 = z3 * -16069 + z5;
    z1 *= -7373;
    z2 *= -20995;
    tmp3 += z1 + z4;
    tmp2 += z2 + z3;
    tmp1 += z2 + z4;
    tmp0 += z1 + z3;
    ws[c] = (tmp10 + tmp3 + 1024) >> 11;
    ws[56 + c] = (tmp10 - tmp3 + 1024) >> 11;
    ws[8 + c] = (tmp11 + tmp2 + 1024) >> 11;
    ws[48 + c] = (tmp11 - tmp2 + 1024) >> 11;
    ws[16 + c] = (tmp12 + tmp1 + 1024) >> 11;
    ws[40 + c] = (tmp12 - tmp1 + 1024) >> 11;
    ws[24 + c] = (tmp13 + tmp0 + 1024) >> 11;
    ws[32 + c] = (tmp13 - tmp0 + 1024) >> 11;
  }
  for (let r = 0; r < 8; r++) {
    const w = r * 8;
    const p = o + r * stride;
    let z2 = ws[w + 2];
    let z3 = ws[w + 6];
    let z1 = (z2 + z3) * 4433;
    let tmp0 = (ws[w] + ws[w + 4]) * 8192;
    let tmp1 = (ws[w] - ws[w + 4]) * 8192;
    let tmp2 = z1 + z3 * -15137;
    let tmp3 = z1 + z2 * 6270;
    const tmp10 = tmp0 + tmp3;
    const tmp13 = tmp0 - tmp3;
    const tmp11 = tmp1 + tmp2;
    const tmp12 = tmp1 - tmp2;
    tmp3 = ws[w + 1];
    tmp2 = ws[w + 3];
    tmp1 = ws[w + 5];
    tmp0 = ws[w + 7];
    let z4 = tmp1 + tmp3;
    z3 = tmp0 + tmp2;
    z2 = tmp1 + tmp2;
    z1 = tmp0 + tmp3;
    const z5 = (z3 + z4) * 9633;
    tmp3 *= 12299;
    tmp2 *= 25172;
    tmp1 *= 16819;
    tmp0 *= 2446;
    z4 = z4 * -3196 + z5;
    z3 = z3 * -16069 + z5;
    z1 *= -7373;
    z2 *= -20995;
    tmp3 += z1 + z4;
    tmp2 += z2 + z3;
    tmp1 += z2 + z4;
    tmp0 += z1 + z3;
    const R = 1 << 17;
    out[p] = clamp(((tmp10 + tmp3 + R) >> 18) + 128);
    out[p + 7] = clamp(((tmp10 - tmp3 + R) >> 18) + 128);
    out[p + 1] = clamp(((tmp11 + tmp2 + R) >> 18) + 128);
    out[p + 6] = clamp(((tmp11 - tmp2 + R) >> 18) + 128);
    out[p + 2] = clamp(((tmp12 + tmp1 + R) >> 18) + 128);
    out[p + 5] = clamp(((tmp12 - tmp1 + R) >> 18) + 128);
    out[p + 3] = clamp(((tmp13 + tmp0 + R) >> 18) + 128);
    out[p + 4] = clamp(((tmp13 - tmp0 + R) >> 18) + 128);
  }
}

/** jidctfst.c: AA&N with 8-bit constants, truncating shifts. */
const mulF = (v: number, k: number) => (v * k) >> 8;
function idctIfast(co: Int16Array, off: number, q: Int32Array, out: Uint8Array, o: number, stride: number): void {
  for (let c = 0; c < 8; c++) {
    const i = off + c;
    if (co[i + 8] === 0 && co[i + 16] === 0 && co[i + 24] === 0 && co[i + 32] === 0 && co[i + 40] === 0 && co[i + 48] === 0 && co[i + 56] === 0) {
      const dc = co[i] * q[c];
      for (let r = 0; r < 8; r++) ws[r * 8 + c] = dc;
      continue;
    }
    let tmp0 = co[i] * q[c];
    let tmp1 = co[i + 16] * q[c + 16];
    let tmp2 = co[i + 32] * q[c + 32];
    let tmp3 = co[i + 48] * q[c + 48];
    let tmp10 = tmp0 + tmp2;
    let tmp11 = tmp0 - tmp2;
    let tmp13 = tmp1 + tmp3;
    let tmp12 = mulF(tmp1 - tmp3, 362) - tmp13;
    tmp0 = tmp10 + tmp13;
    tmp3 = tmp10 - tmp13;
    tmp1 = tmp11 + tmp12;
    tmp2 = tmp11 - tmp12;
    const tmp4 = co[i + 8] * q[c + 8];
    let tmp5 = co[i + 24] * q[c + 24];
    let tmp6 = co[i + 40] * q[c + 40];
    let tmp7 = co[i + 56] * q[c + 56];
    const z13 = tmp6 + tmp5;
    const z10 = tmp6 - tmp5;
    const z11 = tmp4 + tmp7;
    const z12 = tmp4 - tmp7;
    tmp7 = z11 + z13;
    tmp11 = mulF(z11 - z13, 362);
    const z5 = mulF(z10 + z12, 473);
    tmp10 = mulF(z12, 277) - z5;
    tmp12 = mulF(z10, -669) + z5;
    tmp6 = tmp12 - tmp7;
    tmp5 = tmp11 - tmp6;
    const t4 = tmp10 + tmp5;
    ws[c] = tmp0 + tmp7;
    ws[56 + c] = tmp0 - tmp7;
    ws[8 + c] = tmp1 + tmp6;
    ws[48 + c] = tmp1 - tmp6;
    ws[16 + c] = tmp2 + tmp5;
    ws[40 + c] = tmp2 - tmp5;
    ws[32 + c] = tmp3 + t4;
    ws[24 + c] = tmp3 - t4;
  }
  for (let r = 0; r < 8; r++) {
    const w = r * 8;
    const p = o + r * stride;
    let tmp10 = ws[w] + ws[w + 4];
    let tmp11 = ws[w] - ws[w + 4];
    const tmp13 = ws[w + 2] + ws[w + 6];
    let tmp12 = mulF(ws[w + 2] - ws[w + 6], 362) - tmp13;
    const tmp0 = tmp10 + tmp13;
    const tmp3 = tmp10 - tmp13;
    const tmp1 = tmp11 + tmp12;
    const tmp2 = tmp11 - tmp12;
    const z13 = ws[w + 5] + ws[w + 3];
    const z10 = ws[w + 5] - ws[w + 3];
    const z11 = ws[w + 1] + ws[w + 7];
    const z12 = ws[w + 1] - ws[w + 7];
    const tmp7 = z11 + z13;
    tmp11 = mulF(z11 - z13, 362);
    const z5 = mulF(z10 + z12, 473);
    tmp10 = mulF(z12, 277) - z5;
    tmp12 = mulF(z10, -669) + z5;
    const tmp6 = tmp12 - tmp7;
    const tmp5 = tmp11 - tmp6;
    const tmp4 = tmp10 + tmp5;
    out[p] = clamp((((tmp0 + tmp7) | 0) >> 5) + 128);
    out[p + 7] = clamp((((tmp0 - tmp7) | 0) >> 5) + 128);
    out[p + 1] = clamp((((tmp1 + tmp6) | 0) >> 5) + 128);
    out[p + 6] = clamp((((tmp1 - tmp6) | 0) >> 5) + 128);
    out[p + 2] = clamp((((tmp2 + tmp5) | 0) >> 5) + 128);
    out[p + 5] = clamp((((tmp2 - tmp5) | 0) >> 5) + 128);
    out[p + 4] = clamp((((tmp3 + tmp4) | 0) >> 5) + 128);
    out[p + 3] = clamp((((tmp3 - tmp4) | 0) >> 5) + 128);
  }
}

const AAN_SCALES = Int32Array.of(
  16384, 22725, 21407, 19266, 16384, 12873, 8867, 4520, 22725, 31521, 29692, 26722, 22725, 17855, 12299, 6270, 21407,
  29692, 27969, 25172, 21407, 16819, 11585, 5906, 19266, 26722, 25172, 22654, 19266, 15137, 10426, 5315, 16384, 22725,
  21407, 19266, 16384, 12873, 8867, 4520, 12873, 17855, 16819, 15137, 12873, 10114, 6967, 3552, 8867, 12299, 11585,
  10426, 8867, 6967, 4799, 2446, 4520, 6270, 5906, 5315, 4520, 3552, 2446, 1247,
);

/** jidctred.c jpeg_idct_4x4. */
function idct4(co: Int16Array, off: number, q: Uint16Array, out: Uint8Array, o: number, stride: number): void {
  for (let c = 0; c < 8; c++) {
    if (c === 4) continue;
    const i = off + c;
    if (co[i + 8] === 0 && co[i + 16] === 0 && co[i + 24] === 0 && co[i + 40] === 0 && co[i + 48] === 0 && co[i + 56] === 0) {
      const dc = (co[i] * q[c]) << 2;
      for (let r = 0; r < 4; r++) ws[r * 8 + c] = dc;
      continue;
    }
    const t0 = co[i] * q[c] * 16384;
    const z2 = co[i + 16] * q[c + 16];
    const z3 = co[i + 48] * q[c + 48];
    const t2 = z2 * 15137 + z3 * -6270;
    const t10 = t0 + t2;
    const t12 = t0 - t2;
    const z1 = co[i + 56] * q[c + 56];
    const y2 = co[i + 40] * q[c + 40];
    const y3 = co[i + 24] * q[c + 24];
    const z4 = co[i + 8] * q[c + 8];
    const a = z1 * -1730 + y2 * 11893 + y3 * -17799 + z4 * 8697;
    const b = z1 * -4176 + y2 * -4926 + y3 * 7373 + z4 * 20995;
    const R = 1 << 11;
    ws[c] = (t10 + b + R) >> 12;
    ws[24 + c] = (t10 - b + R) >> 12;
    ws[8 + c] = (t12 + a + R) >> 12;
    ws[16 + c] = (t12 - a + R) >> 12;
  }
  for (let r = 0; r < 4; r++) {
    const w = r * 8;
    const p = o + r * stride;
    if (ws[w + 1] === 0 && ws[w + 2] === 0 && ws[w + 3] === 0 && ws[w + 5] === 0 && ws[w + 6] === 0 && ws[w + 7] === 0) {
      const v = clamp(((ws[w] + 16) >> 5) + 128);
      out[p] = out[p + 1] = out[p + 2] = out[p + 3] = v;
      continue;
    }
    const t0 = ws[w] * 16384;
    const t2 = ws[w + 2] * 15137 + ws[w + 6] * -6270;
    const t10 = t0 + t2;
    const t12 = t0 - t2;
    const z1 = ws[w + 7];
    const z2 = ws[w + 5];
    const z3 = ws[w + 3];
    const z4 = ws[w + 1];
    const a = z1 * -1730 + z2 * 11893 + z3 * -17799 + z4 * 8697;
    const b = z1 * -4176 + z2 * -4926 + z3 * 7373 + z4 * 20995;
    const R = 1 << 18;
    out[p] = clamp(((t10 + b + R) >> 19) + 128);
    out[p + 3] = clamp(((t10 - b + R) >> 19) + 128);
    out[p + 1] = clamp(((t12 + a + R) >> 19) + 128);
    out[p + 2] = clamp(((t12 - a + R) >> 19) + 128);
  }
}

/** jidctred.c jpeg_idct_2x2. */
function idct2(co: Int16Array, off: number, q: Uint16Array, out: Uint8Array, o: number, stride: number): void {
  for (let c = 0; c < 8; c++) {
    if (c === 2 || c === 4 || c === 6) continue;
    const i = off + c;
    if (co[i + 8] === 0 && co[i + 24] === 0 && co[i + 40] === 0 && co[i + 56] === 0) {
      const dc = (co[i] * q[c]) << 2;
      ws[c] = ws[8 + c] = dc;
      continue;
    }
    const t10 = co[i] * q[c] * 32768;
    const t0 =
      co[i + 56] * q[c + 56] * -5906 + co[i + 40] * q[c + 40] * 6967 + co[i + 24] * q[c + 24] * -10426 + co[i + 8] * q[c + 8] * 29692;
    ws[c] = (t10 + t0 + 4096) >> 13;
    ws[8 + c] = (t10 - t0 + 4096) >> 13;
  }
  for (let r = 0; r < 2; r++) {
    const w = r * 8;
    const p = o + r * stride;
    if (ws[w + 1] === 0 && ws[w + 3] === 0 && ws[w + 5] === 0 && ws[w + 7] === 0) {
      out[p] = out[p + 1] = clamp(((ws[w] + 16) >> 5) + 128);
      continue;
    }
    const t10 = ws[w] * 32768;
    const t0 = ws[w + 7] * -5906 + ws[w + 5] * 6967 + ws[w + 3] * -10426 + ws[w + 1] * 29692;
    const R = 1 << 19;
    out[p] = clamp(((t10 + t0 + R) >> 20) + 128);
    out[p + 1] = clamp(((t10 - t0 + R) >> 20) + 128);
  }
}

function idct1(co: Int16Array, off: number, q: Uint16Array, out: Uint8Array, o: number): void {
  out[o] = clamp(((co[off] * q[0] + 4) >> 3) + 128);
}

// ---------------------------------------------------------------------------
// Colour conversion tables (jdcolor.c build_ycc_rgb_table / build_rgb_y_table)

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

// ---------------------------------------------------------------------------
// Parsing

/** More scans than any encoder writes (libjpeg-turbo's tools suggest a limit of this order). */
export const MAX_SCANS = 500;

interface Parsed {
  frame: Frame;
  jfif: boolean;
  adobe: number;
  /** Complete output lines when the data ended (baseline single scan), else -1. */
  suspendedAt: number;
}

/** Frame header only: validates the declared size before anything is allocated. */
interface Renderer {
  /** Called at the first scan, once the colour space markers are known. */
  start(jfif: boolean, adobe: number): void;
  /** Inverse DCT of block rows [by0, by1) of component ci into its plane. */
  blockRows(ci: number, by0: number, by1: number): void;
}

function parseAll(
  d: Uint8Array, recover: boolean, maxPixels: (w: number, h: number, n: number) => void, makeRenderer: (f: Frame) => Renderer,
): Parsed {
  let renderer: Renderer | undefined;
  if (d.length < 4 || d[0] !== 0xff || d[1] !== 0xd8) throw fail();
  const qt: (Uint16Array | undefined)[] = [];
  const dcT: (HuffTable | undefined)[] = [];
  const acT: (HuffTable | undefined)[] = [];
  let frame: Frame | undefined;
  let jfif = false;
  let adobe = -1;
  let restartInterval = 0;
  let scans = 0;
  let o = 2;
  const eobrun = { n: 0 };
  let sawEoi = false;
  const u16 = (p: number) => {
    if (p + 1 >= d.length) throw fail();
    return (d[p] << 8) | d[p + 1];
  };
  while (!sawEoi) {
    // next_marker: skip garbage, then fill bytes.
    while (o < d.length && d[o] !== 0xff) o++;
    while (o < d.length && d[o] === 0xff) o++;
    if (o >= d.length) {
      // End of data before EOI: a fake EOI with recovery, else libjpeg suspends.
      if (recover && frame && scans > 0) break;
      if (frame && scans > 0 && !frame.progressive && scans === 1) break;
      throw fail();
    }
    const m = d[o++];
    if (m === 0) continue;
    if (m === 0xd9) {
      sawEoi = true;
      break;
    }
    if (m === 0x01 || (m >= 0xd0 && m <= 0xd7)) continue;
    if (o + 2 > d.length && recover && frame && scans > 0) break;
    const len = u16(o);
    if (len < 2) throw fail();
    const end = o + len;
    if (end > d.length && m !== 0xda) {
      // A segment cut by the end of the data: with recovery libjpeg reads the
      // fake EOI bytes into it and then ends at that EOI.
      if (recover && frame && scans > 0) break;
      throw fail();
    }
    const p = o + 2;
    switch (m) {
      case 0xdb: {
        let q = p;
        while (q < end) {
          const pq = d[q] >> 4;
          const tq = d[q] & 15;
          if (tq > 3) throw fail();
          q++;
          const t = new Uint16Array(64);
          for (let k = 0; k < 64; k++) {
            t[NATURAL[k]] = pq ? u16(q + 2 * k) : d[q + k];
          }
          q += pq ? 128 : 64;
          if (q > end) throw fail();
          qt[tq] = t;
        }
        break;
      }
      case 0xc4: {
        let q = p;
        while (q < end) {
          const tc = d[q] >> 4;
          const th = d[q] & 15;
          if (th > 3 || tc > 1) throw fail();
          const counts = d.subarray(q + 1, q + 17);
          let n = 0;
          for (let i = 0; i < 16; i++) n += counts[i];
          if (n > 256 || q + 17 + n > end) throw fail();
          const t = buildHuffman(counts, d.subarray(q + 17, q + 17 + n), tc === 0);
          (tc === 0 ? dcT : acT)[th] = t;
          q += 17 + n;
        }
        break;
      }
      case 0xdd:
        restartInterval = u16(p);
        break;
      case 0xe0:
        if (len >= 7 && d[p] === 0x4a && d[p + 1] === 0x46 && d[p + 2] === 0x49 && d[p + 3] === 0x46 && d[p + 4] === 0) jfif = true;
        break;
      case 0xee:
        if (len >= 14 && d[p] === 0x41 && d[p + 1] === 0x64 && d[p + 2] === 0x6f && d[p + 3] === 0x62 && d[p + 4] === 0x65) {
          adobe = d[p + 11];
        }
        break;
      case 0xc0:
      case 0xc1:
      case 0xc2: {
        if (frame) throw fail();
        if (d[p] !== 8) throw fail();
        const height = u16(p + 1);
        const width = u16(p + 3);
        const n = d[p + 5];
        if (width === 0 || height === 0 || n === 0 || n > 4 || len < 8 + 3 * n) throw fail();
        const comps: Component[] = [];
        for (let k = 0; k < n; k++) {
          const b = p + 6 + 3 * k;
          const h = d[b + 1] >> 4;
          const v = d[b + 1] & 15;
          if (h < 1 || h > 4 || v < 1 || v > 4 || d[b + 2] > 3) throw fail();
          comps.push({
            id: d[b], h, v, tq: d[b + 2], bw: 0, bh: 0, bwPad: 0, bhPad: 0,
            coefs: new Int16Array(0), streaming: false, rowBase: 0, dcPred: 0,
            bits: new Int32Array(10).fill(-1), prevBits: new Int32Array(10),
          });
        }
        const maxH = Math.max(...comps.map((c) => c.h));
        const maxV = Math.max(...comps.map((c) => c.v));
        maxPixels(width, height, n);
        const mcusX = Math.ceil(width / (8 * maxH));
        const mcusY = Math.ceil(height / (8 * maxV));
        for (const c of comps) {
          c.bw = Math.ceil(Math.ceil((width * c.h) / maxH) / 8);
          c.bh = Math.ceil(Math.ceil((height * c.v) / maxV) / 8);
          c.bwPad = mcusX * c.h;
          c.bhPad = mcusY * c.v;
        }
        frame = { width, height, progressive: m === 0xc2, comps, maxH, maxV, mcusX, mcusY, lastGood: 0, scans: 0 };
        renderer = makeRenderer(frame);
        break;
      }
      case 0xda: {
        if (!frame) throw fail();
        const ns = d[p];
        if (ns < 1 || ns > 4 || p + 1 + 2 * ns + 3 > d.length) throw fail();
        const sc: Component[] = [];
        let blocks = 0;
        for (let k = 0; k < ns; k++) {
          const cid = d[p + 1 + 2 * k];
          const c = frame.comps.find((x) => x.id === cid);
          if (!c || sc.includes(c)) throw fail();
          const td = d[p + 2 + 2 * k] >> 4;
          const ta = d[p + 2 + 2 * k] & 15;
          c.dc = dcT[td];
          c.ac = acT[ta];
          blocks += c.h * c.v;
          sc.push(c);
        }
        if (ns > 1 && blocks > 10) throw fail();
        const b = p + 1 + 2 * ns;
        const ss = d[b];
        const se = d[b + 1];
        const ah = d[b + 2] >> 4;
        const al = d[b + 2] & 15;
        if (frame.progressive) {
          if (ss > 63 || se > 63 || ss > se || (ss === 0 && se !== 0) || (ss > 0 && ns !== 1) || ah > 13 || al > 13) throw fail();
        } else if (ss !== 0 || se !== 63 || ah !== 0 || al !== 0) {
          // libjpeg only warns here; sequential scans ignore these fields.
        }
        for (const c of sc) {
          const needDc = !frame.progressive || (ss === 0 && ah === 0);
          const needAc = !frame.progressive || ss > 0;
          if ((needDc && !c.dc) || (needAc && !c.ac)) throw fail();
          if (!qt[c.tq]) throw fail();
          c.quant ??= qt[c.tq];
        }
        if (frame.progressive) {
          // jdphuff.c start_pass_phuff_decoder's bookkeeping, for block smoothing.
          for (const c of sc) {
            for (let k = Math.min(ss, 1); k <= Math.min(Math.max(se, 9), 9); k++) c.prevBits[k] = scans >= 1 ? c.bits[k] : 0;
            for (let k = ss; k <= Math.min(se, 9); k++) c.bits[k] = al;
          }
        }
        frame.scans = scans + 1;
        // Each scan walks every block: bound the work a small file can ask for.
        if (++scans > MAX_SCANS) throw fail();
        if (scans === 1) {
          renderer!.start(jfif, adobe);
          // A sequential scan of every component is the whole image: render it
          // one MCU row at a time instead of keeping every coefficient.
          const single = ns === frame.comps.length && !frame.progressive;
          for (const c of frame.comps) {
            c.streaming = single;
            const rows = !single ? c.bhPad : ns === 1 ? 1 : c.v;
            c.coefs = new Int16Array(c.bwPad * rows * 64);
          }
        }
        const r = renderer!;
        const onRow = frame.comps[0].streaming
          ? (my: number) => {
              for (let ci = 0; ci < frame!.comps.length; ci++) {
                const c = frame!.comps[ci];
                const rows = ns === 1 ? 1 : c.v;
                c.rowBase = my * rows;
                r.blockRows(ci, my * rows, Math.min(c.bh, (my + 1) * rows));
                c.coefs.fill(0);
                c.rowBase = (my + 1) * rows;
              }
            }
          : undefined;
        const br = new BitReader(d, end, recover);
        scanProgress.mcus = 0;
        try {
          decodeScan(frame, { comps: sc, ss, se: frame.progressive ? se : 63, ah, al }, br, restartInterval, eobrun, onRow);
        } catch (e) {
          if (!(e instanceof Suspend)) throw e;
          if (frame.progressive || scans > 1 || ns !== frame.comps.length) throw fail();
          const perRow = ns === 1 ? sc[0].bw : frame.mcusX;
          return { frame, jfif, adobe, suspendedAt: Math.floor(scanProgress.mcus / perRow) };
        }
        o = br.pos;
        continue;
      }
      default:
        if (isSof(m)) throw fail(); // arithmetic, lossless, 12-bit, hierarchical
        break;
    }
    o = end;
  }
  if (!frame || scans === 0) throw fail();
  if (!frame.comps[0].streaming) for (let ci = 0; ci < frame.comps.length; ci++) renderer!.blockRows(ci, 0, frame.comps[ci].bh);
  return { frame, jfif, adobe, suspendedAt: -1 };
}

// ---------------------------------------------------------------------------
// Output

/** Upsamples one component plane to the output size (jdsample.c). */
function upsample(
  src: Uint8Array, stride: number, dsw: number, dsh: number, hf: number, vf: number, fancy: boolean,
  fancyWide: boolean, outW: number, outH: number, dst: Uint8Array,
): void {
  const row = (y: number) => (y < 0 ? 0 : y >= dsh ? dsh - 1 : y) * stride;
  if (hf === 1 && vf === 1) {
    for (let y = 0; y < outH; y++) dst.set(src.subarray(y * stride, y * stride + outW), y * outW);
    return;
  }
  if (hf === 2 && vf === 1 && fancyWide) {
    for (let y = 0; y < outH; y++) {
      const r = y * stride;
      const o = y * outW;
      for (let c = 0; c < dsw; c++) {
        const v = src[r + c] * 3;
        const a = c === 0 ? src[r] : (v + src[r + c - 1] + 1) >> 2;
        const b = c === dsw - 1 ? src[r + c] : (v + src[r + c + 1] + 2) >> 2;
        if (2 * c < outW) dst[o + 2 * c] = a;
        if (2 * c + 1 < outW) dst[o + 2 * c + 1] = b;
      }
    }
    return;
  }
  if (hf === 1 && vf === 2 && fancy) {
    for (let y = 0; y < outH; y++) {
      const r0 = row(y >> 1);
      const r1 = row((y & 1) === 0 ? (y >> 1) - 1 : (y >> 1) + 1);
      const bias = (y & 1) === 0 ? 1 : 2;
      const o = y * outW;
      for (let c = 0; c < outW; c++) dst[o + c] = (src[r0 + c] * 3 + src[r1 + c] + bias) >> 2;
    }
    return;
  }
  if (hf === 2 && vf === 2 && fancyWide) {
    const sums = new Int32Array(dsw);
    for (let y = 0; y < outH; y++) {
      const r0 = row(y >> 1);
      const r1 = row((y & 1) === 0 ? (y >> 1) - 1 : (y >> 1) + 1);
      for (let c = 0; c < dsw; c++) sums[c] = src[r0 + c] * 3 + src[r1 + c];
      const o = y * outW;
      for (let c = 0; c < dsw; c++) {
        const t = sums[c] * 3;
        const a = c === 0 ? (sums[0] * 4 + 8) >> 4 : (t + sums[c - 1] + 8) >> 4;
        const b = c === dsw - 1 ? (sums[c] * 4 + 7) >> 4 : (t + sums[c + 1] + 7) >> 4;
        if (2 * c < outW) dst[o + 2 * c] = a;
        if (2 * c + 1 < outW) dst[o + 2 * c + 1] = b;
      }
    }
    return;
  }
  for (let y = 0; y < outH; y++) {
    const r = ((y / vf) | 0) * stride;
    const o = y * outW;
    for (let x = 0; x < outW; x++) dst[o + x] = src[r + ((x / hf) | 0)];
  }
}

// ---------------------------------------------------------------------------
// Block smoothing (jdcoefct.c decompress_smooth_data): libjpeg estimates the
// first 9 AC coefficients (and, with no AC data at all, the DC) of a
// progressive image whose coefficients are not all known to full precision,
// from the DC values of the 5x5 neighbouring blocks.

const Q_POS = [0, 1, 8, 16, 9, 2, 3, 10, 17, 24];
const smoothWs = new Int16Array(64);

/** smoothing_ok: progressive, DC known, quantizers nonzero, some AC 1..9 not exact. */
function smoothing(frame: Frame): boolean {
  if (!frame.progressive) return false;
  let useful = false;
  for (const c of frame.comps) {
    const q = c.quant;
    if (!q) return false;
    for (const pos of Q_POS) if (q[pos] === 0) return false;
    if (c.bits[0] < 0) return false;
    for (let k = 1; k < 10; k++) if (c.bits[k] !== 0) useful = true;
  }
  return useful;
}

function smoothBlock(frame: Frame, c: Component, by: number, bx: number): Int16Array {
  const co = c.coefs;
  const v = c.v;
  const T = frame.mcusY;
  const r = Math.floor(by / v);
  const last = T - 1;
  const blockRows = r < last ? v : c.bh % v || v;
  const imageBlockRows = blockRows * T;
  const imageBlockRow = r * blockRows + (by - r * v);
  const rowAt = (dy: number) => {
    // Which block row stands in for by + dy (libjpeg's edge replication).
    if (dy === -1) return imageBlockRow > 0 ? by - 1 : by;
    if (dy === -2) return imageBlockRow > 1 ? by - 2 : imageBlockRow > 0 ? by - 1 : by;
    if (dy === 1) return imageBlockRow < imageBlockRows - 1 ? by + 1 : by;
    return imageBlockRow < imageBlockRows - 2 ? by + 2 : imageBlockRow < imageBlockRows - 1 ? by + 1 : by;
  };
  const lastCol = c.bw - 1;
  const colAt = (dx: number) => {
    // The sliding DC registers: columns beyond the last repeat the edge column.
    const x = bx + dx;
    if (dx < 0) return Math.max(0, x);
    return Math.min(lastCol, x);
  };
  const dc = (dy: number, dx: number) => co[(rowAt(dy) * c.bwPad + colAt(dx)) * 64];
  const [DC01, DC02, DC03, DC04, DC05] = [dc(-2, -2), dc(-2, -1), dc(-2, 0), dc(-2, 1), dc(-2, 2)];
  const [DC06, DC07, DC08, DC09, DC10] = [dc(-1, -2), dc(-1, -1), dc(-1, 0), dc(-1, 1), dc(-1, 2)];
  const [DC11, DC12, DC13, DC14, DC15] = [dc(0, -2), dc(0, -1), dc(0, 0), dc(0, 1), dc(0, 2)];
  const [DC16, DC17, DC18, DC19, DC20] = [dc(1, -2), dc(1, -1), dc(1, 0), dc(1, 1), dc(1, 2)];
  const [DC21, DC22, DC23, DC24, DC25] = [dc(2, -2), dc(2, -1), dc(2, 0), dc(2, 1), dc(2, 2)];
  const ws2 = smoothWs;
  ws2.set(co.subarray((by * c.bwPad + bx) * 64, (by * c.bwPad + bx) * 64 + 64));
  const bits = r > frame.lastGood ? c.prevBits : c.bits;
  const q = c.quant!;
  const changeDc = bits[1] === -1 && bits[2] === -1 && bits[3] === -1 && bits[4] === -1 && bits[5] === -1 &&
    bits[6] === -1 && bits[7] === -1 && bits[8] === -1 && bits[9] === -1;
  const Q00 = q[0];
  const estimate = (k: number, pos: number, sum: number) => {
    const Al = bits[k];
    if (Al === 0 || ws2[pos] !== 0) return;
    const Q = q[pos];
    const num = Q00 * sum;
    let pred: number;
    if (num >= 0) {
      pred = Math.floor((Q * 128 + num) / (Q * 256));
      if (Al > 0 && pred >= 1 << Al) pred = (1 << Al) - 1;
    } else {
      pred = Math.floor((Q * 128 - num) / (Q * 256));
      if (Al > 0 && pred >= 1 << Al) pred = (1 << Al) - 1;
      pred = -pred;
    }
    ws2[pos] = pred;
  };
  estimate(1, 1, changeDc
    ? -DC01 - DC02 + DC04 + DC05 - 3 * DC06 + 13 * DC07 - 13 * DC09 + 3 * DC10 - 3 * DC11 + 38 * DC12 - 38 * DC14 +
      3 * DC15 - 3 * DC16 + 13 * DC17 - 13 * DC19 + 3 * DC20 - DC21 - DC22 + DC24 + DC25
    : -7 * DC11 + 50 * DC12 - 50 * DC14 + 7 * DC15);
  estimate(2, 8, changeDc
    ? -DC01 - 3 * DC02 - 3 * DC03 - 3 * DC04 - DC05 - DC06 + 13 * DC07 + 38 * DC08 + 13 * DC09 - DC10 + DC16 -
      13 * DC17 - 38 * DC18 - 13 * DC19 + DC20 + DC21 + 3 * DC22 + 3 * DC23 + 3 * DC24 + DC25
    : -7 * DC03 + 50 * DC08 - 50 * DC18 + 7 * DC23);
  estimate(3, 16, changeDc
    ? DC03 + 2 * DC07 + 7 * DC08 + 2 * DC09 - 5 * DC12 - 14 * DC13 - 5 * DC14 + 2 * DC17 + 7 * DC18 + 2 * DC19 + DC23
    : -DC03 + 13 * DC08 - 24 * DC13 + 13 * DC18 - DC23);
  estimate(4, 9, changeDc
    ? -DC01 + DC05 + 9 * DC07 - 9 * DC09 - 9 * DC17 + 9 * DC19 + DC21 - DC25
    : DC10 + DC16 - 10 * DC17 + 10 * DC19 - DC02 - DC20 + DC22 - DC24 + DC04 - DC06 + 10 * DC07 - 10 * DC09);
  estimate(5, 2, changeDc
    ? 2 * DC07 - 5 * DC08 + 2 * DC09 + DC11 + 7 * DC12 - 14 * DC13 + 7 * DC14 + DC15 + 2 * DC17 - 5 * DC18 + 2 * DC19
    : -DC11 + 13 * DC12 - 24 * DC13 + 13 * DC14 - DC15);
  if (changeDc) {
    estimate(6, 3, DC07 - DC09 + 2 * DC12 - 2 * DC14 + DC17 - DC19);
    estimate(7, 10, DC07 - 3 * DC08 + DC09 - DC17 + 3 * DC18 - DC19);
    estimate(8, 17, DC07 - DC09 - 3 * DC12 + 3 * DC14 + DC17 - DC19);
    estimate(9, 24, DC07 + 2 * DC08 + DC09 - DC17 - 2 * DC18 - DC19);
    const num = Q00 * (-2 * DC01 - 6 * DC02 - 8 * DC03 - 6 * DC04 - 2 * DC05 - 6 * DC06 + 6 * DC07 + 42 * DC08 +
      6 * DC09 - 6 * DC10 - 8 * DC11 + 42 * DC12 + 152 * DC13 + 42 * DC14 - 8 * DC15 - 6 * DC16 + 6 * DC17 +
      42 * DC18 + 6 * DC19 - 6 * DC20 - 2 * DC21 - 6 * DC22 - 8 * DC23 - 6 * DC24 - 2 * DC25);
    ws2[0] = num >= 0 ? Math.floor((Q00 * 128 + num) / (Q00 * 256)) : -Math.floor((Q00 * 128 - num) / (Q00 * 256));
  }
  return ws2;
}

type Space = 'gray' | 'ycc' | 'rgb' | 'cmyk' | 'ycck';

/** libjpeg's colour space guess (jdapimin.c default_decompress_parms). */
function colorSpace(frame: Frame, jfif: boolean, adobe: number): Space {
  const n = frame.comps.length;
  if (n === 1) return 'gray';
  if (n === 3) {
    if (jfif) return 'ycc';
    if (adobe >= 0) return adobe === 0 ? 'rgb' : 'ycc';
    const [a, b, c] = frame.comps.map((k) => k.id);
    return a === 0x52 && b === 0x47 && c === 0x42 ? 'rgb' : 'ycc';
  }
  if (n === 4) return adobe === 2 ? 'ycck' : 'cmyk';
  throw fail();
}

/** Decodes JPEG bytes to `channels` 8-bit samples as TF's DecodeJpeg does. */
export function decodeJpeg(bytes: Uint8Array, options: JpegOptions): DecodedImage {
  const ratio = options.ratio ?? 1;
  if (![1, 2, 4, 8].includes(ratio)) throw fail();
  const minS = 8 / ratio;
  let outChannels = options.channels;
  const recover = options.tryRecoverTruncated ?? false;
  const ifast = options.dctMethod !== 'INTEGER_ACCURATE';
  // Per component: plane, its stride, DCT scaled size, dequantization tables.
  const planes: Uint8Array[] = [];
  const strides: number[] = [];
  const sizes: number[] = [];
  const qfs: (Int32Array | undefined)[] = [];
  let needed = 0;
  const makeRenderer = (frame: Frame): Renderer => ({
    start(jfif, adobe) {
      const n = frame.comps.length;
      const channels = outChannels === 0 ? Math.min(n, 3) : outChannels;
      // Only the luma plane is needed for gray output of a YCbCr image.
      needed = channels === 1 && colorSpace(frame, jfif, adobe) === 'ycc' ? 1 : n;
      for (let ci = 0; ci < n; ci++) {
        const c = frame.comps[ci];
        let sz = minS;
        while (sz < 8 && (frame.maxH * minS) % (c.h * sz * 2) === 0 && (frame.maxV * minS) % (c.v * sz * 2) === 0) sz *= 2;
        sizes.push(sz);
        strides.push(c.bw * sz);
        planes.push(ci < needed ? new Uint8Array(c.bw * sz * c.bh * sz) : new Uint8Array(0));
      }
    },
    blockRows(ci, by0, by1) {
      if (ci >= needed) return;
      const c = frame.comps[ci];
      const sz = sizes[ci];
      const stride = strides[ci];
      const plane = planes[ci];
      const q = c.quant ?? new Uint16Array(64);
      let qf = qfs[ci];
      if (sz === 8 && ifast && !qf) {
        qf = qfs[ci] = new Int32Array(64);
        for (let i = 0; i < 64; i++) qf[i] = (q[i] * AAN_SCALES[i] + 2048) >> 12;
      }
      let co = c.coefs;
      const smooth = smoothing(frame);
      for (let by = by0; by < by1; by++) {
        const rowOff = (by - c.rowBase) * c.bwPad * 64;
        for (let bx = 0; bx < c.bw; bx++) {
          let off = rowOff + bx * 64;
          const o = by * sz * stride + bx * sz;
          if (smooth) {
            co = smoothBlock(frame, c, by, bx);
            off = 0;
          }
          if (sz === 8) {
            if (qf) idctIfast(co, off, qf, plane, o, stride);
            else idctIslow(co, off, q, plane, o, stride);
          } else if (sz === 4) idct4(co, off, q, plane, o, stride);
          else if (sz === 2) idct2(co, off, q, plane, o, stride);
          else idct1(co, off, q, plane, o);
        }
      }
    },
  });
  const parsed = parseAll(
    bytes,
    recover,
    (w, h, n) => {
      const channels = outChannels === 0 ? Math.min(n, 3) : outChannels;
      const ow = Math.ceil(w / ratio);
      const oh = Math.ceil(h / ratio);
      // The size the frame header declares, checked before anything is decoded (--max_image_pixels).
      checkImagePixels('JPEG', w, h);
      // jpeg_mem.cc refuses outputs of 2^29 samples or more before decoding.
      if (ow * oh * n >= 2 ** 29) throw fail();
      checkTensorSize([oh, ow, channels], 'uint8');
    },
    makeRenderer,
  );
  const { frame, adobe } = parsed;
  const ncomp = frame.comps.length;
  if (outChannels === 0) outChannels = Math.min(ncomp, 3);
  if (outChannels !== 1 && outChannels !== 3) throw fail();
  const space = colorSpace(frame, parsed.jfif, adobe);
  if (outChannels === 1 && (space === 'cmyk' || space === 'ycck')) throw fail();

  const W = Math.ceil(frame.width / ratio);
  const H = Math.ceil(frame.height / ratio);
  const fancy = (options.fancyUpscaling ?? true) && minS > 1;

  // DecodeAndCropJpeg: TF validates the window, then jpeg_crop_scanline moves
  // its left edge down to an iMCU column boundary; the upsamplers then see the
  // cropped rows' first and last samples as image edges.
  let x0 = 0;
  let Wd = W;
  let reinit = false;
  if (options.crop) {
    const [cy, cx, chh, cw] = options.crop;
    if (cw <= 0 || chh <= 0 || cx < 0 || cy < 0 || cy + chh > H || cx + cw > W) throw fail();
    const align = ncomp === 1 ? minS : minS * frame.maxH;
    x0 = Math.floor(cx / align) * align;
    Wd = cw + cx - x0;
    for (const c of frame.comps) {
      const orig = Math.ceil((frame.width * c.h * minS) / (frame.maxH * 8));
      if (Math.ceil((Wd * c.h) / frame.maxH) < 2 && orig >= 2) reinit = true;
    }
  }
  const fulls: Uint8Array[] = [];
  for (let ci = 0; ci < needed; ci++) {
    const c = frame.comps[ci];
    const s = sizes[ci];
    const stride = strides[ci];
    const plane = planes[ci];
    const hIn = (c.h * s) / minS;
    const vIn = (c.v * s) / minS;
    const hf = frame.maxH / hIn;
    const vf = frame.maxV / vIn;
    if (!Number.isInteger(hf) || !Number.isInteger(vf)) throw fail();
    const dswFull = Math.ceil((frame.width * c.h * s) / (frame.maxH * 8));
    const dsh = Math.ceil((frame.height * c.v * s) / (frame.maxV * 8));
    let dsw = dswFull;
    let src = plane;
    let wide = dswFull > 2;
    if (options.crop) {
      const hsf = ncomp === 1 ? 1 : c.h;
      const align = ncomp === 1 ? minS : minS * frame.maxH;
      src = plane.subarray(((x0 * hsf) / align) * s);
      dsw = Math.ceil((Wd * c.h) / frame.maxH);
      if (reinit) wide = dsw > 2;
    }
    const full = new Uint8Array(Wd * H);
    upsample(src, stride, dsw, dsh, hf, vf, fancy, fancy && wide, Wd, H, full);
    fulls.push(full);
  }

  const pixels = Wd * H;
  const data = new Uint8Array(pixels * outChannels);
  if (outChannels === 1) {
    if (space === 'rgb') {
      const [r, g, b] = fulls;
      for (let p = 0; p < pixels; p++) {
        data[p] = (FIX(0.299) * r[p] + FIX(0.587) * g[p] + FIX(0.114) * b[p] + ONE_HALF) >> SCALEBITS;
      }
    } else data.set(fulls[0]);
  } else if (space === 'gray') {
    const y = fulls[0];
    for (let p = 0, o = 0; p < pixels; p++, o += 3) data[o] = data[o + 1] = data[o + 2] = y[p];
  } else if (space === 'rgb') {
    const [r, g, b] = fulls;
    for (let p = 0, o = 0; p < pixels; p++, o += 3) {
      data[o] = r[p];
      data[o + 1] = g[p];
      data[o + 2] = b[p];
    }
  } else if (space === 'ycc') {
    const [Y, Cb, Cr] = fulls;
    for (let p = 0, o = 0; p < pixels; p++, o += 3) {
      const y = Y[p];
      const cb = Cb[p];
      const cr = Cr[p];
      data[o] = clamp(y + CR_R[cr]);
      data[o + 1] = clamp(y + ((CB_G[cb] + CR_G[cr]) >> SCALEBITS));
      data[o + 2] = clamp(y + CB_B[cb]);
    }
  } else {
    const [P0, P1, P2, K] = fulls;
    const inverted = adobe >= 0;
    for (let p = 0, o = 0; p < pixels; p++, o += 3) {
      let c = P0[p];
      let m = P1[p];
      let y = P2[p];
      if (space === 'ycck') {
        const yy = c;
        const cb = m;
        const cr = y;
        c = 255 - clamp(yy + CR_R[cr]);
        m = 255 - clamp(yy + ((CB_G[cb] + CR_G[cr]) >> SCALEBITS));
        y = 255 - clamp(yy + CB_B[cb]);
      }
      const k = K[p];
      if (inverted) {
        data[o] = ((k * c) / 255) | 0;
        data[o + 1] = ((k * m) / 255) | 0;
        data[o + 2] = ((k * y) / 255) | 0;
      } else {
        data[o] = (((255 - k) * (255 - c)) / 255) | 0;
        data[o + 1] = (((255 - k) * (255 - m)) / 255) | 0;
        data[o + 2] = (((255 - k) * (255 - y)) / 255) | 0;
      }
    }
  }

  if (parsed.suspendedAt >= 0) {
    // libjpeg suspended: TF keeps the scanlines it got and blackens the rest.
    const rowsPerImcu = frame.maxV * minS;
    const context = fancy && planesNeedContext(frame, needed, minS);
    let lines = parsed.suspendedAt * rowsPerImcu;
    if (context && parsed.suspendedAt > 0) lines -= frame.maxV;
    lines = Math.max(0, Math.min(H, lines));
    const fraction = Math.fround(lines / H);
    if (fraction < Math.min(1, Math.fround(options.acceptableFraction ?? 1))) throw fail();
    data.fill(0, lines * Wd * outChannels);
  }

  let img = { data, width: W, height: H };
  if (options.crop) {
    const [cy, cx, chh, cw] = options.crop;
    const cropped = new Uint8Array(cw * chh * outChannels);
    for (let y = 0; y < chh; y++) {
      const src = ((cy + y) * Wd + cx - x0) * outChannels;
      cropped.set(data.subarray(src, src + cw * outChannels), y * cw * outChannels);
    }
    img = { data: cropped, width: cw, height: chh };
  }
  return { frames: 1, height: img.height, width: img.width, channels: outChannels, data: img.data };
}

/** Whether some needed component uses a fancy upsampler that reads the next row group (h1v2 / h2v2). */
function planesNeedContext(frame: Frame, needed: number, minS: number): boolean {
  for (let ci = 0; ci < needed; ci++) {
    const c = frame.comps[ci];
    let s = minS;
    while (s < 8 && (frame.maxH * minS) % (c.h * s * 2) === 0 && (frame.maxV * minS) % (c.v * s * 2) === 0) s *= 2;
    const vIn = (c.v * s) / minS;
    if (frame.maxV === vIn * 2) return true;
  }
  return false;
}
