/**
 * String kernels (tensorflow/core/kernels/string_*.cc, regex_*.cc,
 * as_string_op.cc, substr_op.cc, reduce_join_op.cc, save_restore ops'
 * ShardedFilename). Strings are byte strings (Uint8Array) on the host; all
 * work here is host-side JS. Regular expressions use RE2 semantics through
 * re2js (a port of RE2), matched on the UTF-8 bytes so positions, Substr and
 * replacements stay byte-exact like TensorFlow's.
 *
 * Kernels: StringJoin, ReduceJoin, RegexFullMatch, StaticRegexFullMatch,
 * RegexReplace, StaticRegexReplace, StringToNumber, AsString, StringLength,
 * Substr, StringLower, StringUpper, StringStrip, StringSplit, StringSplitV2,
 * StringToHashBucketFast (farmhash Fingerprint64), StringToHashBucketStrong
 * (SipHash-2-4), ShardedFilename, ShardedFilespec.
 */
import { RE2JS } from 're2js';
import type { DType } from '../dtypes.js';
import { dtypeShortName } from '../dtypes.js';
import { invalidArgument, outOfRange, unimplemented } from '../errors.js';
import { checkStringBytes, checkTensorSize, oomError, runtimeLimits, STRING_ELEMENT_BYTES } from '../limits.js';
import { allocHost, decodeString, encodeString, shapeString, sizeOf, Tensor, type Shape } from '../tensor.js';
import type { Attrs } from './attrs.js';
import { formatBytes, formatFloat, formatInt, type FormatSpec } from './printf.js';
import { registerKernel } from './registry.js';
import { fingerprint64, sipHash24 } from './string_hash.js';

const str = (t: Tensor) => t.values() as Uint8Array[];

function concatBytes(parts: Uint8Array[]): Uint8Array {
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

function joinBytes(parts: Uint8Array[], sep: Uint8Array): Uint8Array {
  if (sep.length === 0 || parts.length < 2) return concatBytes(parts);
  const withSep: Uint8Array[] = [];
  parts.forEach((p, i) => {
    if (i > 0) withSep.push(sep);
    withSep.push(p);
  });
  return concatBytes(withSep);
}

const sameShape = (a: Shape, b: Shape) => a.length === b.length && a.every((d, i) => d === b[i]);

/** C isspace: space, \t, \n, \v, \f, \r. */
const isSpace = (c: number) => c === 0x20 || (c >= 0x09 && c <= 0x0d);
/** A UTF-8 continuation byte (10xxxxxx). */
const isTrailByte = (c: number) => (c & 0xc0) === 0x80;

// ---------------------------------------------------------------- joins

registerKernel({
  op: 'StringJoin',
  kernel: (ctx) => {
    const sep = ctx.attrs.bytes('separator', new Uint8Array(0));
    const inputs = ctx.inputs;
    let shape: Shape = [];
    for (const t of inputs) {
      if (t.rank === 0) continue;
      if (shape.length === 0) shape = t.shape;
      else if (!sameShape(shape, t.shape)) {
        throw invalidArgument(`Input shapes do not match: ${shapeString(shape)} vs. ${shapeString(t.shape)}`);
      }
    }
    const size = sizeOf(shape);
    const vals = inputs.map(str);
    // Scalars repeat into every element: count the bytes before joining.
    let bytes = size * sep.length * Math.max(inputs.length - 1, 0);
    inputs.forEach((t, j) => {
      for (const b of vals[j]) bytes += t.rank === 0 ? b.length * size : b.length;
    });
    checkStringBytes(shape, bytes);
    const out: Uint8Array[] = new Array(size);
    for (let i = 0; i < size; i++) {
      out[i] = joinBytes(
        vals.map((v, j) => (inputs[j].rank === 0 ? v[0] : v[i])),
        sep,
      );
    }
    return [Tensor.fromHost('string', shape, out)];
  },
});

registerKernel({
  op: 'ReduceJoin',
  kernel: (ctx) => {
    const [input, indicesT] = ctx.inputs;
    const keepDims = ctx.attrs.bool('keep_dims', false);
    const sep = ctx.attrs.bytes('separator', new Uint8Array(0));
    const rank = input.rank;
    const reduced = new Array<boolean>(rank).fill(false);
    for (const idx of indicesT.numbers()) {
      if (idx < -rank || idx >= rank) {
        throw outOfRange(`Invalid reduction dimension ${idx} for input with ${rank} dimension(s)`);
      }
      const d = idx < 0 ? idx + rank : idx;
      if (reduced[d]) throw invalidArgument(`Duplicate reduction dimension ${idx}`);
      reduced[d] = true;
    }
    const shape = input.shape;
    const keptDims = shape.map((_, d) => d).filter((d) => !reduced[d]);
    const redDims = shape.map((_, d) => d).filter((d) => reduced[d]);
    const strides = new Array<number>(rank);
    for (let d = rank - 1, s = 1; d >= 0; d--) {
      strides[d] = s;
      s *= shape[d];
    }
    const keptSize = sizeOf(keptDims.map((d) => shape[d]));
    const redSize = sizeOf(redDims.map((d) => shape[d]));
    const vals = str(input);
    const out: Uint8Array[] = new Array(keptSize);
    for (let k = 0; k < keptSize; k++) {
      let base = 0;
      for (let j = keptDims.length - 1, rem = k; j >= 0; j--) {
        const d = keptDims[j];
        base += (rem % shape[d]) * strides[d];
        rem = Math.floor(rem / shape[d]);
      }
      const parts: Uint8Array[] = new Array(redSize);
      for (let r = 0; r < redSize; r++) {
        let off = base;
        for (let j = redDims.length - 1, rem = r; j >= 0; j--) {
          const d = redDims[j];
          off += (rem % shape[d]) * strides[d];
          rem = Math.floor(rem / shape[d]);
        }
        parts[r] = vals[off];
      }
      out[k] = joinBytes(parts, sep);
    }
    const outShape = keepDims ? shape.map((d, i) => (reduced[i] ? 1 : d)) : keptDims.map((d) => shape[d]);
    return [Tensor.fromHost('string', outShape, out)];
  },
});

// ---------------------------------------------------------------- regex

/** RE2's error texts for the parse errors re2js reports in its own words. */
const RE2_ERROR_TEXT: Record<string, string> = {
  'missing closing )': 'missing )',
  'missing closing ]': 'missing ]',
  'unexpected )': 'unexpected )',
  'trailing backslash at end of expression': 'trailing \\',
  'missing argument to repetition operator': 'no argument for repetition operator',
  'invalid nested repetition operator': 'bad repetition operator',
  'invalid repeat count': 'bad repetition operator',
  'invalid or unsupported Perl syntax': 'invalid perl operator',
  'invalid named capture': 'invalid named capture group',
  'invalid escape sequence': 'invalid escape sequence',
  'invalid character class': 'invalid character class',
  'invalid character class range': 'invalid character class range',
};

const regexCache = new Map<string, RE2JS>();

/** Compiles an RE2 pattern (cached), or INVALID_ARGUMENT worded as TF's regex kernels word it. */
function compileRegex(pattern: string): RE2JS {
  const hit = regexCache.get(pattern);
  if (hit) return hit;
  let re: RE2JS;
  try {
    re = RE2JS.compile(pattern);
  } catch (e) {
    const err = e as { getDescription?: () => string; getPattern?: () => string | null; message?: string };
    const desc = err.getDescription?.() ?? err.message ?? String(e);
    const arg = err.getPattern?.();
    const text = RE2_ERROR_TEXT[desc] ?? desc;
    throw invalidArgument(`Invalid pattern: ${pattern}, error: ${arg ? `${text}: ${arg}` : text}`);
  }
  if (regexCache.size > 256) regexCache.delete(regexCache.keys().next().value as string);
  regexCache.set(pattern, re);
  return re;
}

function scalarString(t: Tensor, what: string): Uint8Array {
  if (t.rank !== 0) throw invalidArgument(`${what} must be scalar, but received ${shapeString(t.shape)}`);
  return str(t)[0];
}

function fullMatch(input: Tensor, re: RE2JS): Tensor {
  const vals = str(input);
  const out = new Uint8Array(vals.length);
  for (let i = 0; i < vals.length; i++) out[i] = re.testExact(vals[i]) ? 1 : 0;
  return Tensor.fromHost('bool', input.shape, out);
}

registerKernel({
  op: 'RegexFullMatch',
  kernel: (ctx) => {
    const pattern = decodeString(scalarString(ctx.inputs[1], 'Pattern'));
    return [fullMatch(ctx.inputs[0], compileRegex(pattern))];
  },
});

registerKernel({
  op: 'StaticRegexFullMatch',
  kernel: (ctx) => [fullMatch(ctx.inputs[0], compileRegex(ctx.attrs.string('pattern')))],
});

/** Highest \N group a rewrite string refers to (-1 when none). */
function maxSubmatch(rewrite: Uint8Array): number {
  let max = -1;
  for (let i = 0; i + 1 < rewrite.length; i++) {
    if (rewrite[i] !== 0x5c) continue;
    const c = rewrite[i + 1];
    if (c >= 0x30 && c <= 0x39) max = Math.max(max, c - 0x30);
    i++;
  }
  return max;
}

/** RE2::Rewrite: \0-\9 insert groups, \\ a backslash; stops at any other escape. */
function appendRewrite(out: number[], rewrite: Uint8Array, src: Uint8Array, groups: [number, number][]): void {
  for (let i = 0; i < rewrite.length; i++) {
    const c = rewrite[i];
    if (c !== 0x5c) {
      out.push(c);
      continue;
    }
    const n = rewrite[++i];
    if (n >= 0x30 && n <= 0x39) {
      const [s, e] = groups[n - 0x30] ?? [-1, -1];
      for (let k = s; k >= 0 && k < e; k++) out.push(src[k]);
    } else if (n === 0x5c) out.push(0x5c);
    else return; // RE2 logs "invalid rewrite pattern" and stops here.
  }
}

/** Length of the UTF-8 sequence starting at src[p], or 1 when it is not valid UTF-8. */
function utf8Step(src: Uint8Array, p: number): number {
  const c = src[p];
  const need = c >= 0xf0 && c <= 0xf4 ? 4 : c >= 0xe0 ? (c <= 0xef ? 3 : 1) : c >= 0xc2 && c <= 0xdf ? 2 : 1;
  if (need === 1 || p + need > src.length) return 1;
  for (let k = 1; k < need; k++) if (!isTrailByte(src[p + k])) return 1;
  return need;
}

/**
 * RE2::Replace (global=false) / RE2::GlobalReplace semantics on bytes. A
 * result longer than `maxBytes` throws `tooLong()` as soon as it gets there
 * (a short input and a long rewrite can make a huge string).
 */
function regexReplace(src: Uint8Array, re: RE2JS, rewrite: Uint8Array, global: boolean, maxBytes: number, tooLong: () => Error): Uint8Array {
  const matcher = re.matcher(src);
  const ngroups = matcher.groupCount();
  if (maxSubmatch(rewrite) > ngroups) return src;
  const groupsOf = (): [number, number][] => {
    const g: [number, number][] = [];
    for (let k = 0; k <= ngroups; k++) g.push([matcher.start(k), matcher.end(k)]);
    return g;
  };
  const out: number[] = [];
  let p = 0;
  let lastEnd = -1;
  let count = 0;
  while (p <= src.length) {
    if (!matcher.find(p)) break;
    const ms = matcher.start();
    const me = matcher.end();
    for (let k = p; k < ms; k++) out.push(src[k]);
    if (ms === lastEnd && me === ms) {
      // An empty match right after the previous match is skipped by one character.
      if (p < src.length) {
        const n = utf8Step(src, p);
        for (let k = 0; k < n; k++) out.push(src[p + k]);
        p += n;
      } else p++;
      continue;
    }
    appendRewrite(out, rewrite, src, groupsOf());
    if (out.length > maxBytes) throw tooLong();
    p = me;
    lastEnd = me;
    count++;
    if (!global) break;
  }
  if (count === 0) return src;
  for (let k = p; k < src.length; k++) out.push(src[k]);
  return Uint8Array.from(out);
}

function replaceAll(input: Tensor, re: RE2JS, rewrite: Uint8Array, global: boolean): Tensor {
  const vals = str(input);
  // The output's bytes are bounded like any string tensor's (limits.ts).
  let left = runtimeLimits().maxStringTensorBytes - STRING_ELEMENT_BYTES * input.size;
  const tooLong = () => oomError(input.shape, 'string');
  const out = vals.map((v) => {
    const r = regexReplace(v, re, rewrite, global, left, tooLong);
    left -= r.length;
    if (left < 0) throw tooLong();
    return r;
  });
  return Tensor.fromHost('string', input.shape, out);
}

registerKernel({
  op: 'RegexReplace',
  kernel: (ctx) => {
    const pattern = decodeString(scalarString(ctx.inputs[1], 'Pattern'));
    const re = compileRegex(pattern);
    const rewrite = scalarString(ctx.inputs[2], 'Rewrite');
    return [replaceAll(ctx.inputs[0], re, rewrite, ctx.attrs.bool('replace_global', true))];
  },
});

registerKernel({
  op: 'StaticRegexReplace',
  kernel: (ctx) => {
    const re = compileRegex(ctx.attrs.string('pattern'));
    const rewrite = ctx.attrs.bytes('rewrite');
    return [replaceAll(ctx.inputs[0], re, rewrite, ctx.attrs.bool('replace_global', true))];
  },
});

// ---------------------------------------------------------------- numbers

const FLOAT_RE = /^[+-]?(?:(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?|inf|nan|0x[0-9a-f]+)$/i;

/** safe_strtod: double-conversion with leading/trailing spaces, hex integers, "inf"/"nan". */
function parseFloatTF(s: string): number | undefined {
  if (s.length >= 32) return undefined;
  const t = s.replace(/^[ \t\n\v\f\r]+|[ \t\n\v\f\r]+$/g, '');
  if (!FLOAT_RE.test(t)) return undefined;
  const neg = t[0] === '-';
  const body = t[0] === '+' || t[0] === '-' ? t.slice(1) : t;
  const lower = body.toLowerCase();
  let v: number;
  if (lower === 'inf') v = Infinity;
  else if (lower === 'nan') v = NaN;
  else if (lower.startsWith('0x')) v = Number(BigInt(lower));
  else v = Number(body);
  return neg ? -v : v;
}

/** safe_strto32/64 and the unsigned forms: optional spaces, '-' (signed only), digits, range-checked. */
function parseIntTF(s: string, min: bigint, max: bigint): bigint | undefined {
  const m = /^[ \t\n\v\f\r]*(-?)(\d+)[ \t\n\v\f\r]*$/.exec(s);
  if (!m || (m[1] === '-' && min === 0n)) return undefined;
  const v = BigInt(m[1] + m[2]);
  return v < min || v > max ? undefined : v;
}

const INT_LIMITS: Partial<Record<DType, [bigint, bigint]>> = {
  int32: [-(2n ** 31n), 2n ** 31n - 1n],
  int64: [-(2n ** 63n), 2n ** 63n - 1n],
  uint32: [0n, 2n ** 32n - 1n],
  uint64: [0n, 2n ** 64n - 1n],
};

registerKernel({
  op: 'StringToNumber',
  kernel: (ctx) => {
    const outType = ctx.attrs.type('out_type', 'float32');
    const input = ctx.inputs[0];
    const vals = input.strings();
    const out = allocHost(outType, vals.length);
    const fail = (s: string) => invalidArgument(`StringToNumberOp could not correctly convert string: ${s}`);
    if (outType === 'float32' || outType === 'float64') {
      const o = out as Float32Array | Float64Array;
      vals.forEach((s, i) => {
        const v = parseFloatTF(s);
        if (v === undefined) throw fail(s);
        o[i] = v;
      });
    } else {
      const limits = INT_LIMITS[outType];
      if (!limits) throw invalidArgument(`StringToNumber does not support out_type ${dtypeShortName(outType)}`);
      vals.forEach((s, i) => {
        const v = parseIntTF(s, limits[0], limits[1]);
        if (v === undefined) throw fail(s);
        if (outType === 'int64' || outType === 'uint64') (out as BigInt64Array)[i] = v;
        else (out as Int32Array)[i] = Number(v);
      });
    }
    return [Tensor.fromHost(outType, input.shape, out)];
  },
});

const FLOAT_TYPES: DType[] = ['float16', 'bfloat16', 'float32', 'float64', 'complex64', 'complex128'];

/** Validates AsString's attrs exactly as TF's kernel constructor does and builds the format. */
function asStringSpec(dtype: DType, attrs: Attrs): FormatSpec {
  const precision = attrs.int('precision', -1);
  const scientific = attrs.bool('scientific', false);
  const shortest = attrs.bool('shortest', false);
  const width = attrs.int('width', -1);
  const fill = attrs.string('fill', '');
  const floating = FLOAT_TYPES.includes(dtype);
  if (dtype !== 'string' && !floating) {
    if (scientific || shortest) {
      throw invalidArgument(`scientific and shortest format not supported for datatype ${dtypeShortName(dtype)}`);
    }
    if (precision >= 0) throw invalidArgument(`precision not supported for datatype ${dtypeShortName(dtype)}`);
  }
  if (encodeString(fill).length > 1) throw invalidArgument('Fill string must be one or fewer characters');
  if (scientific && shortest) throw invalidArgument('Cannot select both scientific and shortest notation');
  if (fill !== '' && !' +-0#'.includes(fill)) throw invalidArgument(`Fill argument not supported: "${fill}"`);
  const conversion = dtype === 'string' ? 's' : floating ? (shortest ? 'g' : scientific ? 'e' : 'f') : 'd';
  return { flags: fill, width: Math.max(width, 0), precision, conversion };
}

registerKernel({
  op: 'AsString',
  kernel: (ctx) => {
    const input = ctx.inputs[0];
    const dtype = input.dtype;
    const spec = asStringSpec(dtype, ctx.attrs);
    let out: Uint8Array[];
    if (dtype === 'string') {
      if (spec.width <= 0) return [input];
      out = str(input).map((s) => formatBytes(s, spec));
    } else if (dtype === 'bool') {
      out = Array.from(input.values() as Uint8Array, (b) => encodeString(b ? 'true' : 'false'));
    } else if (dtype === 'complex64' || dtype === 'complex128') {
      const v = input.values() as Float32Array | Float64Array;
      out = new Array(input.size);
      for (let i = 0; i < input.size; i++) {
        out[i] = encodeString(`(${formatFloat(v[2 * i], spec)},${formatFloat(v[2 * i + 1], spec)})`);
      }
    } else if (FLOAT_TYPES.includes(dtype)) {
      out = Array.from(input.values() as Float32Array | Float64Array, (x) => encodeString(formatFloat(x, spec)));
    } else if (dtype === 'resource' || dtype === 'variant') {
      throw invalidArgument(`Cannot encode input of type ${dtypeShortName(dtype)}`);
    } else {
      const v = input.values() as ArrayLike<number | bigint>;
      out = new Array(input.size);
      for (let i = 0; i < input.size; i++) out[i] = encodeString(formatInt(v[i], spec));
    }
    return [Tensor.fromHost('string', input.shape, out)];
  },
});

// ---------------------------------------------------------------- per-string ops

function parseUnit(attrs: Attrs): 'BYTE' | 'UTF8_CHAR' {
  const unit = attrs.string('unit', 'BYTE');
  if (unit !== 'BYTE' && unit !== 'UTF8_CHAR') {
    throw invalidArgument(`unit must be one of BYTE, UTF8_CHAR, got: ${unit}`);
  }
  return unit;
}

registerKernel({
  op: 'StringLength',
  kernel: (ctx) => {
    const unit = parseUnit(ctx.attrs);
    const vals = str(ctx.inputs[0]);
    const out = new Int32Array(vals.length);
    vals.forEach((s, i) => {
      if (unit === 'BYTE') out[i] = s.length;
      else {
        let n = 0;
        for (const c of s) if (!isTrailByte(c)) n++;
        out[i] = n;
      }
    });
    return [Tensor.fromHost('int32', ctx.inputs[0].shape, out)];
  },
});

/** Moves `pos` forward over up to n UTF-8 characters; returns the new position, or -1 if fewer were available. */
function forwardChars(s: Uint8Array, pos: number, n: number): [number, boolean] {
  let count = 0;
  while (count < n && pos < s.length) {
    do pos++;
    while (pos < s.length && isTrailByte(s[pos]));
    count++;
  }
  return [pos, count === n];
}

function backChars(s: Uint8Array, pos: number, n: number): [number, boolean] {
  let count = 0;
  while (count < n && pos > 0) {
    do pos--;
    while (pos > 0 && isTrailByte(s[pos]));
    count++;
  }
  return [pos, count === n];
}

/** One Substr element; `where` names the element in error texts. */
function substrOne(s: Uint8Array, pos: number, len: number, unit: 'BYTE' | 'UTF8_CHAR', where: string): Uint8Array {
  if (unit === 'BYTE') {
    const start = pos < 0 ? s.length + pos : pos;
    if (start < 0 || start > s.length) {
      throw invalidArgument(`pos ${pos} out of range for string b'${decodeString(s)}' at index ${where}`);
    }
    const end = len < 0 ? s.length : Math.min(s.length, start + len);
    return s.slice(start, end);
  }
  const fail = () => invalidArgument(`pos ${pos} out of range for string at index ${where}`);
  if (pos >= 0) {
    const [start, ok] = forwardChars(s, 0, pos);
    if (!ok) throw fail();
    const [end] = len > 0 ? forwardChars(s, start, len) : [start];
    return s.slice(start, end);
  }
  const skip = Math.max(-pos - len, 0);
  const [end, ok1] = backChars(s, s.length, skip);
  if (!ok1) throw fail();
  const [start, ok2] = backChars(s, end, -pos - skip);
  if (!ok2) throw fail();
  return s.slice(start, end);
}

/** Numpy broadcasting of two shapes, or undefined when incompatible. */
function broadcastShape(a: Shape, b: Shape): number[] | undefined {
  const n = Math.max(a.length, b.length);
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const x = a[a.length - n + i] ?? 1;
    const y = b[b.length - n + i] ?? 1;
    if (x !== y && x !== 1 && y !== 1) return undefined;
    out.push(x === 1 ? y : x);
  }
  return out;
}

/** Flat index into a tensor of `shape` broadcast against `outShape`, for output coordinates `coord`. */
function broadcastIndex(shape: Shape, outShape: Shape, coord: number[]): number {
  let idx = 0;
  const off = outShape.length - shape.length;
  for (let d = 0; d < shape.length; d++) idx = idx * shape[d] + (shape[d] === 1 ? 0 : coord[d + off]);
  return idx;
}

registerKernel({
  op: 'Substr',
  kernel: (ctx) => {
    const [input, posT, lenT] = ctx.inputs;
    const unit = parseUnit(ctx.attrs);
    if (!sameShape(posT.shape, lenT.shape)) {
      throw invalidArgument(
        `pos and len should have the same shape, got: ${shapeString(posT.shape)} vs. ${shapeString(lenT.shape)}`,
      );
    }
    if (posT.size === 0) throw invalidArgument(`received empty tensor pos_tensor: Tensor<type: ${dtypeShortName(posT.dtype)} shape: ${shapeString(posT.shape)} values: >`);
    const vals = str(input);
    const pos = posT.numbers();
    const len = lenT.numbers();
    if (posT.rank === 0 || sameShape(input.shape, posT.shape)) {
      const scalar = posT.rank === 0;
      const out = vals.map((s, i) => substrOne(s, pos[scalar ? 0 : i], len[scalar ? 0 : i], unit, String(i)));
      return [Tensor.fromHost('string', input.shape, out)];
    }
    const outShape = broadcastShape(input.shape, posT.shape);
    if (!outShape) {
      throw invalidArgument(`Incompatible shapes: ${shapeString(input.shape)} vs. ${shapeString(posT.shape)}`);
    }
    if (outShape.length > 2) throw unimplemented(`Substr broadcast not implemented for ${outShape.length} dimensions`);
    const size = checkTensorSize(outShape, 'string');
    // A broadcast repeats substrings: count their bytes as they are cut.
    let left = runtimeLimits().maxStringTensorBytes - STRING_ELEMENT_BYTES * size;
    const out: Uint8Array[] = new Array(size);
    for (let i = 0; i < size; i++) {
      const coord = outShape.length === 2 ? [Math.floor(i / outShape[1]), i % outShape[1]] : [i];
      const s = vals[broadcastIndex(input.shape, outShape, coord)];
      const p = broadcastIndex(posT.shape, outShape, coord);
      const where = coord.length === 2 ? `(${coord[0]}, ${coord[1]})` : String(i);
      out[i] = substrOne(s, pos[p], len[p], unit, where);
      left -= out[i].length;
      if (left < 0) throw oomError(outShape, 'string');
    }
    return [Tensor.fromHost('string', outShape, out)];
  },
});

function caseKernel(op: string, ascii: (c: number) => number, unicode: (s: string) => string): void {
  registerKernel({
    op,
    kernel: (ctx) => {
      const encoding = ctx.attrs.string('encoding', '');
      if (encoding !== '' && encoding.toLowerCase() !== 'utf-8') {
        throw invalidArgument(`encoding must be "" or "utf-8", got: ${encoding}`);
      }
      const vals = str(ctx.inputs[0]);
      const out =
        encoding === ''
          ? vals.map((s) => s.map(ascii))
          : vals.map((s) => encodeString(unicode(decodeString(s))));
      return [Tensor.fromHost('string', ctx.inputs[0].shape, out)];
    },
  });
}

caseKernel(
  'StringLower',
  (c) => (c >= 0x41 && c <= 0x5a ? c + 32 : c),
  (s) => s.toLowerCase(),
);
caseKernel(
  'StringUpper',
  (c) => (c >= 0x61 && c <= 0x7a ? c - 32 : c),
  (s) => s.toUpperCase(),
);

registerKernel({
  op: 'StringStrip',
  kernel: (ctx) => {
    const out = str(ctx.inputs[0]).map((s) => {
      let a = 0;
      let b = s.length;
      while (a < b && isSpace(s[a])) a++;
      while (b > a && isSpace(s[b - 1])) b--;
      return s.slice(a, b);
    });
    return [Tensor.fromHost('string', ctx.inputs[0].shape, out)];
  },
});

// ---------------------------------------------------------------- splits

/** Builds StringSplit's SparseTensor outputs (indices, values, dense shape) from per-row tokens. */
function sparseFromRows(rows: Uint8Array[][]): Tensor[] {
  const values = rows.flat();
  const indices = new BigInt64Array(values.length * 2);
  let c = 0;
  let width = 0;
  rows.forEach((row, i) => {
    width = Math.max(width, row.length);
    row.forEach((_, j) => {
      indices[2 * c] = BigInt(i);
      indices[2 * c + 1] = BigInt(j);
      c++;
    });
  });
  return [
    Tensor.fromHost('int64', [values.length, 2], indices),
    Tensor.fromHost('string', [values.length], values),
    Tensor.fromHost('int64', [2], new BigInt64Array([BigInt(rows.length), BigInt(width)])),
  ];
}

function splitAnyChar(s: Uint8Array, delims: Uint8Array, skipEmpty: boolean): Uint8Array[] {
  if (delims.length === 0) return Array.from(s, (c) => Uint8Array.of(c));
  const out: Uint8Array[] = [];
  let start = 0;
  for (let i = 0; i <= s.length; i++) {
    if (i === s.length || delims.includes(s[i])) {
      if (!skipEmpty || i > start) out.push(s.slice(start, i));
      start = i + 1;
    }
  }
  return out;
}

function indexOfBytes(s: Uint8Array, sep: Uint8Array, from: number): number {
  outer: for (let i = from; i + sep.length <= s.length; i++) {
    for (let k = 0; k < sep.length; k++) if (s[i + k] !== sep[k]) continue outer;
    return i;
  }
  return -1;
}

/** TF's SplitV2 (Python str.split semantics, with TF's maxsplit quirks). */
function splitV2(s: Uint8Array, sep: Uint8Array, maxsplit: number): Uint8Array[] {
  if (maxsplit === 0) return [s];
  const out: Uint8Array[] = [];
  let p = 0;
  let splits = 0;
  if (sep.length === 0) {
    while (p < s.length && isSpace(s[p])) p++;
    while (p < s.length) {
      const start = p;
      while (p < s.length && !isSpace(s[p])) p++;
      out.push(s.slice(start, p));
      while (p < s.length && isSpace(s[p])) p++;
      splits++;
      if (maxsplit > 0 && splits === maxsplit) {
        out.push(s.slice(p));
        return out;
      }
    }
    return out;
  }
  for (let at = indexOfBytes(s, sep, p); at >= 0; at = indexOfBytes(s, sep, p)) {
    out.push(s.slice(p, at));
    p = at + sep.length;
    splits++;
    if (maxsplit > 0 && splits === maxsplit) break;
  }
  out.push(s.slice(p));
  return out;
}

registerKernel({
  op: 'StringSplit',
  outputs: [{ name: 'indices' }, { name: 'values' }, { name: 'shape' }],
  kernel: (ctx) => {
    const [input, delimiter] = ctx.inputs;
    if (input.rank !== 1) throw invalidArgument(`input must be a vector, got shape: ${shapeString(input.shape)}`);
    if (delimiter.rank !== 0) {
      throw invalidArgument(`delimiter must be a scalar, got shape: ${shapeString(delimiter.shape)}`);
    }
    const skipEmpty = ctx.attrs.bool('skip_empty', true);
    const delims = str(delimiter)[0];
    return sparseFromRows(str(input).map((s) => splitAnyChar(s, delims, skipEmpty)));
  },
});

registerKernel({
  op: 'StringSplitV2',
  outputs: [{ name: 'indices' }, { name: 'values' }, { name: 'shape' }],
  kernel: (ctx) => {
    const [input, sepT] = ctx.inputs;
    if (input.rank !== 1) throw invalidArgument(`input must be a vector, got shape: ${shapeString(input.shape)}`);
    if (sepT.rank !== 0) throw invalidArgument(`sep must be a scalar, got shape: ${shapeString(sepT.shape)}`);
    const maxsplit = ctx.attrs.int('maxsplit', -1);
    const sep = str(sepT)[0];
    return sparseFromRows(str(input).map((s) => splitV2(s, sep, maxsplit)));
  },
});

// ---------------------------------------------------------------- hash buckets

function hashBuckets(input: Tensor, buckets: number, hash: (s: Uint8Array) => bigint): Tensor {
  const n = BigInt(buckets);
  const out = BigInt64Array.from(str(input), (s) => hash(s) % n);
  return Tensor.fromHost('int64', input.shape, out);
}

registerKernel({
  op: 'StringToHashBucketFast',
  kernel: (ctx) => [hashBuckets(ctx.inputs[0], ctx.attrs.int('num_buckets'), fingerprint64)],
});

registerKernel({
  op: 'StringToHashBucketStrong',
  kernel: (ctx) => {
    const key = ctx.attrs.ints('key');
    if (key.length !== 2) throw invalidArgument('Key must have 2 elements');
    const k: [bigint, bigint] = [BigInt.asUintN(64, BigInt(key[0])), BigInt.asUintN(64, BigInt(key[1]))];
    return [hashBuckets(ctx.inputs[0], ctx.attrs.int('num_buckets'), (s) => sipHash24(k, s))];
  },
});

// ---------------------------------------------------------------- filenames

const pad5 = (n: number) => (n < 0 ? '-' + String(-n).padStart(4, '0') : String(n).padStart(5, '0'));

registerKernel({
  op: 'ShardedFilename',
  kernel: (ctx) => {
    const [base, shard, num] = ctx.inputs;
    const name = `${base.strings()[0]}-${pad5(shard.numbers()[0])}-of-${pad5(num.numbers()[0])}`;
    return [Tensor.scalar('string', name)];
  },
});

registerKernel({
  op: 'ShardedFilespec',
  kernel: (ctx) => {
    const [base, num] = ctx.inputs;
    return [Tensor.scalar('string', `${base.strings()[0]}-?????-of-${pad5(num.numbers()[0])}`)];
  },
});
