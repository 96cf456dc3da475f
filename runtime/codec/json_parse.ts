/**
 * Reading request bodies as TF Serving does (rapidjson, with NaN/Infinity
 * literals allowed), with its error texts:
 *   "JSON Parse error: The document is empty"            (empty body)
 *   "JSON Parse error: Invalid value. at offset: 0"       (offsets in bytes)
 *   "JSON Parse error: Missing a comma or ']' after an array element. at offset: 7" ...
 *
 * parseJsonExact builds the exact form (json_value.ts): Maps, JsonNumber with
 * integer/double kind and exact int64/uint64 values. It follows rapidjson's
 * grammar and quirks: NaN, Inf, Infinity (optionally negative) are numbers, a
 * NUL character ends the document, a \u high surrogate escape must be
 * followed by a low one, integers beyond uint64/int64 become doubles,
 * exponents past 308 and integer digits past DBL_MAX are "Number too big",
 * other doubles past DBL_MAX are infinities (all as rapidjson 1.1.0, the
 * version TF Serving pins). Doubles are correctly rounded (rapidjson's fast
 * mode can be one bit off for inputs of more than ~15 significant digits).
 *
 * parseJsonFast is JSON.parse, used only when it cannot disagree with
 * rapidjson on whether the body parses; it returns undefined otherwise.
 * Duplicate keys: the last value wins, in both forms.
 */
import { invalidArgument } from '../errors.js';
import { JsonNumber, type JsonObjectMap, type JsonValue } from './json_value.js';

const UINT64_MAX = (1n << 64n) - 1n;
const INT64_MIN = -(1n << 63n);
const SAFE = 2 ** 53 - 1;
const DBL_MAX_TENTH = 1.7976931348623157e307;

/** Bodies JSON.parse may read differently from rapidjson: surrogate escapes, 3+ digit exponents, 309+ digit runs. */
const NOT_FOR_FAST_PARSE = /\\u[dD][89a-fA-F]|[eE][+-]?\d{3}|\d{309}/;

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

/**
 * rapidjson's expFrac for a number with these digits: minus the count of
 * fraction digits it folds into the significand (at most 17 significant
 * digits), which bounds the exponents it accepts (308 - expFrac).
 */
function rapidjsonExpFrac(minus: boolean, intDigits: string, fracDigits: string): number {
  // Integer part: digits after the first count as significant until the value overflows (u)int64.
  let significant = 0;
  let i64 = 0n;
  let overflow = false;
  if (intDigits !== '0' && intDigits.length > 0) {
    const limit = minus ? 1n << 63n : UINT64_MAX;
    i64 = BigInt(intDigits.charCodeAt(0) - 48);
    for (let k = 1; k < intDigits.length; k++) {
      const next = i64 * 10n + BigInt(intDigits.charCodeAt(k) - 48);
      if (next > limit) {
        overflow = true;
        break;
      }
      i64 = next;
      significant++;
    }
  }
  if (overflow) return 0; // already 17+ significant digits: fraction digits are all dropped
  let expFrac = 0;
  let k = 0;
  let value = Number(i64 > BigInt(SAFE) ? BigInt(SAFE) + 1n : i64);
  for (; k < fracDigits.length; k++) {
    if (value > SAFE) break;
    value = value * 10 + (fracDigits.charCodeAt(k) - 48);
    expFrac--;
    if (value !== 0) significant++;
  }
  let nonZero = value !== 0;
  for (; k < fracDigits.length; k++) {
    if (significant >= 17) break;
    const d = fracDigits.charCodeAt(k) - 48;
    expFrac--;
    if (d !== 0) nonZero = true;
    if (nonZero) significant++;
  }
  return expFrac;
}

class Parser {
  private i = 0;
  private readonly n: number;

  constructor(private readonly s: string) {
    this.n = s.length;
  }

  document(): JsonValue {
    this.skipWhitespace();
    if (this.peek() === 0) this.fail('The document is empty.', this.i);
    const v = this.value();
    this.skipWhitespace();
    if (this.peek() !== 0) this.fail('The document root must not be followed by other values.', this.i);
    return v;
  }

  /** The character code at the cursor; 0 at the end (rapidjson's stream reads '\0' there, and stops at a NUL). */
  private peek(): number {
    return this.i < this.n ? this.s.charCodeAt(this.i) : 0;
  }

  private consume(c: number): boolean {
    if (this.peek() === c) {
      this.i++;
      return true;
    }
    return false;
  }

  private fail(what: string, pos: number): never {
    const offset = Buffer.byteLength(this.s.slice(0, pos), 'utf8');
    throw invalidArgument(`JSON Parse error: ${what} at offset: ${offset}`);
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
        out += this.s.slice(start, this.i);
        this.i++;
        return out;
      }
      if (c === 0x5c) {
        out += this.s.slice(start, this.i);
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

  private digits(): string {
    const from = this.i;
    while (isDigit(this.peek())) this.i++;
    return this.s.slice(from, this.i);
  }

  private number(): JsonNumber {
    const startOffset = this.i;
    const minus = this.consume(0x2d);
    let intDigits = '';
    let special: number | undefined; // NaN or ±Infinity
    const c = this.peek();
    if (c === 0x30) {
      this.i++;
      intDigits = '0';
    } else if (c >= 0x31 && c <= 0x39) {
      intDigits = this.digits();
    } else if (c === 0x49 || c === 0x4e) {
      if (this.consume(0x4e)) {
        if (this.consume(0x61) && this.consume(0x4e)) special = NaN;
      } else if (this.consume(0x49)) {
        if (this.consume(0x6e) && this.consume(0x66)) {
          special = minus ? -Infinity : Infinity;
          if (this.peek() === 0x69) {
            const rest = 'inity';
            for (let k = 0; k < rest.length; k++) {
              if (!this.consume(rest.charCodeAt(k))) this.fail('Invalid value.', this.i);
            }
          }
        }
      }
      if (special === undefined) this.fail('Invalid value.', this.i);
    } else {
      this.fail('Invalid value.', this.i);
    }

    let fracDigits: string | undefined;
    if (this.consume(0x2e)) {
      if (!isDigit(this.peek())) this.fail('Miss fraction part in number.', this.i);
      fracDigits = this.digits();
    }
    let expText: string | undefined;
    if (this.consume(0x65) || this.consume(0x45)) {
      let expMinus = false;
      if (this.consume(0x2b)) expMinus = false;
      else if (this.consume(0x2d)) expMinus = true;
      if (!isDigit(this.peek())) this.fail('Miss exponent in number.', this.i);
      const expDigits = this.digits();
      if (!expMinus) {
        const maxExp = 308 - rapidjsonExpFrac(minus, intDigits, fracDigits ?? '');
        let exp = 0;
        for (let k = 0; k < expDigits.length; k++) {
          exp = exp * 10 + (expDigits.charCodeAt(k) - 48);
          if (exp > maxExp) this.fail('Number too big to be stored in double.', startOffset);
        }
      }
      expText = (expMinus ? '-' : '') + expDigits;
    }

    if (fracDigits === undefined && expText === undefined) {
      if (special !== undefined) return new JsonNumber(special, undefined);
      const big = BigInt((minus ? '-' : '') + intDigits);
      if (big <= UINT64_MAX && big >= INT64_MIN) return new JsonNumber(Number(big), big);
      // Beyond (u)int64 rapidjson keeps a double, refusing values past DBL_MAX.
      if (Number(BigInt(intDigits.slice(0, -1))) >= DBL_MAX_TENTH) {
        this.fail('Number too big to be stored in double.', startOffset);
      }
      return new JsonNumber(Number(big), undefined);
    }
    if (intDigits.length > 20 && Number(BigInt(intDigits.slice(0, -1))) >= DBL_MAX_TENTH) {
      this.fail('Number too big to be stored in double.', startOffset);
    }
    // After NaN/Inf, rapidjson computes the value from the fraction/exponent digits alone.
    // Doubles past DBL_MAX become infinities (rapidjson 1.1.0 does not refuse them).
    const text = `${minus ? '-' : ''}${intDigits || '0'}.${fracDigits ?? '0'}e${expText ?? '0'}`;
    return new JsonNumber(Number(text), undefined);
  }
}

/** Parses a request body like TF Serving's ParseJson (before its "is an object" check). */
export function parseJsonExact(body: string): JsonValue {
  if (body.length === 0) throw invalidArgument('JSON Parse error: The document is empty');
  try {
    return new Parser(body).document();
  } catch (e) {
    if (e instanceof RangeError) throw invalidArgument('JSON Parse error: the document is nested too deeply');
    throw e;
  }
}
