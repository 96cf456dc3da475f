/**
 * The string hashes behind TensorFlow's hash-bucket ops, bit-exact:
 *  - fingerprint64: farmhash's Fingerprint64 (farmhashna::Hash64), used by
 *    StringToHashBucketFast and feature columns' hash buckets;
 *  - sipHash24: SipHash-2-4 with a 128-bit key, as TF's StrongKeyedHash
 *    (highwayhash::SipHash) used by StringToHashBucketStrong.
 * Both return unsigned 64-bit values as bigint.
 */

const MASK = (1n << 64n) - 1n;
const K0 = 0xc3a5c85c97cb3127n;
const K1 = 0xb492b66fbe98f273n;
const K2 = 0x9ae16a3b2f90404fn;

const u64 = (x: bigint) => x & MASK;
const mul = (a: bigint, b: bigint) => (a * b) & MASK;
const add = (...xs: bigint[]) => xs.reduce((a, b) => a + b, 0n) & MASK;
const rotr = (v: bigint, s: number) => (s === 0 ? v : ((v >> BigInt(s)) | (v << BigInt(64 - s))) & MASK);
const shiftMix = (v: bigint) => v ^ (v >> 47n);

function fetch64(s: Uint8Array, i: number): bigint {
  let v = 0n;
  for (let k = 7; k >= 0; k--) v = (v << 8n) | BigInt(s[i + k]);
  return v;
}

function fetch32(s: Uint8Array, i: number): bigint {
  return BigInt((s[i] | (s[i + 1] << 8) | (s[i + 2] << 16) | (s[i + 3] << 24)) >>> 0);
}

function hashLen16(u: bigint, v: bigint, m: bigint): bigint {
  let a = mul(u ^ v, m);
  a ^= a >> 47n;
  let b = mul(v ^ a, m);
  b ^= b >> 47n;
  return mul(b, m);
}

function hashLen0to16(s: Uint8Array): bigint {
  const len = s.length;
  if (len >= 8) {
    const m = add(K2, BigInt(len * 2));
    const a = add(fetch64(s, 0), K2);
    const b = fetch64(s, len - 8);
    const c = add(mul(rotr(b, 37), m), a);
    const d = mul(add(rotr(a, 25), b), m);
    return hashLen16(c, d, m);
  }
  if (len >= 4) {
    const m = add(K2, BigInt(len * 2));
    const a = fetch32(s, 0);
    return hashLen16(add(BigInt(len), a << 3n), fetch32(s, len - 4), m);
  }
  if (len > 0) {
    const y = BigInt(s[0] + (s[len >> 1] << 8));
    const z = BigInt(len + (s[len - 1] << 2));
    return mul(shiftMix(mul(y, K2) ^ mul(z, K0)), K2);
  }
  return K2;
}

function hashLen17to32(s: Uint8Array): bigint {
  const len = s.length;
  const m = add(K2, BigInt(len * 2));
  const a = mul(fetch64(s, 0), K1);
  const b = fetch64(s, 8);
  const c = mul(fetch64(s, len - 8), m);
  const d = mul(fetch64(s, len - 16), K2);
  return hashLen16(add(rotr(add(a, b), 43), rotr(c, 30), d), add(a, rotr(add(b, K2), 18), c), m);
}

function hashLen33to64(s: Uint8Array): bigint {
  const len = s.length;
  const m = add(K2, BigInt(len * 2));
  const a = mul(fetch64(s, 0), K2);
  const b = fetch64(s, 8);
  const c = mul(fetch64(s, len - 8), m);
  const d = mul(fetch64(s, len - 16), K2);
  const y = add(rotr(add(a, b), 43), rotr(c, 30), d);
  const z = hashLen16(y, add(a, rotr(add(b, K2), 18), c), m);
  const e = mul(fetch64(s, 16), m);
  const f = fetch64(s, 24);
  const g = mul(add(y, fetch64(s, len - 32)), m);
  const h = mul(add(z, fetch64(s, len - 24)), m);
  return hashLen16(add(rotr(add(e, f), 43), rotr(g, 30), h), add(e, rotr(add(f, a), 18), g), m);
}

function weakHashLen32WithSeeds(s: Uint8Array, i: number, a: bigint, b: bigint): [bigint, bigint] {
  const w = fetch64(s, i);
  const x = fetch64(s, i + 8);
  const y = fetch64(s, i + 16);
  const z = fetch64(s, i + 24);
  a = add(a, w);
  b = rotr(add(b, a, z), 21);
  const c = a;
  a = add(a, x, y);
  b = add(b, rotr(a, 44));
  return [add(a, z), add(b, c)];
}

/** farmhash Fingerprint64 of the bytes (TF's Fingerprint64). */
export function fingerprint64(s: Uint8Array): bigint {
  const len = s.length;
  if (len <= 16) return hashLen0to16(s);
  if (len <= 32) return hashLen17to32(s);
  if (len <= 64) return hashLen33to64(s);
  const seed = 81n;
  let x = seed;
  let y = add(mul(seed, K1), 113n);
  let z = mul(shiftMix(add(mul(y, K2), 113n)), K2);
  let v: [bigint, bigint] = [0n, 0n];
  let w: [bigint, bigint] = [0n, 0n];
  x = add(mul(x, K2), fetch64(s, 0));
  const end = Math.floor((len - 1) / 64) * 64;
  const last64 = end + ((len - 1) & 63) - 63;
  let p = 0;
  do {
    x = mul(rotr(add(x, y, v[0], fetch64(s, p + 8)), 37), K1);
    y = mul(rotr(add(y, v[1], fetch64(s, p + 48)), 42), K1);
    x ^= w[1];
    y = add(y, v[0], fetch64(s, p + 40));
    z = mul(rotr(add(z, w[0]), 33), K1);
    v = weakHashLen32WithSeeds(s, p, mul(v[1], K1), add(x, w[0]));
    w = weakHashLen32WithSeeds(s, p + 32, add(z, w[1]), add(y, fetch64(s, p + 16)));
    [z, x] = [x, z];
    p += 64;
  } while (p !== end);
  const m = add(K1, (z & 0xffn) << 1n);
  p = last64;
  w[0] = add(w[0], BigInt((len - 1) & 63));
  v[0] = add(v[0], w[0]);
  w[0] = add(w[0], v[0]);
  x = mul(rotr(add(x, y, v[0], fetch64(s, p + 8)), 37), m);
  y = mul(rotr(add(y, v[1], fetch64(s, p + 48)), 42), m);
  x ^= mul(w[1], 9n);
  y = add(y, mul(v[0], 9n), fetch64(s, p + 40));
  z = mul(rotr(add(z, w[0]), 33), m);
  v = weakHashLen32WithSeeds(s, p, mul(v[1], m), add(x, w[0]));
  w = weakHashLen32WithSeeds(s, p + 32, add(z, w[1]), add(y, fetch64(s, p + 16)));
  [z, x] = [x, z];
  return hashLen16(
    add(hashLen16(v[0], w[0], m), mul(shiftMix(y), K0), z),
    add(hashLen16(v[1], w[1], m), x),
    m,
  );
}

/** SipHash-2-4 of the bytes under the key (k0, k1). */
export function sipHash24(key: readonly [bigint, bigint], s: Uint8Array): bigint {
  const k0 = u64(key[0]);
  const k1 = u64(key[1]);
  let v0 = k0 ^ 0x736f6d6570736575n;
  let v1 = k1 ^ 0x646f72616e646f6dn;
  let v2 = k0 ^ 0x6c7967656e657261n;
  let v3 = k1 ^ 0x7465646279746573n;
  const rotl = (x: bigint, b: number) => rotr(x, 64 - b);
  const round = () => {
    v0 = add(v0, v1);
    v1 = rotl(v1, 13) ^ v0;
    v0 = rotl(v0, 32);
    v2 = add(v2, v3);
    v3 = rotl(v3, 16) ^ v2;
    v0 = add(v0, v3);
    v3 = rotl(v3, 21) ^ v0;
    v2 = add(v2, v1);
    v1 = rotl(v1, 17) ^ v2;
    v2 = rotl(v2, 32);
  };
  const full = s.length - (s.length % 8);
  const absorb = (m: bigint) => {
    v3 ^= m;
    round();
    round();
    v0 ^= m;
  };
  for (let i = 0; i < full; i += 8) absorb(fetch64(s, i));
  let last = BigInt(s.length & 0xff) << 56n;
  for (let i = full; i < s.length; i++) last |= BigInt(s[i]) << BigInt(8 * (i - full));
  absorb(last);
  v2 ^= 0xffn;
  round();
  round();
  round();
  round();
  return v0 ^ v1 ^ v2 ^ v3;
}
