/**
 * rapidjson's double → shortest-digits conversion (Grisu2, Loitsch 2010), so
 * the doubles TF Serving echoes back in error texts carry the very digits it
 * prints. Grisu2 usually finds the shortest round-tripping digits, but not
 * always the closest ones (2^64 prints as 18446744073709553000.0), which is
 * why JS's own shortest form cannot stand in for it.
 *
 * grisu2Digits(v) gives, for finite v > 0, digits d1d2...dn and an exponent K
 * with v ≈ 0.d1...dn × 10^(n+K) (i.e. the integer d1...dn × 10^K). Only error
 * texts use it, so it favours clarity (bigint arithmetic) over speed.
 */

const MASK64 = (1n << 64n) - 1n;
const HIDDEN_BIT = 1n << 52n;

interface DiyFp {
  f: bigint;
  e: number;
}

/** The 64-bit normalized significand and binary exponent of 10^k, rounded to nearest. */
function cachedPowerOfTen(k: number): DiyFp {
  if (k >= 0) {
    const p = 10n ** BigInt(k);
    const bits = p.toString(2).length;
    if (bits <= 64) return { f: p << BigInt(64 - bits), e: bits - 64 };
    const shift = BigInt(bits - 64);
    let f = p >> shift;
    if ((p >> (shift - 1n)) & 1n) f += 1n;
    if (f >> 64n) return { f: f >> 1n, e: bits - 63 };
    return { f, e: bits - 64 };
  }
  // 10^k = 2^e * f with f = 2^-e / 10^-k; pick e so that f has 64 bits.
  const q = 10n ** BigInt(-k);
  const qBits = q.toString(2).length;
  const shift = BigInt(63 + qBits);
  let f = (1n << shift) / q;
  const rem = (1n << shift) % q;
  if (rem * 2n >= q) f += 1n;
  let e = -Number(shift);
  while (f >> 64n) {
    f >>= 1n;
    e += 1;
  }
  while (!(f >> 63n)) {
    f <<= 1n;
    e -= 1;
  }
  return { f, e };
}

const CACHED_POWERS: DiyFp[] = [];
function cachedPowerByIndex(index: number): DiyFp {
  for (let i = CACHED_POWERS.length; i <= index; i++) CACHED_POWERS.push(cachedPowerOfTen(-348 + i * 8));
  return CACHED_POWERS[index];
}

function multiply(a: DiyFp, b: DiyFp): DiyFp {
  const p = a.f * b.f;
  let h = p >> 64n;
  if ((p >> 63n) & 1n) h += 1n; // round on the top bit of the low half
  return { f: h & MASK64, e: a.e + b.e + 64 };
}

function normalize(v: DiyFp): DiyFp {
  let { f, e } = v;
  while (!(f >> 63n)) {
    f <<= 1n;
    e--;
  }
  return { f, e };
}

function fromDouble(d: number): DiyFp {
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, d);
  const bits = view.getBigUint64(0);
  const biased = Number((bits >> 52n) & 0x7ffn);
  const significand = bits & (HIDDEN_BIT - 1n);
  if (biased !== 0) return { f: significand + HIDDEN_BIT, e: biased - 1075 };
  return { f: significand, e: -1074 };
}

function boundaries(v: DiyFp): { minus: DiyFp; plus: DiyFp } {
  let pl: DiyFp = { f: (v.f << 1n) + 1n, e: v.e - 1 };
  while (!(pl.f & (HIDDEN_BIT << 1n))) pl = { f: pl.f << 1n, e: pl.e - 1 };
  pl = { f: pl.f << 10n, e: pl.e - 10 };
  const mi: DiyFp = v.f === HIDDEN_BIT ? { f: (v.f << 2n) - 1n, e: v.e - 2 } : { f: (v.f << 1n) - 1n, e: v.e - 1 };
  return { minus: { f: mi.f << BigInt(mi.e - pl.e), e: pl.e }, plus: pl };
}

function countDecimalDigits(n: number): number {
  let k = 1;
  while (k < 9 && n >= 10 ** k) k++;
  return k;
}

export function grisu2Digits(value: number): { digits: string; K: number } {
  const v = fromDouble(value);
  const { minus, plus } = boundaries(v);
  const dk = (-61 - plus.e) * 0.30102999566398114 + 347;
  let k = Math.trunc(dk);
  if (dk - k > 0) k++;
  const index = (k >> 3) + 1;
  let K = -(-348 + index * 8);
  const cmk = cachedPowerByIndex(index);
  const W = multiply(normalize(v), cmk);
  const Wp = multiply(plus, cmk);
  const Wm = multiply(minus, cmk);
  Wm.f += 1n;
  Wp.f -= 1n;

  // DigitGen
  let delta = (Wp.f - Wm.f) & MASK64;
  const shift = BigInt(-Wp.e);
  const one = 1n << shift;
  const wpW = (Wp.f - W.f) & MASK64;
  let p1 = Number(Wp.f >> shift);
  let p2 = Wp.f & (one - 1n);
  let kappa = countDecimalDigits(p1);
  const buffer: number[] = [];

  const round = (rest: bigint, tenKappa: bigint, wpw: bigint): void => {
    while (
      rest < wpw &&
      delta - rest >= tenKappa &&
      (rest + tenKappa < wpw || wpw - rest > rest + tenKappa - wpw)
    ) {
      buffer[buffer.length - 1]--;
      rest += tenKappa;
    }
  };

  while (kappa > 0) {
    const pow = 10 ** (kappa - 1);
    const d = Math.floor(p1 / pow);
    p1 %= pow;
    if (d || buffer.length) buffer.push(d);
    kappa--;
    const tmp = (BigInt(p1) << shift) + p2;
    if (tmp <= delta) {
      K += kappa;
      round(tmp, BigInt(10 ** kappa) << shift, wpW);
      return { digits: buffer.join(''), K };
    }
  }
  for (;;) {
    p2 = (p2 * 10n) & MASK64;
    delta = (delta * 10n) & MASK64;
    const d = Number(p2 >> shift);
    if (d || buffer.length) buffer.push(d);
    p2 &= one - 1n;
    kappa--;
    if (p2 < delta) {
      K += kappa;
      const index10 = -kappa;
      round(p2, one, (wpW * (index10 < 9 ? BigInt(10 ** index10) : 0n)) & MASK64);
      return { digits: buffer.join(''), K };
    }
  }
}
