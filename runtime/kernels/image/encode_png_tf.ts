/**
 * PNG encoding that yields the bytes TF's EncodePng gives
 * (tensorflow/core/lib/png/png_io.cc WriteImageToBuffer over libpng 1.6 and
 * zlib): no ancillary chunks; each row filtered with libpng's adaptive
 * choice (the filter among None, Sub, Up, Average, Paeth whose bytes, read
 * as signed, have the smallest absolute sum; the earlier filter on ties);
 * deflate at the requested level (-1 = zlib's 6) with memLevel 9, strategy
 * Z_FILTERED and libpng's window reduction for small images, the zlib
 * header's window field then shrunk as libpng's optimize_cmf does; IDAT
 * chunks of 8192 bytes. 16-bit samples are written big-endian.
 * Deflate is pako's port of zlib's deflate (same matching and block rules),
 * pinned to pako 1.x, whose output was checked byte for byte against TF's.
 */
import { createRequire } from 'node:module';
import zlib from 'node:zlib';

interface Pako {
  deflate(data: Uint8Array, opts: { level: number; windowBits: number; memLevel: number; strategy: number }): Uint8Array;
}
// pako 1.x is CommonJS without bundled types: required, with the one function used typed here.
const pako = createRequire(import.meta.url)('pako') as Pako;

const Z_FILTERED = 1;

function signedAbsSum(row: Uint8Array): number {
  let s = 0;
  for (let i = 1; i < row.length; i++) s += row[i] < 128 ? row[i] : 256 - row[i];
  return s;
}

/** Filters one row (raw, without filter byte) against the previous raw row; returns filter byte + bytes. */
function filterRow(raw: Uint8Array, prev: Uint8Array, bpp: number, tries: Uint8Array[]): Uint8Array {
  const n = raw.length;
  const [none, sub, up, avg, paeth] = tries;
  none[0] = 0;
  none.set(raw, 1);
  sub[0] = 1;
  up[0] = 2;
  avg[0] = 3;
  paeth[0] = 4;
  for (let i = 0; i < n; i++) {
    const a = i >= bpp ? raw[i - bpp] : 0;
    const b = prev[i];
    const c = i >= bpp ? prev[i - bpp] : 0;
    const x = raw[i];
    sub[i + 1] = (x - a) & 0xff;
    up[i + 1] = (x - b) & 0xff;
    avg[i + 1] = (x - ((a + b) >> 1)) & 0xff;
    const pa = Math.abs(b - c);
    const pb = Math.abs(a - c);
    const pc = Math.abs(a + b - 2 * c);
    const pred = pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
    paeth[i + 1] = (x - pred) & 0xff;
  }
  let best = none;
  let mins = signedAbsSum(none);
  for (const t of [sub, up, avg, paeth]) {
    const s = signedAbsSum(t);
    if (s < mins) {
      mins = s;
      best = t;
    }
  }
  return best;
}

function chunk(out: number[][], type: string, data: Uint8Array): void {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(data.length, 0);
  head.write(type, 4, 'latin1');
  const crc = zlib.crc32(Buffer.concat([head.subarray(4), data]));
  const tail = Buffer.alloc(4);
  tail.writeUInt32BE(crc >>> 0, 0);
  out.push([...head], [...data], [...tail]);
}

export function encodePngLikeTf(
  data: Uint8Array | Uint16Array,
  height: number,
  width: number,
  channels: number,
  compression: number,
): Uint8Array {
  const deflater = pako;
  const depth = data instanceof Uint16Array ? 16 : 8;
  const bpp = (channels * depth) >> 3;
  const rowBytes = width * bpp;
  const filtered = new Uint8Array(height * (rowBytes + 1));
  let prev = new Uint8Array(rowBytes);
  let raw = new Uint8Array(rowBytes);
  const tries = Array.from({ length: 5 }, () => new Uint8Array(rowBytes + 1));
  const per = width * channels;
  for (let y = 0; y < height; y++) {
    if (depth === 8) raw.set((data as Uint8Array).subarray(y * per, (y + 1) * per));
    else {
      for (let i = 0; i < per; i++) {
        const v = data[y * per + i];
        raw[2 * i] = v >> 8;
        raw[2 * i + 1] = v & 0xff;
      }
    }
    filtered.set(filterRow(raw, prev, bpp, tries), y * (rowBytes + 1));
    [prev, raw] = [raw, prev];
  }
  const level = compression < 0 ? 6 : compression;
  const size = filtered.length;
  let windowBits = 15;
  if (size <= 16384) {
    let half = 1 << (windowBits - 1);
    while (size + 262 <= half) {
      half >>= 1;
      windowBits--;
    }
  }
  const z = deflater.deflate(filtered, { level, windowBits, memLevel: 9, strategy: Z_FILTERED });
  // libpng's optimize_cmf: the smallest window field that still covers the data.
  if (size <= 16384 && (z[0] & 0x0f) === 8 && (z[0] & 0xf0) <= 0x70) {
    let cinfo = z[0] >> 4;
    let half = 1 << (cinfo + 7);
    if (size <= half) {
      do {
        half >>= 1;
        cinfo--;
      } while (cinfo > 0 && size <= half);
      const cmf = (z[0] & 0x0f) | (cinfo << 4);
      z[0] = cmf;
      let flg = z[1] & 0xe0;
      flg += 0x1f - (((cmf << 8) + flg) % 0x1f);
      z[1] = flg;
    }
  }
  const parts: number[][] = [[0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]];
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = depth;
  ihdr[9] = [0, 0, 4, 2, 6][channels];
  chunk(parts, 'IHDR', ihdr);
  for (let o = 0; o < z.length; o += 8192) chunk(parts, 'IDAT', z.subarray(o, Math.min(o + 8192, z.length)));
  chunk(parts, 'IEND', new Uint8Array(0));
  const total = parts.reduce((a, p) => a + p.length, 0);
  const out = new Uint8Array(total);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
