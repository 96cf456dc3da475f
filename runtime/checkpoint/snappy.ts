/**
 * Snappy raw-block decompression (the format of table blocks whose trailer
 * type byte is 1). TensorFlow 1.0/1.1 wrote checkpoint index blocks this way;
 * later versions write them uncompressed. Malformed input throws an Error
 * whose message says what was wrong; callers turn it into DATA_LOSS.
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
