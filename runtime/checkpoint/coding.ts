/**
 * Byte-level encodings of TensorFlow's core/lib/core/coding: little-endian
 * fixed32/fixed64 and varint32/varint64 (7 bits per byte, low groups first).
 * Readers return [value, nextPosition] and throw an Error on truncation.
 */

export function putVarint(out: number[], value: number | bigint): void {
  let v = BigInt(value);
  if (v < 0n) throw new Error(`varint of negative value ${v}`);
  while (v >= 0x80n) {
    out.push(Number(v & 0x7fn) | 0x80);
    v >>= 7n;
  }
  out.push(Number(v));
}

/** Varint32/64 with a JS-number result (exact up to 2^53; TF offsets and sizes stay below). */
export function getVarint(buf: Uint8Array, pos: number, limit = buf.length, maxBytes = 10): [number, number] {
  let value = 0;
  for (let i = 0; i < maxBytes; i++) {
    if (pos >= limit) throw new Error('truncated varint');
    const b = buf[pos++];
    value += (b & 0x7f) * 2 ** (7 * i);
    if (!(b & 0x80)) {
      if (value > Number.MAX_SAFE_INTEGER) throw new Error('varint too large');
      return [value, pos];
    }
  }
  throw new Error('malformed varint');
}

export function getFixed32(buf: Uint8Array, pos: number): number {
  return (buf[pos] | (buf[pos + 1] << 8) | (buf[pos + 2] << 16) | (buf[pos + 3] << 24)) >>> 0;
}

export function putFixed32(out: number[], value: number): void {
  out.push(value & 0xff, (value >>> 8) & 0xff, (value >>> 16) & 0xff, (value >>> 24) & 0xff);
}

export function fixed32Bytes(value: number): Uint8Array {
  const out: number[] = [];
  putFixed32(out, value);
  return Uint8Array.from(out);
}
