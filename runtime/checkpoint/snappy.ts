/**
 * Snappy raw blocks: the compression of SSTable blocks whose trailer type
 * byte is 1, which TensorFlow (1.3 and later) uses for checkpoint indexes.
 *
 * snappyUncompress accepts any valid stream; malformed input throws an Error
 * saying what was wrong (callers turn it into DATA_LOSS). snappyCompress
 * follows Google snappy's compressor step for step (64 KiB fragments, 4-byte
 * hash of 0x1e35a7bd, the skip heuristic, literal and copy encodings), so
 * its output matches the bytes TensorFlow writes.
 */

function readVarint32(src: Uint8Array, pos: number): [number, number] {
  let value = 0;
  for (let shift = 0; shift <= 28; shift += 7) {
    if (pos >= src.length) throw new Error('truncated length preamble');
    const b = src[pos++];
    value += (b & 0x7f) * 2 ** shift;
    if (!(b & 0x80)) return [value, pos];
  }
  throw new Error('length preamble is too long');
}

export function snappyUncompress(src: Uint8Array): Uint8Array {
  const [length, start] = readVarint32(src, 0);
  const out = new Uint8Array(length);
  let ip = start;
  let op = 0;
  while (ip < src.length) {
    const tag = src[ip++];
    const kind = tag & 3;
    if (kind === 0) {
      let len = tag >>> 2;
      if (len >= 60) {
        const extra = len - 59;
        if (ip + extra > src.length) throw new Error('truncated literal length');
        len = 0;
        for (let i = 0; i < extra; i++) len += src[ip + i] * 2 ** (8 * i);
        ip += extra;
      }
      len += 1;
      if (ip + len > src.length) throw new Error('truncated literal');
      if (op + len > length) throw new Error('literal overflows the declared length');
      out.set(src.subarray(ip, ip + len), op);
      ip += len;
      op += len;
      continue;
    }
    let len: number;
    let offset: number;
    if (kind === 1) {
      if (ip >= src.length) throw new Error('truncated copy');
      len = 4 + ((tag >>> 2) & 7);
      offset = ((tag >>> 5) << 8) | src[ip++];
    } else if (kind === 2) {
      if (ip + 2 > src.length) throw new Error('truncated copy');
      len = (tag >>> 2) + 1;
      offset = src[ip] | (src[ip + 1] << 8);
      ip += 2;
    } else {
      if (ip + 4 > src.length) throw new Error('truncated copy');
      len = (tag >>> 2) + 1;
      offset = (src[ip] | (src[ip + 1] << 8) | (src[ip + 2] << 16) | (src[ip + 3] << 24)) >>> 0;
      ip += 4;
    }
    if (offset === 0 || offset > op) throw new Error('copy offset out of range');
    if (op + len > length) throw new Error('copy overflows the declared length');
    // Byte by byte: source and destination may overlap (run-length copies).
    for (let i = 0; i < len; i++, op++) out[op] = out[op - offset];
  }
  if (op !== length) throw new Error(`decompressed ${op} bytes, expected ${length}`);
  return out;
}

const FRAGMENT_SIZE = 1 << 16;
const MAX_HASH_TABLE_SIZE = 1 << 14;
const INPUT_MARGIN = 15;

function load32(b: Uint8Array, i: number): number {
  return (b[i] | (b[i + 1] << 8) | (b[i + 2] << 16) | (b[i + 3] << 24)) >>> 0;
}

function emitLiteral(out: number[], src: Uint8Array, from: number, to: number): void {
  let n = to - from - 1;
  if (n < 60) {
    out.push(n << 2);
  } else {
    const bytes: number[] = [];
    while (n > 0) {
      bytes.push(n & 0xff);
      n = Math.floor(n / 256);
    }
    out.push((59 + bytes.length) << 2, ...bytes);
  }
  for (let i = from; i < to; i++) out.push(src[i]);
}

function emitCopyAtMost64(out: number[], offset: number, len: number): void {
  if (len < 12 && offset < 2048) {
    out.push(1 | ((len - 4) << 2) | ((offset >>> 8) << 5), offset & 0xff);
  } else {
    out.push(2 | ((len - 1) << 2), offset & 0xff, (offset >>> 8) & 0xff);
  }
}

function emitCopy(out: number[], offset: number, len: number): void {
  while (len >= 68) {
    emitCopyAtMost64(out, offset, 64);
    len -= 64;
  }
  if (len > 64) {
    emitCopyAtMost64(out, offset, 60);
    len -= 60;
  }
  emitCopyAtMost64(out, offset, len);
}

function compressFragment(src: Uint8Array, base: number, end: number, out: number[]): void {
  const size = end - base;
  let tableSize = 256;
  while (tableSize < MAX_HASH_TABLE_SIZE && tableSize < size) tableSize <<= 1;
  const table = new Uint16Array(tableSize);
  const shift = 32 - Math.log2(tableSize);
  const hash = (i: number) => Math.imul(load32(src, i), 0x1e35a7bd) >>> shift;
  let ip = base;
  let nextEmit = base;
  if (size >= INPUT_MARGIN) {
    const ipLimit = end - INPUT_MARGIN;
    ip++;
    let nextHash = hash(ip);
    scan: for (;;) {
      // Look for a 4-byte match, probing less often the longer none is found.
      let skip = 32;
      let nextIp = ip;
      let candidate: number;
      do {
        ip = nextIp;
        const h = nextHash;
        const step = skip >>> 5;
        skip += step;
        nextIp = ip + step;
        if (nextIp > ipLimit) break scan;
        nextHash = hash(nextIp);
        candidate = base + table[h];
        table[h] = ip - base;
      } while (load32(src, ip) !== load32(src, candidate));
      emitLiteral(out, src, nextEmit, ip);
      // Emit copies while the bytes right after each one match again.
      do {
        const start = ip;
        let matched = 4;
        while (ip + matched < end && src[candidate + matched] === src[ip + matched]) matched++;
        ip += matched;
        emitCopy(out, start - candidate, matched);
        nextEmit = ip;
        if (ip >= ipLimit) break scan;
        table[hash(ip - 1)] = ip - base - 1;
        const h = hash(ip);
        candidate = base + table[h];
        table[h] = ip - base;
      } while (load32(src, ip) === load32(src, candidate));
      nextHash = hash(ip + 1);
      ip++;
    }
  }
  if (nextEmit < end) emitLiteral(out, src, nextEmit, end);
}

export function snappyCompress(input: Uint8Array): Uint8Array {
  const out: number[] = [];
  let n = input.length;
  while (n >= 0x80) {
    out.push((n & 0x7f) | 0x80);
    n = Math.floor(n / 128);
  }
  out.push(n);
  for (let start = 0; start < input.length; start += FRAGMENT_SIZE) {
    compressFragment(input, start, Math.min(start + FRAGMENT_SIZE, input.length), out);
  }
  return Uint8Array.from(out);
}
