/**
 * Reading request bodies as TF Serving does (rapidjson 1.1.0, the version it
 * pins, with NaN/Infinity literals allowed), with its error texts:
 *   "JSON Parse error: The document is empty"            (empty body)
 *   "JSON Parse error: Invalid value. at offset: 0"       (offsets in bytes)
 *   "JSON Parse error: Missing a comma or ']' after an array element. at offset: 7" ...
 *
 * parseJsonExact builds the exact form (json_value.ts) following rapidjson
 * step for step: a leading byte order mark is skipped, a NUL byte ends the
 * document, a \u high surrogate escape must be followed by a low one, and
 * numbers are read as json_number.ts describes.
 *
 * parseJsonFast is JSON.parse, used only for bodies where it cannot disagree
 * with rapidjson: no number has a run of 8+ digits or a 2-digit exponent
 * (so every double is correctly rounded by both), no surrogate escapes. It
 * returns undefined otherwise, and for anything JSON.parse refuses.
 * Duplicate keys: the last value wins, in both forms.
 *
 * Nesting is bounded (maxDepth, --max_json_depth): a body whose arrays and
 * objects nest deeper fails with INVALID_ARGUMENT naming the limit, before
 * any deep recursion, in both forms.
 */
import { invalidArgument } from '../errors.js';
import { readNumber, type ByteCursor } from './json_number.js';
import { JsonNumber, JsonNumberArray, NUMBER_CHUNK, type JsonObjectMap, type JsonValue } from './json_value.js';

/**
 * True when JSON.parse may read `body` differently from rapidjson (see the
 * module comment): eight digits in a row, an exponent of two or more digits
 * ([eE][+-]?\d\d), or a surrogate escape (\u[dD][89a-fA-F]). One pass over the
 * characters: three regular expressions cost ~5x as much on a body of numbers
 * (V8 restarts /\d{8}/ at every digit).
 */
export function mayDifferFromRapidjson(body: string): boolean {
  const n = body.length;
  let digits = 0;
  for (let i = 0; i < n; i++) {
    const c = body.charCodeAt(i);
    if (c >= 0x30 && c <= 0x39) {
      if (++digits === 8) return true;
      continue;
    }
    digits = 0;
    if (c === 0x65 || c === 0x45) {
      // e/E, an optional sign, then two digits.
      let j = i + 1;
      const s = body.charCodeAt(j);
      if (s === 0x2b || s === 0x2d) j++;
      if (isDigit(body.charCodeAt(j)) && isDigit(body.charCodeAt(j + 1))) return true;
    } else if (c === 0x5c && body.charCodeAt(i + 1) === 0x75) {
      // \u then d/D then 8, 9 or a-f/A-F.
      const d = body.charCodeAt(i + 2);
      const h = body.charCodeAt(i + 3);
      if ((d === 0x64 || d === 0x44) && ((h >= 0x38 && h <= 0x39) || (h >= 0x61 && h <= 0x66) || (h >= 0x41 && h <= 0x46))) return true;
    }
  }
  return false;
}

const isDigit = (c: number) => c >= 0x30 && c <= 0x39;

/**
 * Default for --max_json_depth: any tensor rank TF Serving's JSON can carry in
 * practice (a rank-r input in row format with named inputs and b64 strings
 * nests r + 4 deep) with room to spare, far below what would strain the stack.
 */
export const DEFAULT_MAX_JSON_DEPTH = 64;

/** True when arrays and objects in `bytes` nest deeper than `maxDepth` (brackets inside strings do not count). */
export function exceedsJsonDepth(bytes: Uint8Array, maxDepth: number): boolean {
  if (bytes.length <= maxDepth) return false;
  // Most bodies have few brackets: counting them (memchr) is enough to clear them.
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let opens = 0;
  for (const c of [0x5b, 0x7b]) {
    for (let i = buf.indexOf(c); i >= 0 && opens <= maxDepth; i = buf.indexOf(c, i + 1)) opens++;
  }
  if (opens <= maxDepth) return false;
  let depth = 0;
  const n = bytes.length;
  for (let i = 0; i < n; i++) {
    const c = bytes[i];
    if (c === 0x5b || c === 0x7b) {
      if (++depth > maxDepth) return true;
    } else if (c === 0x5d || c === 0x7d) {
      depth--;
    } else if (c === 0x22) {
      // Skip the string, escapes included.
      for (i++; i < n; i++) {
        const d = bytes[i];
        if (d === 0x5c) i++;
        else if (d === 0x22) break;
      }
    }
  }
  return false;
}

function depthError(maxDepth: number, pos: number): never {
  throw invalidArgument(
    `JSON Parse error: The document nests arrays and objects more than ${maxDepth} levels deep (the limit set by --max_json_depth). at offset: ${pos}`,
  );
}

/** JSON.parse when it is sure to agree with rapidjson; undefined when the exact parser must decide. */
export function parseJsonFast(body: string): JsonValue | undefined {
  if (body.length === 0 || mayDifferFromRapidjson(body)) {
    return undefined;
  }
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

/** Arrays of at least this many numbers are held as JsonNumberArray. */
const COMPACT_MIN_LENGTH = 256;

/**
 * The numbers of the array being parsed, in NUMBER_CHUNK-sized Float64Arrays:
 * full chunks are handed to the JsonNumberArray as they are (no growth or
 * copy), only the last one is copied to its length; that one is reused.
 */
class NumberCollector {
  count = 0;
  private full: Float64Array[] = [];
  private fullFlags: (Uint8Array | undefined)[] = [];
  private cur = new Float64Array(NUMBER_CHUNK);
  private curFlags = new Uint8Array(NUMBER_CHUNK);
  private curFlagged = false;
  private n = 0;

  reset(): void {
    if (this.curFlagged) this.curFlags.fill(0, 0, this.n);
    this.curFlagged = false;
    this.full = [];
    this.fullFlags = [];
    this.n = 0;
    this.count = 0;
  }

  /** Adds a number; `integralDouble` for a double token with an integral value ("3.0"). */
  push(v: number, integralDouble: boolean): void {
    if (this.n === NUMBER_CHUNK) {
      this.full.push(this.cur);
      this.fullFlags.push(this.curFlagged ? this.curFlags : undefined);
      this.cur = new Float64Array(NUMBER_CHUNK);
      if (this.curFlagged) this.curFlags = new Uint8Array(NUMBER_CHUNK);
      this.curFlagged = false;
      this.n = 0;
    }
    this.cur[this.n] = v;
    if (integralDouble) {
      this.curFlags[this.n] = 1;
      this.curFlagged = true;
    }
    this.n++;
    this.count++;
  }

  /** The numbers as exact-form JS values. */
  toValues(): JsonValue[] {
    const out = new Array<JsonValue>(this.count);
    let i = 0;
    const add = (values: Float64Array, flags: Uint8Array | undefined, n: number) => {
      for (let k = 0; k < n; k++) out[i++] = flags !== undefined && flags[k] === 1 ? new JsonNumber(values[k], undefined) : values[k];
    };
    for (let c = 0; c < this.full.length; c++) add(this.full[c], this.fullFlags[c], NUMBER_CHUNK);
    add(this.cur, this.curFlagged ? this.curFlags : undefined, this.n);
    this.reset();
    return out;
  }

  toArray(): JsonNumberArray {
    const chunks = [...this.full, this.cur.slice(0, this.n)];
    const flags = [...this.fullFlags, this.curFlagged ? this.curFlags.slice(0, this.n) : undefined];
    const out = new JsonNumberArray(chunks, flags, this.count);
    this.reset();
    return out;
  }
}

const SHARED_COLLECTOR = new NumberCollector();

class Parser implements ByteCursor {
  pos = 0;
  private depth = 0;
  private readonly text: Buffer;

  constructor(
    readonly bytes: Uint8Array,
    private readonly maxDepth: number,
  ) {
    this.text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  document(): JsonValue {
    // rapidjson's UTF-8 memory stream skips a byte order mark (byte by byte, as it checks them).
    if (this.peek() === 0xef) this.pos++;
    if (this.peek() === 0xbb) this.pos++;
    if (this.peek() === 0xbf) this.pos++;
    this.skipWhitespace();
    if (this.peek() === 0) this.fail('The document is empty.', this.pos);
    const v = this.value();
    this.skipWhitespace();
    if (this.peek() !== 0) this.fail('The document root must not be followed by other values.', this.pos);
    return v;
  }

  /** The character code at the cursor; 0 at the end (rapidjson's stream reads '\0' there, and stops at a NUL). */
  private peek(): number {
    return this.pos < this.bytes.length ? this.bytes[this.pos] : 0;
  }

  private consume(c: number): boolean {
    if (this.peek() === c) {
      this.pos++;
      return true;
    }
    return false;
  }

  fail(what: string, pos: number): never {
    throw invalidArgument(`JSON Parse error: ${what} at offset: ${pos}`);
  }

  private skipWhitespace(): void {
    for (;;) {
      const c = this.peek();
      if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) this.pos++;
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
        return readNumber(this);
    }
  }

  private literal(word: string): void {
    this.pos++;
    for (let k = 1; k < word.length; k++) {
      if (!this.consume(word.charCodeAt(k))) this.fail('Invalid value.', this.pos);
    }
  }

  private object(): JsonObjectMap {
    if (++this.depth > this.maxDepth) depthError(this.maxDepth, this.pos);
    this.pos++;
    const out: JsonObjectMap = new Map();
    this.skipWhitespace();
    if (this.consume(0x7d)) {
      this.depth--;
      return out;
    }
    for (;;) {
      if (this.peek() !== 0x22) this.fail('Missing a name for object member.', this.pos);
      const key = this.string();
      this.skipWhitespace();
      if (!this.consume(0x3a)) this.fail('Missing a colon after a name of object member.', this.pos);
      this.skipWhitespace();
      out.set(key, this.value());
      this.skipWhitespace();
      const c = this.peek();
      if (c === 0x2c) {
        this.pos++;
        this.skipWhitespace();
      } else if (c === 0x7d) {
        this.pos++;
        this.depth--;
        return out;
      } else {
        this.fail("Missing a comma or '}' after an object member.", this.pos);
      }
    }
  }

  /**
   * Leading numbers go straight into the number collector (no JS value per
   * number); the array becomes a JsonNumberArray when it holds only such
   * numbers and is long, a JS array otherwise.
   */
  private array(): JsonValue[] | JsonNumberArray {
    if (++this.depth > this.maxDepth) depthError(this.maxDepth, this.pos);
    this.pos++;
    this.skipWhitespace();
    if (this.consume(0x5d)) {
      this.depth--;
      return [];
    }
    let out: JsonValue[] | undefined;
    const numbers = this.numbers;
    numbers.reset();
    for (;;) {
      if (out !== undefined) {
        out.push(this.value());
      } else {
        const c = this.peek();
        // Not null/true/false, a string, an object or an array: a number (or readNumber's error).
        const v = c !== 0x6e && c !== 0x74 && c !== 0x66 && c !== 0x22 && c !== 0x7b && c !== 0x5b ? readNumber(this) : undefined;
        if (typeof v === 'number') {
          numbers.push(v, false);
        } else if (v instanceof JsonNumber && v.int === undefined) {
          numbers.push(v.value, true);
        } else {
          // Anything else: the numbers so far become JS values (before a nested array reuses the collector).
          out = numbers.toValues();
          out.push(v ?? this.value());
        }
      }
      this.skipWhitespace();
      if (this.consume(0x2c)) this.skipWhitespace();
      else if (this.consume(0x5d)) {
        this.depth--;
        if (out !== undefined) return out;
        // A typed array costs ~200 bytes of its own: short lists stay JS arrays.
        return numbers.count < COMPACT_MIN_LENGTH ? numbers.toValues() : numbers.toArray();
      } else this.fail("Missing a comma or ']' after an array element.", this.pos);
    }
  }

  /** Shared by every parse (parsing is synchronous): its 576 KB chunk is allocated once, not per body. */
  private readonly numbers = SHARED_COLLECTOR;

  private hex4(escapeOffset: number): number {
    let cp = 0;
    for (let k = 0; k < 4; k++) {
      const h = hexValue(this.peek());
      if (h < 0) this.fail('Incorrect hex digit after \\u escape in string.', escapeOffset);
      cp = (cp << 4) | h;
      this.pos++;
    }
    return cp;
  }

  private string(): string {
    this.pos++;
    let out = '';
    let start = this.pos;
    const text = this.text;
    const end = text.length;
    for (;;) {
      // Skip the plain bytes in a tight loop (base64 images are long runs of them).
      let i = this.pos;
      while (i < end) {
        const b = text[i];
        if (b === 0x22 || b === 0x5c || b < 0x20) break;
        i++;
      }
      this.pos = i;
      const c = this.peek();
      if (c === 0x22) {
        out += this.text.toString('utf8', start, this.pos);
        this.pos++;
        return out;
      }
      if (c === 0x5c) {
        out += this.text.toString('utf8', start, this.pos);
        const escapeOffset = this.pos;
        this.pos++;
        const e = this.peek();
        const simple = SIMPLE_ESCAPES[e];
        if (simple !== undefined) {
          this.pos++;
          out += simple;
        } else if (e === 0x75) {
          this.pos++;
          let cp = this.hex4(escapeOffset);
          // A high surrogate must be followed by a low one; a lone low surrogate passes (rapidjson 1.1.0).
          if (cp >= 0xd800 && cp <= 0xdbff) {
            if (!this.consume(0x5c) || !this.consume(0x75)) {
              this.fail('The surrogate pair in string is invalid.', escapeOffset);
            }
            const low = this.hex4(escapeOffset);
            if (low < 0xdc00 || low > 0xdfff) this.fail('The surrogate pair in string is invalid.', escapeOffset);
            cp = ((cp - 0xd800) << 10) + (low - 0xdc00) + 0x10000;
          }
          out += String.fromCodePoint(cp);
        } else {
          this.fail('Invalid escape character in string.', escapeOffset);
        }
        start = this.pos;
        continue;
      }
      if (c < 0x20) {
        if (c === 0) this.fail('Missing a closing quotation mark in string.', this.pos);
        this.fail('Invalid escape character in string.', this.pos);
      }
      this.pos++;
    }
  }
}

/**
 * Parses a request body like TF Serving's ParseJson (before its "is an
 * object" check). Give the raw bytes when you have them (offsets in errors
 * are byte offsets; a string is read as its UTF-8 encoding). Arrays and
 * objects may nest `maxDepth` deep.
 */
export function parseJsonExact(body: string | Uint8Array, maxDepth = DEFAULT_MAX_JSON_DEPTH): JsonValue {
  if (body.length === 0) throw invalidArgument('JSON Parse error: The document is empty');
  const bytes = typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
  try {
    return new Parser(bytes, maxDepth).document();
  } catch (e) {
    if (e instanceof RangeError) throw invalidArgument('JSON Parse error: the document is nested too deeply');
    throw e;
  } finally {
    SHARED_COLLECTOR.reset(); // drop what a failed parse left in it
  }
}
