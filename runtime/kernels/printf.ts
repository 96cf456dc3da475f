/**
 * C printf-style formatting of single values, as TensorFlow's AsString op
 * produces it through absl::StrFormat("%<fill><width>.<precision><conv>").
 *
 * Supported: flags '-', '+', ' ', '0', '#'; width; precision; conversions
 * d/u (integers, number or bigint), f/e/g (floating point, formatted from the
 * exact binary value with round-half-even, as glibc and absl do), s (bytes).
 * Infinities and NaN print as "inf" / "nan" and are never zero-padded.
 */

export interface FormatSpec {
  /** Flag characters, any of "-+ 0#". */
  flags: string;
  /** Minimum field width; <= 0 means none. */
  width: number;
  /** Precision; < 0 means the conversion's default. */
  precision: number;
  conversion: 'd' | 'u' | 'f' | 'e' | 'g' | 's';
}

const EXP_BIAS = 1075;
const scratch = new DataView(new ArrayBuffer(8));

/** The exact value of a positive finite double as `int * 10^-scale` (int without leading zeros). */
function exactDecimal(x: number): { digits: bigint; scale: number } {
  scratch.setFloat64(0, x);
  const hi = scratch.getUint32(0);
  const lo = scratch.getUint32(4);
  const biased = (hi >>> 20) & 0x7ff;
  let mant = (BigInt(hi & 0xfffff) << 32n) | BigInt(lo);
  let exp: number;
  if (biased === 0) exp = 1 - EXP_BIAS;
  else {
    mant |= 1n << 52n;
    exp = biased - EXP_BIAS;
  }
  if (exp >= 0) return { digits: mant << BigInt(exp), scale: 0 };
  return { digits: mant * 5n ** BigInt(-exp), scale: -exp };
}

/** Divides by 10^drop rounding half to even. */
function roundDrop(v: bigint, drop: number): bigint {
  if (drop <= 0) return v * 10n ** BigInt(-drop);
  const div = 10n ** BigInt(drop);
  let q = v / div;
  const r = v % div;
  const twice = r * 2n;
  if (twice > div || (twice === div && q % 2n === 1n)) q += 1n;
  return q;
}

/** Fixed notation of |x| with `prec` fraction digits (no sign). */
function fixedAbs(x: number, prec: number, alt: boolean): string {
  let s: string;
  if (x === 0) s = '0'.repeat(prec + 1);
  else {
    const { digits, scale } = exactDecimal(x);
    s = roundDrop(digits, scale - prec).toString();
    if (s.length <= prec) s = '0'.repeat(prec + 1 - s.length) + s;
  }
  const intPart = s.slice(0, s.length - prec);
  const frac = s.slice(s.length - prec);
  return prec > 0 || alt ? `${intPart}.${frac}` : intPart;
}

/** Significant digits of |x| rounded to `n` digits, with the decimal exponent of the first digit. */
function significant(x: number, n: number): { digits: string; exp10: number } {
  if (x === 0) return { digits: '0'.repeat(n), exp10: 0 };
  const { digits, scale } = exactDecimal(x);
  const str = digits.toString();
  let exp10 = str.length - 1 - scale;
  let d = roundDrop(digits, str.length - n).toString();
  if (d.length > n) {
    // Rounding carried into a new leading digit (9.99 -> 10.0).
    d = d.slice(0, n);
    exp10 += 1;
  }
  return { digits: d, exp10 };
}

function expAbs(x: number, prec: number, alt: boolean): string {
  const { digits, exp10 } = significant(x, prec + 1);
  const mant = prec > 0 || alt ? `${digits[0]}.${digits.slice(1)}` : digits;
  const e = Math.abs(exp10);
  return `${mant}e${exp10 < 0 ? '-' : '+'}${e < 10 ? '0' : ''}${e}`;
}

function generalAbs(x: number, precIn: number, alt: boolean): string {
  const p = precIn === 0 ? 1 : precIn;
  const { exp10 } = significant(x, p);
  let s: string;
  if (exp10 < p && exp10 >= -4) s = fixedAbs(x, p - 1 - exp10, alt);
  else s = expAbs(x, p - 1, alt);
  if (!alt) {
    // Strip trailing zeros of the fraction (and a bare decimal point).
    const ePos = s.indexOf('e');
    let mant = ePos < 0 ? s : s.slice(0, ePos);
    const tail = ePos < 0 ? '' : s.slice(ePos);
    if (mant.includes('.')) mant = mant.replace(/0+$/, '').replace(/\.$/, '');
    s = mant + tail;
  }
  return s;
}

function pad(body: string, sign: string, spec: FormatSpec, zeroAllowed: boolean): string {
  const len = sign.length + body.length;
  if (spec.width <= len) return sign + body;
  const fill = spec.width - len;
  if (spec.flags.includes('-')) return sign + body + ' '.repeat(fill);
  if (zeroAllowed && spec.flags.includes('0')) return sign + '0'.repeat(fill) + body;
  return ' '.repeat(fill) + sign + body;
}

function signOf(negative: boolean, spec: FormatSpec): string {
  if (negative) return '-';
  if (spec.flags.includes('+')) return '+';
  if (spec.flags.includes(' ')) return ' ';
  return '';
}

/** Formats a floating-point value with conversion f, e or g. */
export function formatFloat(x: number, spec: FormatSpec): string {
  const negative = x < 0 || Object.is(x, -0);
  const sign = signOf(negative, spec);
  if (!Number.isFinite(x)) {
    return pad(Number.isNaN(x) ? 'nan' : 'inf', Number.isNaN(x) ? signOf(false, spec) : sign, spec, false);
  }
  const a = Math.abs(x);
  const prec = spec.precision < 0 ? 6 : spec.precision;
  const alt = spec.flags.includes('#');
  const body =
    spec.conversion === 'f' ? fixedAbs(a, prec, alt) : spec.conversion === 'e' ? expAbs(a, prec, alt) : generalAbs(a, prec, alt);
  return pad(body, sign, spec, true);
}

/** Formats an integer with conversion d or u. */
export function formatInt(v: number | bigint, spec: FormatSpec): string {
  const big = typeof v === 'bigint' ? v : BigInt(v);
  const negative = big < 0n;
  let digits = (negative ? -big : big).toString();
  if (spec.precision >= 0) {
    if (spec.precision === 0 && big === 0n) digits = '';
    else if (digits.length < spec.precision) digits = '0'.repeat(spec.precision - digits.length) + digits;
  }
  return pad(digits, signOf(negative, spec), spec, spec.precision < 0);
}

/** Formats a byte string with conversion s (precision truncates, width pads with spaces). */
export function formatBytes(s: Uint8Array, spec: FormatSpec): Uint8Array {
  const body = spec.precision >= 0 && spec.precision < s.length ? s.subarray(0, spec.precision) : s;
  if (spec.width <= body.length) return body.slice();
  const out = new Uint8Array(spec.width).fill(0x20);
  out.set(body, spec.flags.includes('-') ? 0 : spec.width - body.length);
  return out;
}
