/**
 * JSON numbers read exactly as rapidjson 1.1.0 reads them (ParseNumber with
 * NaN/Infinity allowed, normal precision), step for step, so TF Serving's
 * values and errors are reproduced bit for bit:
 * - integer tokens within uint64/int64 keep exact values (plain JS numbers
 *   up to 2^53, JsonNumber with a bigint beyond);
 * - larger integers, and tokens with a fraction or exponent, are doubles:
 *   a significand of at most 17 digits scaled by an exact power of ten
 *   (rapidjson's fast strtod, which for long inputs can differ from correct
 *   rounding in the last bits); past DBL_MAX they become infinities;
 * - NaN, Inf, Infinity (optionally negative) are doubles; after them a
 *   fraction/exponent still parses and gives the value (NaN.5 is 0.5);
 * - errors: "Invalid value.", "Miss fraction part in number.", "Miss
 *   exponent in number.", "Number too big to be stored in double." (an
 *   exponent past 308 or integer digits past DBL_MAX), at rapidjson's offsets.
 */
import { JsonNumber, type JsonValue } from './json_value.js';

/** The parser state the number reader shares: the body bytes, the read position, and how to fail. */
export interface ByteCursor {
  readonly bytes: Uint8Array;
  pos: number;
  fail(what: string, at: number): never;
}

const SAFE = 2 ** 53 - 1;
const DBL_MAX_TENTH = 1.7976931348623157e307;

function isDigit(c: number): boolean {
  return c >= 0x30 && c <= 0x39;
}

/** The byte at the cursor; 0 at the end (rapidjson reads '\0' there). */
function peek(cur: ByteCursor): number {
  return cur.pos < cur.bytes.length ? cur.bytes[cur.pos] : 0;
}

function consume(cur: ByteCursor, c: number): boolean {
  if (peek(cur) === c) {
    cur.pos++;
    return true;
  }
  return false;
}

/** Reads the number at the cursor and moves past it. */
export function readNumber(cur: ByteCursor): JsonValue {
  // The common shapes (int part below 2^31, no NaN/Infinity) without bigints; others go the general way.
  const s = cur.bytes;
  const n = s.length;
  const start = cur.pos;
  let i = start;
  let c = i < n ? s[i] : 0;
  const minus = c === 0x2d;
  if (minus) c = ++i < n ? s[i] : 0;
  let int = 0;
  let significandDigit = 0;
  if (c === 0x30) {
    c = ++i < n ? s[i] : 0;
  } else if (c >= 0x31 && c <= 0x39) {
    int = c - 48;
    c = ++i < n ? s[i] : 0;
    while (c >= 0x30 && c <= 0x39) {
      if (int >= 214748364) return readNumberGeneral(cur);
      int = int * 10 + (c - 48);
      significandDigit++;
      c = ++i < n ? s[i] : 0;
    }
  } else {
    return readNumberGeneral(cur);
  }
  let d = 0;
  let useDouble = false;
  let expFrac = 0;
  if (c === 0x2e) {
    c = ++i < n ? s[i] : 0;
    if (!(c >= 0x30 && c <= 0x39)) {
      cur.pos = i;
      cur.fail('Miss fraction part in number.', i);
    }
    let sig = int;
    while (c >= 0x30 && c <= 0x39 && sig <= SAFE) {
      sig = sig <= 900719925474098 ? sig * 10 + (c - 48) : timesTenPlus(sig, c - 48);
      expFrac--;
      if (sig !== 0) significandDigit++;
      c = ++i < n ? s[i] : 0;
    }
    d = sig;
    while (c >= 0x30 && c <= 0x39) {
      if (significandDigit < 17) {
        d = d * 10 + (c - 48);
        expFrac--;
        if (d > 0) significandDigit++;
      }
      c = ++i < n ? s[i] : 0;
    }
    useDouble = true;
  }
  if (c === 0x65 || c === 0x45) {
    cur.pos = start;
    return readNumberGeneral(cur);
  }
  cur.pos = i;
  if (useDouble) {
    const value = scaleByPowerOfTen(d, expFrac);
    return doubleValue(minus ? -value : value);
  }
  return minus ? 0 - int : int;
}

/** The general case of readNumber: any int size, NaN/Infinity, exponents. */
function readNumberGeneral(cur: ByteCursor): JsonValue {
  const startOffset = cur.pos;
  const minus = consume(cur, 0x2d);
  let i32 = 0; // the uint32 phase
  let i64: bigint | number = 0; // the uint64 phase (bigint once it may pass 2^53)
  let use64bit = false;
  let useDouble = false;
  let useNanOrInf = false;
  let significandDigit = 0;
  let d = 0;

  const c0 = peek(cur);
  if (c0 === 0x30) {
    cur.pos++;
  } else if (c0 >= 0x31 && c0 <= 0x39) {
    i32 = c0 - 48;
    cur.pos++;
    const limit = minus ? 214748364 : 429496729;
    const lastDigit = minus ? 0x38 : 0x35;
    for (let c = peek(cur); isDigit(c); c = peek(cur)) {
      if (i32 >= limit && (i32 !== limit || c > lastDigit)) {
        i64 = BigInt(i32);
        use64bit = true;
        break;
      }
      i32 = i32 * 10 + (c - 48);
      cur.pos++;
      significandDigit++;
    }
  } else if (c0 === 0x49 || c0 === 0x4e) {
    useNanOrInf = true;
    if (consume(cur, 0x4e) && consume(cur, 0x61) && consume(cur, 0x4e)) {
      d = NaN;
    } else if (consume(cur, 0x49) && consume(cur, 0x6e) && consume(cur, 0x66)) {
      d = minus ? -Infinity : Infinity;
      if (peek(cur) === 0x69) {
        for (const c of [0x69, 0x6e, 0x69, 0x74, 0x79]) if (!consume(cur, c)) cur.fail('Invalid value.', cur.pos);
      }
    } else {
      cur.fail('Invalid value.', cur.pos);
    }
  } else {
    cur.fail('Invalid value.', cur.pos);
  }

  if (use64bit) {
    const limit = minus ? 922337203685477580n : 1844674407370955161n;
    const lastDigit = minus ? 0x38 : 0x35;
    let big = i64 as bigint;
    for (let c = peek(cur); isDigit(c); c = peek(cur)) {
      if (big >= limit && (big !== limit || c > lastDigit)) {
        d = Number(big);
        useDouble = true;
        break;
      }
      big = big * 10n + BigInt(c - 48);
      cur.pos++;
      significandDigit++;
    }
    i64 = big;
  }

  if (useDouble) {
    // An integer too big for (u)int64 continues as a double.
    for (let c = peek(cur); isDigit(c); c = peek(cur)) {
      if (d >= DBL_MAX_TENTH) cur.fail('Number too big to be stored in double.', startOffset);
      d = d * 10 + (c - 48);
      cur.pos++;
    }
  }

  let expFrac = 0;
  if (consume(cur, 0x2e)) {
    if (!isDigit(peek(cur))) cur.fail('Miss fraction part in number.', cur.pos);
    if (!useDouble) {
      let sig: bigint | number = use64bit ? (i64 <= SAFE ? Number(i64) : i64) : i32;
      for (let c = peek(cur); isDigit(c); c = peek(cur)) {
        if (sig > SAFE) break;
        sig = timesTenPlus(sig as number, c - 48);
        cur.pos++;
        expFrac--;
        if (sig !== 0) significandDigit++;
      }
      d = Number(sig);
      useDouble = true;
    }
    for (let c = peek(cur); isDigit(c); c = peek(cur)) {
      cur.pos++;
      if (significandDigit < 17) {
        d = d * 10 + (c - 48);
        expFrac--;
        if (d > 0) significandDigit++;
      }
    }
  }

  let exp = 0;
  if (consume(cur, 0x65) || consume(cur, 0x45)) {
    if (!useDouble) {
      d = use64bit ? Number(i64) : i32;
      useDouble = true;
    }
    let expMinus = false;
    if (consume(cur, 0x2b)) expMinus = false;
    else if (consume(cur, 0x2d)) expMinus = true;
    if (!isDigit(peek(cur))) cur.fail('Miss exponent in number.', cur.pos);
    exp = peek(cur) - 48;
    cur.pos++;
    if (expMinus) {
      for (let c = peek(cur); isDigit(c); c = peek(cur)) {
        exp = exp * 10 + (c - 48);
        cur.pos++;
        if (exp >= 214748364) while (isDigit(peek(cur))) cur.pos++;
      }
      exp = -exp;
    } else {
      const maxExp = 308 - expFrac;
      for (let c = peek(cur); isDigit(c); c = peek(cur)) {
        exp = exp * 10 + (c - 48);
        cur.pos++;
        if (exp > maxExp) cur.fail('Number too big to be stored in double.', startOffset);
      }
    }
  }

  if (useDouble) {
    const value = scaleByPowerOfTen(d, exp + expFrac);
    return doubleValue(minus ? -value : value);
  }
  if (useNanOrInf) return d;
  if (use64bit) {
    const big = minus ? -(i64 as bigint) : (i64 as bigint);
    const n = Number(big);
    return Number.isSafeInteger(n) ? n : new JsonNumber(n, big);
  }
  return minus ? 0 - i32 : i32;
}

/**
 * double(s * 10 + digit) rounded once, as C++ converts the exact uint64 (s < 2^53):
 * s = h * 2^26 + l, and h * 10 * 2^26 and l * 10 + digit are both exact.
 */
function timesTenPlus(s: number, digit: number): number {
  const h = Math.floor(s / 67108864);
  const l = s - h * 67108864;
  return h * 671088640 + (l * 10 + digit);
}

/** Exact powers of ten as C++ double literals (rapidjson's Pow10 table). */
const POW10: number[] = [];
for (let n = 0; n <= 308; n++) POW10.push(Number(`1e${n}`));

/** rapidjson's StrtodNormalPrecision(d, p). */
function scaleByPowerOfTen(d: number, p: number): number {
  if (p < -308) return fastPath(fastPath(d, -308), p + 308);
  return fastPath(d, p);
}

function fastPath(s: number, e: number): number {
  return e < -308 ? 0 : e >= 0 ? s * POW10[e] : s / POW10[-e];
}

/** A double token: plain when its value is not integral (unambiguous), wrapped when it could pass for an integer. */
function doubleValue(v: number): JsonValue {
  return Number.isInteger(v) ? new JsonNumber(v, undefined) : v;
}
