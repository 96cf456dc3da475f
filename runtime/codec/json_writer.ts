/**
 * A port of rapidjson's PrettyWriter, the writer behind every JSON body TF
 * Serving produces, so our bodies match its bytes: 4-space indentation, one
 * value per line by default, and the "single-line array" mode TF Serving
 * switches on for each row of a prediction ("[1.0, 2.0]" on one line).
 *
 * Callers emit events (startObject, key, raw number text, ...) exactly as the
 * C++ code does; toString() returns the text. Strings are escaped as
 * rapidjson does: \" \\ \b \f \n \r \t, other control characters as \u00XX
 * (upper-case hex), everything else (including '/' and non-ASCII) verbatim.
 */

interface Level {
  inArray: boolean;
  valueCount: number;
}

const INDENT_WIDTH = 4;
const CONTROL_OR_SPECIAL = /["\\\u0000-\u001f]/;
const CONTROL = /[\u0000-\u001f]/;
const HEX = '0123456789ABCDEF';

/** A JSON string literal (with quotes) escaped as rapidjson's Writer does. */
export function quoteJsonString(s: string): string {
  if (!CONTROL_OR_SPECIAL.test(s)) return `"${s}"`;
  // JSON.stringify matches rapidjson except for the hex case of \u00XX escapes.
  if (!CONTROL.test(s)) return JSON.stringify(s);
  let out = '"';
  let start = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    let esc: string | undefined;
    if (c === 0x22) esc = '\\"';
    else if (c === 0x5c) esc = '\\\\';
    else if (c < 0x20) {
      if (c === 0x08) esc = '\\b';
      else if (c === 0x09) esc = '\\t';
      else if (c === 0x0a) esc = '\\n';
      else if (c === 0x0c) esc = '\\f';
      else if (c === 0x0d) esc = '\\r';
      else esc = `\\u00${HEX[c >> 4]}${HEX[c & 15]}`;
    }
    if (esc !== undefined) {
      out += s.slice(start, i) + esc;
      start = i + 1;
    }
  }
  return `${out}${s.slice(start)}"`;
}

/** Written text is set aside in flat parts of about this many characters (see spill). */
const PART_CHARS = 1 << 16;

export class PrettyJsonWriter {
  private out = '';
  private readonly parts: string[] = [];
  private readonly stack: Level[] = [];
  private singleLineArrays = false;

  /** rapidjson's kFormatSingleLineArray (true) or kFormatDefault (false). */
  setSingleLineArrays(on: boolean): void {
    this.singleLineArrays = on;
  }

  startObject(): void {
    this.prefix();
    this.out += '{';
    this.stack.push({ inArray: false, valueCount: 0 });
  }

  endObject(): void {
    const level = this.stack.pop()!;
    if (level.valueCount !== 0) this.newlineAndIndent();
    this.out += '}';
  }

  startArray(): void {
    this.prefix();
    this.out += '[';
    this.stack.push({ inArray: true, valueCount: 0 });
  }

  endArray(): void {
    const level = this.stack.pop()!;
    if (level.valueCount !== 0 && !this.singleLineArrays) this.newlineAndIndent();
    this.out += ']';
  }

  key(name: string): void {
    this.string(name);
  }

  string(s: string): void {
    this.prefix();
    this.out += quoteJsonString(s);
    if (this.out.length >= PART_CHARS) this.spill();
  }

  /** A value already rendered as JSON text (numbers, true/false/null). */
  raw(text: string): void {
    this.prefix();
    this.out += text;
    if (this.out.length >= PART_CHARS) this.spill();
  }

  /**
   * rapidjson's Writer::Double: writes the separator, then refuses (returns
   * false, writing nothing more) for NaN and infinities.
   */
  rawOrRefuse(text: string | undefined): boolean {
    this.prefix();
    if (text === undefined) return false;
    this.out += text;
    return true;
  }

  toString(): string {
    if (this.parts.length === 0) return this.out;
    this.spill();
    const text = this.parts.join('');
    this.parts.length = 0;
    this.out = text;
    return text;
  }

  /**
   * Moves the text written so far into `parts`, flattened: appended a piece
   * at a time it is a tree of string fragments costing ~100 bytes per number
   * written (1.4 GB for a 100 MB response), flat it costs its length.
   */
  private spill(): void {
    const text = this.out;
    text.charCodeAt(0); // V8 flattens a concatenated string in place when it is read
    this.parts.push(text);
    this.out = '';
  }

  private newlineAndIndent(): void {
    this.out += '\n' + ' '.repeat(this.stack.length * INDENT_WIDTH);
  }

  private prefix(): void {
    const depth = this.stack.length;
    if (depth === 0) return;
    const level = this.stack[depth - 1];
    if (level.inArray) {
      if (level.valueCount > 0) this.out += this.singleLineArrays ? ', ' : ',';
      if (!this.singleLineArrays) this.newlineAndIndent();
    } else {
      if (level.valueCount > 0) this.out += level.valueCount % 2 === 0 ? ',\n' : ': ';
      else this.out += '\n';
      if (level.valueCount % 2 === 0) this.out += ' '.repeat(depth * INDENT_WIDTH);
    }
    level.valueCount++;
  }
}
