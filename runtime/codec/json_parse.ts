/**
 * Reading request bodies as TF Serving does (rapidjson 1.1.0, the version it
 * pins, with NaN/Infinity literals allowed), with its error texts:
 *   "JSON Parse error: The document is empty"            (empty body)
 *   "JSON Parse error: Invalid value. at offset: 0"       (offsets in bytes)
 *   "JSON Parse error: Missing a comma or ']' after an array element. at offset: 7" ...
 *
 * parseJsonExact builds the exact form (json_value.ts) following rapidjson
 * step for step: NaN, Inf, Infinity (optionally negative) are numbers, a NUL
 * byte ends the document, a leading byte order mark is skipped, a \u high surrogate escape must be followed by a
 * low one, integers beyond uint64/int64 become doubles, exponents past 308
 * and integer digits past DBL_MAX are "Number too big", and doubles get
 * exactly the value rapidjson's normal-precision parsing gives (which for
 * long inputs can differ from correct rounding in the last bits).
 *
 * parseJsonFast is JSON.parse, used only for bodies where it cannot disagree
 * with rapidjson: no number has a run of 8+ digits or a 2-digit exponent
 * (so every double is correctly rounded by both), no surrogate escapes. It
 * returns undefined otherwise, and for anything JSON.parse refuses.
 * Duplicate keys: the last value wins, in both forms.
 */
import { invalidArgument } from '../errors.js';
import { JsonNumber, type JsonObjectMap, type JsonValue } from './json_value.js';

const SAFE = 2 ** 53 - 1;
const DBL_MAX_TENTH = 1.7976931348623157e307;

/** Bodies JSON.parse may read differently from rapidjson (see the module comment). */
const NOT_FOR_FAST_PARSE = /\\u[dD][89a-fA-F]|\d{8}|[eE][+-]?\d\d/;

/** JSON.parse when it is sure to agree with rapidjson; undefined when the exact parser must decide. */
export function parseJsonFast(body: string): JsonValue | undefined {
  if (body.length === 0 || NOT_FOR_FAST_PARSE.test(body)) return undefined;
  try {
    return JSON.parse(body) as JsonValue;
  } catch {
    return undefined;
  }
}

/** True when the body has no double tokens ("1.5", "2e3"): every number JSON.parse gives is an integer token. */
export function hasNoDoubleTokens(body: string): boolean {
  return !/\d[.eE]/.test(body);
}

function isDigit(c: number): boolean {
  return c >= 0x30 && c <= 0x39;
}

function hexValue(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x41 && c <= 0x46) return c - 0x37;
  if (c >= 0x61 && c <= 0x66) return c - 0x57;
  return -1;
}

const SIMPLE_ESCAPES: Record<number, string> = {
  0x22: '"',
  0x2f: '/',
  0x5c: '\\',
  0x62: '\b',
  0x66: '\f',
  0x6e: '\n',
  0x72: '\r',
  0x74: '\t',
};

class Parser {
  private i = 0;
  private readonly n: number;
  private readonly text: Buffer;

  constructor(private readonly s: Uint8Array) {
    this.n = s.length;
    this.text = Buffer.from(s.buffer, s.byteOffset, s.byteLength);
  }

  document(): JsonValue {
    // rapidjson's UTF-8 memory stream skips a byte order mark (byte by byte, as it checks them).
    if (this.peek() === 0xef) this.i++;
    if (this.peek() === 0xbb) this.i++;
    if (this.peek() === 0xbf) this.i++;
    this.skipWhitespace();
    if (this.peek() === 0) this.fail('The document is empty.', this.i);
    const v = this.value();
    this.skipWhitespace();
    if (this.peek() !== 0) this.fail('The document root must not be followed by other values.', this.i);
    return v;
  }

  /** The character code at the cursor; 0 at the end (rapidjson's stream reads '\0' there, and stops at a NUL). */
  private peek(): number {
    return this.i < this.n ? this.s[this.i] : 0;
  }

  private consume(c: number): boolean {
    if (this.peek() === c) {
      this.i++;
      return true;
    }
    return false;
  }

  private fail(what: string, pos: number): never {
    throw invalidArgument(`JSON Parse error: ${what} at offset: ${pos}`);
  }

  private skipWhitespace(): void {
    for (;;) {
      const c = this.peek();
      if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) this.i++;
      else return;
    }
  }

  private value(): JsonValue {
    switch (this.peek()) {
      case 0x6e: // n
        this.literal('null');
        return null;
      case 0x74: // t
        this.literal('true');
        return true;
      case 0x66: // f
        this.literal('false');
        return false;
      case 0x22:
        return this.string();
      case 0x7b:
        return this.object();
      case 0x5b:
        return this.array();
      default:
        return this.number();
    }
  }

  private literal(word: string): void {
    this.i++;
    for (let k = 1; k < word.length; k++) {
      if (!this.consume(word.charCodeAt(k))) this.fail('Invalid value.', this.i);
    }
  }

  private object(): JsonObjectMap {
    this.i++;
    const out: JsonObjectMap = new Map();
    this.skipWhitespace();
    if (this.consume(0x7d)) return out;
    for (;;) {
      if (this.peek() !== 0x22) this.fail('Missing a name for object member.', this.i);
      const key = this.string();
      this.skipWhitespace();
      if (!this.consume(0x3a)) this.fail('Missing a colon after a name of object member.', this.i);
      this.skipWhitespace();
      out.set(key, this.value());
      this.skipWhitespace();
      const c = this.peek();
      if (c === 0x2c) {
        this.i++;
        this.skipWhitespace();
      } else if (c === 0x7d) {
        this.i++;
        return out;
      } else {
        this.fail("Missing a comma or '}' after an object member.", this.i);
      }
    }
  }

  private array(): JsonValue[] {
    this.i++;
    const out: JsonValue[] = [];
    this.skipWhitespace();
    if (this.consume(0x5d)) return out;
    for (;;) {
      out.push(this.value());
      this.skipWhitespace();
      if (this.consume(0x2c)) this.skipWhitespace();
      else if (this.consume(0x5d)) return out;
      else this.fail("Missing a comma or ']' after an array element.", this.i);
    }
  }

  private hex4(escapeOffset: number): number {
    let cp = 0;
    for (let k = 0; k < 4; k++) {
      const h = hexValue(this.peek());
      if (h < 0) this.fail('Incorrect hex digit after \\u escape in string.', escapeOffset);
      cp = (cp << 4) | h;
      this.i++;
    }
    return cp;
  }

  private string(): string {
    this.i++;
    let out = '';
    let start = this.i;
    for (;;) {
      const c = this.peek();
      if (c === 0x22) {
        out += this.text.toString('utf8', start, this.i);
        this.i++;
        return out;
      }
      if (c === 0x5c) {
        out += this.text.toString('utf8', start, this.i);
        const escapeOffset = this.i;
        this.i++;
        const e = this.peek();
        const simple = SIMPLE_ESCAPES[e];
        if (simple !== undefined) {
          this.i++;
          out += simple;
        } else if (e === 0x75) {
          this.i++;
          let cp = this.hex4(escapeOffset);
          // A high surrogate must be followed by a low one; a lone low surrogate passes (rapidjson 1.1.0).
          if (cp >= 0xd800 && cp <= 0xdbff) {
            if (!this.consume(0x5c) || !this.consume(0x75)) this.fail('The surrogate pair in string is invalid.', escapeOffset);
            const low = this.hex4(escapeOffset);
            if (low < 0xdc00 || low > 0xdfff) this.fail('The surrogate pair in string is invalid.', escapeOffset);
            cp = ((cp - 0xd800) << 10) + (low - 0xdc00) + 0x10000;
          }
          out += String.fromCodePoint(cp);
        } else {
          this.fail('Invalid escape character in string.', escapeOffset);
        }
        start = this.i;
        continue;
      }
      if (c < 0x20) {
        if (c === 0) this.fail('Missing a closing quotation mark in string.', this.i);
        this.fail('Invalid escape character in string.', this.i);
      }
      this.i++;
    }
  }

  /**
   * rapidjson 1.1.0's ParseNumber (normal precision), step for step, so
   * values and errors are bit-exact: integer tokens up to uint64/int64 keep
   * exact values; doubles come from a significand of at most 17 digits
   * scaled by a power of ten.
   */
  private number(): JsonValue {
    // The common shapes (int part below 2^31, no NaN/Infinity) without bigints; others go the general way.
    const s = this.s;
    const n = this.n;
    const start = this.i;
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
        if (int >= 214748364) return this.numberGeneral();
        int = int * 10 + (c - 48);
        significandDigit++;
        c = ++i < n ? s[i] : 0;
      }
    } else {
      return this.numberGeneral();
    }
    let d = 0;
    let useDouble = false;
    let expFrac = 0;
    if (c === 0x2e) {
      c = ++i < n ? s[i] : 0;
      if (!(c >= 0x30 && c <= 0x39)) {
        this.i = i;
        this.fail('Miss fraction part in number.', i);
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
      this.i = start;
      return this.numberGeneral();
    }
    this.i = i;
    if (useDouble) {
      const value = scaleByPowerOfTen(d, expFrac);
      return doubleValue(minus ? -value : value);
    }
    return minus ? 0 - int : int;
  }

  /** The general case of number(): any int size, NaN/Infinity, exponents. */
  private numberGeneral(): JsonValue {
    const startOffset = this.i;
    const minus = this.consume(0x2d);
    let i32 = 0; // the uint32 phase
    let i64: bigint | number = 0; // the uint64 phase (bigint once it may pass 2^53)
    let use64bit = false;
    let useDouble = false;
    let useNanOrInf = false;
    let significandDigit = 0;
    let d = 0;

    const c0 = this.peek();
    if (c0 === 0x30) {
      this.i++;
    } else if (c0 >= 0x31 && c0 <= 0x39) {
      i32 = c0 - 48;
      this.i++;
      const limit = minus ? 214748364 : 429496729;
      const lastDigit = minus ? 0x38 : 0x35;
      for (let c = this.peek(); isDigit(c); c = this.peek()) {
        if (i32 >= limit && (i32 !== limit || c > lastDigit)) {
          i64 = BigInt(i32);
          use64bit = true;
          break;
        }
        i32 = i32 * 10 + (c - 48);
        this.i++;
        significandDigit++;
      }
    } else if (c0 === 0x49 || c0 === 0x4e) {
      useNanOrInf = true;
      if (this.consume(0x4e) && this.consume(0x61) && this.consume(0x4e)) {
        d = NaN;
      } else if (this.consume(0x49) && this.consume(0x6e) && this.consume(0x66)) {
        d = minus ? -Infinity : Infinity;
        if (this.peek() === 0x69) {
          for (const c of [0x69, 0x6e, 0x69, 0x74, 0x79]) if (!this.consume(c)) this.fail('Invalid value.', this.i);
        }
      } else {
        this.fail('Invalid value.', this.i);
      }
    } else {
      this.fail('Invalid value.', this.i);
    }

    if (use64bit) {
      const limit = minus ? 922337203685477580n : 1844674407370955161n;
      const lastDigit = minus ? 0x38 : 0x35;
      let big = i64 as bigint;
      for (let c = this.peek(); isDigit(c); c = this.peek()) {
        if (big >= limit && (big !== limit || c > lastDigit)) {
          d = Number(big);
          useDouble = true;
          break;
        }
        big = big * 10n + BigInt(c - 48);
        this.i++;
        significandDigit++;
      }
      i64 = big;
    }

    if (useDouble) {
      // An integer too big for (u)int64 continues as a double.
      for (let c = this.peek(); isDigit(c); c = this.peek()) {
        if (d >= DBL_MAX_TENTH) this.fail('Number too big to be stored in double.', startOffset);
        d = d * 10 + (c - 48);
        this.i++;
      }
    }

    let expFrac = 0;
    if (this.consume(0x2e)) {
      if (!isDigit(this.peek())) this.fail('Miss fraction part in number.', this.i);
      if (!useDouble) {
        let sig: bigint | number = use64bit ? (i64 <= SAFE ? Number(i64) : i64) : i32;
        for (let c = this.peek(); isDigit(c); c = this.peek()) {
          if (sig > SAFE) break;
          sig = timesTenPlus(sig as number, c - 48);
          this.i++;
          expFrac--;
          if (sig !== 0) significandDigit++;
        }
        d = Number(sig);
        useDouble = true;
      }
      for (let c = this.peek(); isDigit(c); c = this.peek()) {
        this.i++;
        if (significandDigit < 17) {
          d = d * 10 + (c - 48);
          expFrac--;
          if (d > 0) significandDigit++;
        }
      }
    }

    let exp = 0;
    if (this.consume(0x65) || this.consume(0x45)) {
      if (!useDouble) {
        d = use64bit ? Number(i64) : i32;
        useDouble = true;
      }
      let expMinus = false;
      if (this.consume(0x2b)) expMinus = false;
      else if (this.consume(0x2d)) expMinus = true;
      if (!isDigit(this.peek())) this.fail('Miss exponent in number.', this.i);
      exp = this.peek() - 48;
      this.i++;
      if (expMinus) {
        for (let c = this.peek(); isDigit(c); c = this.peek()) {
          exp = exp * 10 + (c - 48);
          this.i++;
          if (exp >= 214748364) while (isDigit(this.peek())) this.i++;
        }
        exp = -exp;
      } else {
        const maxExp = 308 - expFrac;
        for (let c = this.peek(); isDigit(c); c = this.peek()) {
          exp = exp * 10 + (c - 48);
          this.i++;
          if (exp > maxExp) this.fail('Number too big to be stored in double.', startOffset);
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

/**
 * Parses a request body like TF Serving's ParseJson (before its "is an
 * object" check). Give the raw bytes when you have them (offsets in errors
 * are byte offsets; a string is read as its UTF-8 encoding).
 */
export function parseJsonExact(body: string | Uint8Array): JsonValue {
  if (body.length === 0) throw invalidArgument('JSON Parse error: The document is empty');
  const bytes = typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
  try {
    return new Parser(bytes).document();
  } catch (e) {
    if (e instanceof RangeError) throw invalidArgument('JSON Parse error: the document is nested too deeply');
    throw e;
  }
}
