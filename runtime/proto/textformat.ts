/**
 * Protobuf TEXT format → a decoded message of a given protobufjs Type, for
 * TF Serving's config files (--model_config_file, --batching_parameters_file,
 * --monitoring_config_file) and saved_model.pbtxt.
 *
 * Accepts what protobuf's TextFormat parser accepts for proto3 schemas:
 * `name: value` scalars, `name { ... }` / `name: { ... }` / `name < ... >`
 * messages, `name: [a, b]` lists, repeated fields by repetition, map fields
 * as `{ key: ... value: ... }` entries, enums by name or number, strings in
 * '…' or "…" with C escapes (adjacent strings concatenate), `#` comments,
 * optional `,` / `;` separators, and google.protobuf.Any written as
 * `[type.googleapis.com/pkg.Type] { ... }`.
 *
 * The result is the same kind of object `type.decode()` returns (int64 as
 * Long, enums as numbers, bytes as Uint8Array). Errors are INVALID_ARGUMENT
 * and start with `<source>:<line>:<column>: ` (1-based), like protobuf's.
 */
import protobuf from 'protobufjs';
import { invalidArgument } from '../errors.js';

interface Token {
  kind: 'ident' | 'number' | 'string' | 'punct' | 'eof';
  text: string;
  line: number;
  col: number;
  /** Decoded bytes, for string tokens. */
  bytes?: Uint8Array;
}

const utf8 = new TextEncoder();

class Lexer {
  private pos = 0;
  private line = 1;
  private col = 1;
  private peeked: Token | undefined;

  constructor(
    private readonly src: string,
    private readonly fail: (line: number, col: number, msg: string) => never,
  ) {}

  peek(): Token {
    this.peeked ??= this.read();
    return this.peeked;
  }

  next(): Token {
    const t = this.peek();
    this.peeked = undefined;
    return t;
  }

  private advance(n = 1): void {
    for (let i = 0; i < n; i++) {
      if (this.src[this.pos] === '\n') {
        this.line++;
        this.col = 1;
      } else {
        this.col++;
      }
      this.pos++;
    }
  }

  private skipSpaceAndComments(): void {
    while (this.pos < this.src.length) {
      const c = this.src[this.pos];
      if (c === '#') {
        while (this.pos < this.src.length && this.src[this.pos] !== '\n') this.advance();
      } else if (/\s/.test(c)) {
        this.advance();
      } else {
        return;
      }
    }
  }

  private read(): Token {
    this.skipSpaceAndComments();
    const line = this.line;
    const col = this.col;
    if (this.pos >= this.src.length) return { kind: 'eof', text: '', line, col };
    const rest = this.src.slice(this.pos);
    const c = rest[0];
    if (c === '"' || c === "'") return this.readString(line, col);
    const num = /^-?(?:0[xX][0-9a-fA-F]+|(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?[fF]?)/.exec(rest);
    if (num) {
      this.advance(num[0].length);
      return { kind: 'number', text: num[0], line, col };
    }
    const ident = /^[A-Za-z_][A-Za-z0-9_]*/.exec(rest);
    if (ident) {
      this.advance(ident[0].length);
      return { kind: 'ident', text: ident[0], line, col };
    }
    if ('{}[]<>:,;-/.'.includes(c)) {
      this.advance();
      return { kind: 'punct', text: c, line, col };
    }
    return this.fail(line, col, `Unexpected character '${c}'.`);
  }

  private readString(line: number, col: number): Token {
    const start = this.pos;
    const quote = this.src[this.pos];
    this.advance();
    const bytes: number[] = [];
    for (;;) {
      if (this.pos >= this.src.length || this.src[this.pos] === '\n') {
        return this.fail(line, col, 'Unterminated string literal.');
      }
      const c = this.src[this.pos];
      if (c === quote) {
        this.advance();
        break;
      }
      if (c !== '\\') {
        const cp = this.src.codePointAt(this.pos)!;
        const ch = String.fromCodePoint(cp);
        bytes.push(...utf8.encode(ch));
        this.advance(ch.length);
        continue;
      }
      const escLine = this.line;
      const escCol = this.col;
      this.advance();
      const e = this.src[this.pos];
      const simple: Record<string, number> = { n: 10, t: 9, r: 13, a: 7, b: 8, f: 12, v: 11, '\\': 92, "'": 39, '"': 34, '?': 63 };
      if (e !== undefined && simple[e] !== undefined) {
        bytes.push(simple[e]);
        this.advance();
      } else if (e !== undefined && /[0-7]/.test(e)) {
        const m = /^[0-7]{1,3}/.exec(this.src.slice(this.pos))![0];
        bytes.push(parseInt(m, 8) & 0xff);
        this.advance(m.length);
      } else if (e === 'x' || e === 'X') {
        const m = /^[0-9a-fA-F]{1,2}/.exec(this.src.slice(this.pos + 1));
        if (!m) return this.fail(escLine, escCol, 'Expected hex digits for escape sequence.');
        bytes.push(parseInt(m[0], 16));
        this.advance(1 + m[0].length);
      } else if (e === 'u' || e === 'U') {
        const n = e === 'u' ? 4 : 8;
        const hex = this.src.slice(this.pos + 1, this.pos + 1 + n);
        if (!new RegExp(`^[0-9a-fA-F]{${n}}$`).test(hex)) return this.fail(escLine, escCol, 'Invalid unicode escape sequence.');
        bytes.push(...utf8.encode(String.fromCodePoint(parseInt(hex, 16))));
        this.advance(1 + n);
      } else {
        return this.fail(escLine, escCol, `Invalid escape sequence in string literal.`);
      }
    }
    return { kind: 'string', text: this.src.slice(start, this.pos), line, col, bytes: Uint8Array.from(bytes) };
  }
}

type Obj = Record<string, unknown>;

const INT_TYPES = new Set(['int32', 'sint32', 'sfixed32', 'uint32', 'fixed32', 'int64', 'sint64', 'sfixed64', 'uint64', 'fixed64']);
const RANGES: Record<string, [bigint, bigint]> = {
  int32: [-(2n ** 31n), 2n ** 31n - 1n],
  sint32: [-(2n ** 31n), 2n ** 31n - 1n],
  sfixed32: [-(2n ** 31n), 2n ** 31n - 1n],
  uint32: [0n, 2n ** 32n - 1n],
  fixed32: [0n, 2n ** 32n - 1n],
  int64: [-(2n ** 63n), 2n ** 63n - 1n],
  sint64: [-(2n ** 63n), 2n ** 63n - 1n],
  sfixed64: [-(2n ** 63n), 2n ** 63n - 1n],
  uint64: [0n, 2n ** 64n - 1n],
  fixed64: [0n, 2n ** 64n - 1n],
};

class Parser {
  private readonly lex: Lexer;

  constructor(
    text: string,
    private readonly source: string,
  ) {
    this.lex = new Lexer(text, (l, c, m) => this.fail(l, c, m));
  }

  fail(line: number, col: number, msg: string): never {
    throw invalidArgument(`${this.source}:${line}:${col}: ${msg}`);
  }

  private failAt(t: Token, msg: string): never {
    return this.fail(t.line, t.col, msg);
  }

  private describe(t: Token): string {
    if (t.kind === 'eof') return 'end of input';
    return t.kind === 'string' ? t.text : `"${t.text}"`;
  }

  private expect(text: string): Token {
    const t = this.lex.next();
    if (t.text !== text || (t.kind !== 'punct' && t.kind !== 'ident')) this.failAt(t, `Expected "${text}", found ${this.describe(t)}.`);
    return t;
  }

  private tryConsume(text: string): boolean {
    const t = this.lex.peek();
    if (t.kind === 'punct' && t.text === text) {
      this.lex.next();
      return true;
    }
    return false;
  }

  parseTop(type: protobuf.Type): Obj {
    const obj = this.parseFields(type, undefined);
    return obj;
  }

  /** Fields until `end` (a closing delimiter) or end of input when `end` is undefined. */
  private parseFields(type: protobuf.Type, end: string | undefined): Obj {
    const obj: Obj = {};
    const seen = new Map<string, Token>();
    const oneofSeen = new Map<string, string>();
    for (;;) {
      const t = this.lex.peek();
      if (end === undefined ? t.kind === 'eof' : t.kind === 'punct' && t.text === end) {
        this.lex.next();
        return obj;
      }
      if (t.kind === 'eof') this.failAt(t, `Expected "${end}", found end of input.`);
      if (t.kind === 'punct' && t.text === '[') {
        this.parseAnyExpansion(type, obj, seen);
      } else {
        this.parseField(type, obj, seen, oneofSeen);
      }
      if (!this.tryConsume(',')) this.tryConsume(';');
    }
  }

  private parseAnyExpansion(type: protobuf.Type, obj: Obj, seen: Map<string, Token>): void {
    const open = this.lex.next();
    if (type.fullName !== '.google.protobuf.Any') {
      this.failAt(open, `Message type "${type.fullName.slice(1)}" does not accept extensions or Any expansions.`);
    }
    let url = '';
    for (;;) {
      const t = this.lex.next();
      if (t.kind === 'punct' && t.text === ']') break;
      if (t.kind === 'eof') this.failAt(t, 'Expected "]".');
      url += t.text;
    }
    const slash = url.lastIndexOf('/');
    const typeName = url.slice(slash + 1);
    let inner: protobuf.Type;
    try {
      inner = type.root.lookupType(typeName);
    } catch {
      return this.failAt(open, `Could not find type "${url}" stored in google.protobuf.Any.`);
    }
    if (seen.has('typeUrl')) this.failAt(open, 'Any expansion given more than once.');
    seen.set('typeUrl', open);
    this.tryConsume(':');
    const close = this.openMessage();
    const value = inner.fromObject(this.parseFields(inner, close));
    obj.typeUrl = url;
    obj.value = inner.encode(value).finish();
  }

  private openMessage(): string {
    const t = this.lex.next();
    if (t.kind === 'punct' && t.text === '{') return '}';
    if (t.kind === 'punct' && t.text === '<') return '>';
    return this.failAt(t, `Expected "{", found ${this.describe(t)}.`);
  }

  private parseField(type: protobuf.Type, obj: Obj, seen: Map<string, Token>, oneofSeen: Map<string, string>): void {
    const nameTok = this.lex.next();
    if (nameTok.kind !== 'ident') this.failAt(nameTok, `Expected identifier, found ${this.describe(nameTok)}.`);
    const protoName = nameTok.text;
    const field = type.fields[protobuf.util.camelCase(protoName)] ?? type.fields[protoName];
    if (!field) this.failAt(nameTok, `Message type "${type.fullName.slice(1)}" has no field named "${protoName}".`);
    field.resolve();
    const isMessage = field.resolvedType instanceof protobuf.Type;
    const isMap = field instanceof protobuf.MapField;

    if (!field.repeated && !isMap) {
      if (seen.has(field.name)) this.failAt(nameTok, `Non-repeated field "${protoName}" is specified multiple times.`);
      seen.set(field.name, nameTok);
      if (field.partOf && field.partOf.oneof.length > 1) {
        const other = oneofSeen.get(field.partOf.name);
        if (other !== undefined) {
          this.failAt(nameTok, `Field "${protoName}" is specified along with field "${other}", another member of oneof "${field.partOf.name}".`);
        }
        oneofSeen.set(field.partOf.name, protoName);
      }
    }

    const hasColon = this.tryConsume(':');
    const readOne = (): unknown => {
      if (isMap) return this.parseMapEntry(field as protobuf.MapField, protoName);
      if (isMessage) return this.parseFields(field.resolvedType as protobuf.Type, this.openMessage());
      return this.parseScalar(field, protoName);
    };
    if (!hasColon && !isMessage && !isMap) {
      const t = this.lex.peek();
      this.failAt(t, `Expected ":", found ${this.describe(t)}.`);
    }
    const values: unknown[] = [];
    const t = this.lex.peek();
    if (t.kind === 'punct' && t.text === '[') {
      if (!field.repeated && !isMap) this.failAt(t, `Field "${protoName}" is not repeated; a list [...] cannot be given.`);
      this.lex.next();
      if (!this.tryConsume(']')) {
        for (;;) {
          values.push(readOne());
          if (this.tryConsume(']')) break;
          this.expect(',');
        }
      }
    } else {
      values.push(readOne());
    }

    if (isMap) {
      const map = (obj[field.name] ??= {}) as Obj;
      for (const v of values) {
        const [k, val] = v as [string, unknown];
        map[k] = val;
      }
    } else if (field.repeated) {
      const arr = (obj[field.name] ??= []) as unknown[];
      arr.push(...values);
    } else {
      obj[field.name] = values[0];
    }
  }

  private parseMapEntry(field: protobuf.MapField, fieldName: string): [string, unknown] {
    const close = this.openMessage();
    let key: unknown;
    let value: unknown;
    let keySeen = false;
    let valueSeen = false;
    const valueType = field.resolvedType;
    for (;;) {
      const t = this.lex.next();
      if (t.kind === 'punct' && t.text === close) break;
      if (t.kind !== 'ident' || (t.text !== 'key' && t.text !== 'value')) {
        this.failAt(t, `Map entry of field "${fieldName}" has no field named ${this.describe(t)}.`);
      }
      if (t.text === 'key') {
        if (keySeen) this.failAt(t, 'Non-repeated field "key" is specified multiple times.');
        keySeen = true;
        this.expect(':');
        key = this.parseScalarOfType(field.keyType, undefined, 'key');
      } else {
        if (valueSeen) this.failAt(t, 'Non-repeated field "value" is specified multiple times.');
        valueSeen = true;
        if (valueType instanceof protobuf.Type) {
          this.tryConsume(':');
          value = this.parseFields(valueType, this.openMessage());
        } else {
          this.expect(':');
          value = this.parseScalarOfType(field.type, valueType instanceof protobuf.Enum ? valueType : undefined, 'value');
        }
      }
      if (!this.tryConsume(',')) this.tryConsume(';');
    }
    if (value === undefined) value = valueType instanceof protobuf.Type ? {} : defaultScalar(field.type);
    if (key === undefined) key = defaultScalar(field.keyType);
    return [String(key), value];
  }

  private parseScalar(field: protobuf.Field, fieldName: string): unknown {
    const enumType = field.resolvedType instanceof protobuf.Enum ? field.resolvedType : undefined;
    return this.parseScalarOfType(field.type, enumType, fieldName);
  }

  private parseScalarOfType(type: string, enumType: protobuf.Enum | undefined, fieldName: string): unknown {
    const t = this.lex.next();
    if (type === 'string' || type === 'bytes') {
      if (t.kind !== 'string') this.failAt(t, `Expected string, found ${this.describe(t)}.`);
      const parts = [t.bytes!];
      while (this.lex.peek().kind === 'string') parts.push(this.lex.next().bytes!);
      const all = concat(parts);
      if (type === 'bytes') return all;
      return new TextDecoder().decode(all);
    }
    if (type === 'bool') {
      if (t.kind === 'ident' && ['true', 'True', 't'].includes(t.text)) return true;
      if (t.kind === 'ident' && ['false', 'False', 'f'].includes(t.text)) return false;
      if (t.kind === 'number' && (t.text === '1' || t.text === '0')) return t.text === '1';
      return this.failAt(t, `Invalid value for boolean field "${fieldName}". Value: "${t.text}".`);
    }
    if (type === 'float' || type === 'double') {
      let neg = false;
      let tok = t;
      if (tok.kind === 'punct' && tok.text === '-') {
        neg = true;
        tok = this.lex.next();
      }
      if (tok.kind === 'ident') {
        const id = tok.text.toLowerCase();
        if (id === 'inf' || id === 'infinity') return neg ? -Infinity : Infinity;
        if (id === 'nan') return NaN;
        return this.failAt(tok, `Expected double, got: ${tok.text}`);
      }
      if (tok.kind !== 'number') return this.failAt(tok, `Expected double, found ${this.describe(tok)}.`);
      const text = tok.text.replace(/[fF]$/, '');
      const v = /^-?0[xX]/.test(text) ? Number(BigInt(text.replace('-', ''))) * (text.startsWith('-') ? -1 : 1) : Number(text);
      return neg ? -v : v;
    }
    if (enumType) {
      if (t.kind === 'ident') {
        const v = enumType.values[t.text];
        if (v === undefined) return this.failAt(t, `Unknown enumeration value of "${t.text}" for field "${fieldName}".`);
        return v;
      }
      if (t.kind === 'number') return Number(this.intValue(t, 'int32'));
      return this.failAt(t, `Expected integer or identifier, found ${this.describe(t)}.`);
    }
    if (INT_TYPES.has(type)) {
      if (t.kind !== 'number') return this.failAt(t, `Expected integer, found ${this.describe(t)}.`);
      const v = this.intValue(t, type);
      return type.endsWith('64') ? v.toString() : Number(v);
    }
    return this.failAt(t, `Unsupported field type ${type}.`);
  }

  private intValue(t: Token, type: string): bigint {
    const text = t.text;
    const neg = text.startsWith('-');
    const body = neg ? text.slice(1) : text;
    let v: bigint;
    if (/^0[xX][0-9a-fA-F]+$/.test(body)) v = BigInt(body);
    else if (/^0[0-7]+$/.test(body)) v = BigInt(`0o${body.slice(1)}`);
    else if (/^\d+$/.test(body)) v = BigInt(body);
    else return this.failAt(t, `Expected integer, got: ${text}`);
    if (neg) v = -v;
    const [lo, hi] = RANGES[type] ?? RANGES.int32;
    if (v < lo || v > hi) this.failAt(t, `Integer out of range (${text})`);
    return v;
  }
}

function defaultScalar(type: string): unknown {
  if (type === 'string') return '';
  if (type === 'bytes') return new Uint8Array(0);
  if (type === 'bool') return false;
  return 0;
}

function concat(parts: Uint8Array[]): Uint8Array {
  if (parts.length === 1) return parts[0];
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let pos = 0;
  for (const p of parts) {
    out.set(p, pos);
    pos += p.length;
  }
  return out;
}

/**
 * Parses `text` as a message of `type`. `source` names the input in errors
 * (a file path; default "<text>"). Returns a protobufjs message, like decode().
 */
export function parseTextProto(text: string, type: protobuf.Type, source = '<text>'): protobuf.Message {
  type.root.resolveAll();
  const obj = new Parser(text, source).parseTop(type);
  return type.fromObject(obj);
}
