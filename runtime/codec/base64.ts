/**
 * Standard base64 ('+', '/') as TF Serving reads and writes {"b64": ...}
 * values (absl::Base64Unescape / absl::Base64Escape):
 * - decoding skips ASCII whitespace anywhere, accepts '=' (or '.') padding
 *   only at the end and only in the right amount (or none at all), refuses a
 *   lone final character, web-safe '-'/'_' and anything else, and ignores
 *   leftover low bits of the last character;
 * - encoding always pads to a multiple of 4.
 */

const DECODE = new Int8Array(256).fill(-1);
{
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
  for (let i = 0; i < alphabet.length; i++) DECODE[alphabet.charCodeAt(i)] = i;
}

function isSpace(c: number): boolean {
  return c === 0x20 || (c >= 0x09 && c <= 0x0d);
}

/** Decodes like absl::Base64Unescape; undefined where it fails. */
export function base64Decode(s: string): Uint8Array | undefined {
  // Fast path: the usual canonical form.
  if (s.length % 4 === 0 && /^[A-Za-z0-9+/]*={0,2}$/.test(s)) return new Uint8Array(Buffer.from(s, 'base64'));
  const out = new Uint8Array(Math.floor((s.length * 3) / 4) + 3);
  let o = 0;
  let acc = 0;
  let state = 0; // characters in the current 4-character group
  let i = 0;
  for (; i < s.length; i++) {
    const c = s.charCodeAt(i);
    const v = c < 256 ? DECODE[c] : -1;
    if (v >= 0) {
      acc = (acc << 6) | v;
      if (++state === 4) {
        out[o++] = (acc >> 16) & 0xff;
        out[o++] = (acc >> 8) & 0xff;
        out[o++] = acc & 0xff;
        acc = 0;
        state = 0;
      }
    } else if (c === 0x3d || c === 0x2e) {
      break; // padding starts
    } else if (!isSpace(c)) {
      return undefined;
    }
  }
  let expectedPads = 0;
  if (state === 1) return undefined;
  if (state === 2) {
    out[o++] = (acc >> 4) & 0xff;
    expectedPads = 2;
  } else if (state === 3) {
    out[o++] = (acc >> 10) & 0xff;
    out[o++] = (acc >> 2) & 0xff;
    expectedPads = 1;
  }
  let pads = 0;
  for (; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 0x3d || c === 0x2e) pads++;
    else if (!isSpace(c)) return undefined;
  }
  if (pads !== 0 && pads !== expectedPads) return undefined;
  return out.slice(0, o);
}

/** Standard base64 with '=' padding (absl::Base64Escape). */
export function base64Encode(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');
}
