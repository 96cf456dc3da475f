/**
 * Unicode ops (tensorflow/core/kernels/unicode_ops.cc, behind
 * tf.strings.unicode_decode / unicode_split / unicode_encode /
 * unicode_transcode): UnicodeDecode, UnicodeDecodeWithOffsets, UnicodeEncode,
 * UnicodeTranscode for UTF-8, UTF-16-BE and UTF-32-BE. Ill-formed input is
 * handled per `errors`: 'strict' fails, 'replace' emits replacement_char per
 * maximal ill-formed subpart (ICU's converter behaviour), 'ignore' drops it.
 * Registered only if no other family registered the op first.
 */
import { invalidArgument } from '../errors.js';
import { checkTensorSize } from '../limits.js';
import { allocHost, Tensor } from '../tensor.js';
import { kernelFor, registerKernel, type KernelContext, type KernelDef } from './registry.js';

function register(def: KernelDef): void {
  const ops = (Array.isArray(def.op) ? def.op : [def.op]).filter((op) => !kernelFor(op));
  if (ops.length > 0) registerKernel({ ...def, op: ops });
}

type Encoding = 'UTF-8' | 'UTF-16-BE' | 'UTF-32-BE';
const ENCODINGS = new Set(['UTF-8', 'UTF-16-BE', 'UTF-32-BE']);

function encodingAttr(ctx: KernelContext, name: string): Encoding {
  const e = ctx.attrs.string(name);
  if (!ENCODINGS.has(e)) throw invalidArgument(`Could not create converter for input encoding: ${e}`);
  return e as Encoding;
}

/** One decoded unit: a code point (or -1 for an ill-formed subpart) and its byte offset. */
type Sink = (cp: number, start: number) => void;

function decodeUtf8(b: Uint8Array, sink: Sink): void {
  let i = 0;
  while (i < b.length) {
    const start = i;
    const c = b[i++];
    if (c < 0x80) {
      sink(c, start);
      continue;
    }
    let need: number;
    let cp: number;
    let lo = 0x80;
    let hi = 0xbf;
    if (c >= 0xc2 && c <= 0xdf) {
      need = 1;
      cp = c & 0x1f;
    } else if (c >= 0xe0 && c <= 0xef) {
      need = 2;
      cp = c & 0x0f;
      if (c === 0xe0) lo = 0xa0;
      if (c === 0xed) hi = 0x9f;
    } else if (c >= 0xf0 && c <= 0xf4) {
      need = 3;
      cp = c & 0x07;
      if (c === 0xf0) lo = 0x90;
      if (c === 0xf4) hi = 0x8f;
    } else {
      sink(-1, start);
      continue;
    }
    let ok = true;
    for (let k = 0; k < need; k++) {
      const n = b[i];
      if (i >= b.length || n < lo || n > hi) {
        ok = false;
        break;
      }
      cp = (cp << 6) | (n & 0x3f);
      i++;
      lo = 0x80;
      hi = 0xbf;
    }
    sink(ok ? cp : -1, start);
  }
}

function decodeUtf16(b: Uint8Array, sink: Sink): void {
  let i = 0;
  while (i < b.length) {
    const start = i;
    if (i + 1 >= b.length) {
      sink(-1, start);
      break;
    }
    const u = (b[i] << 8) | b[i + 1];
    i += 2;
    if (u >= 0xd800 && u <= 0xdbff) {
      if (i + 1 < b.length) {
        const u2 = (b[i] << 8) | b[i + 1];
        if (u2 >= 0xdc00 && u2 <= 0xdfff) {
          i += 2;
          sink(0x10000 + ((u - 0xd800) << 10) + (u2 - 0xdc00), start);
          continue;
        }
      }
      sink(-1, start);
    } else if (u >= 0xdc00 && u <= 0xdfff) sink(-1, start);
    else sink(u, start);
  }
}

function decodeUtf32(b: Uint8Array, sink: Sink): void {
  for (let i = 0; i < b.length; i += 4) {
    if (i + 3 >= b.length) {
      sink(-1, i);
      break;
    }
    const cp = ((b[i] << 24) | (b[i + 1] << 16) | (b[i + 2] << 8) | b[i + 3]) >>> 0;
    sink(cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff) ? -1 : cp, i);
  }
}

const DECODERS: Record<Encoding, (b: Uint8Array, sink: Sink) => void> = { 'UTF-8': decodeUtf8, 'UTF-16-BE': decodeUtf16, 'UTF-32-BE': decodeUtf32 };

interface ErrorPolicy {
  errors: string;
  replacement: number;
  replaceControl: boolean;
}

function policy(ctx: KernelContext): ErrorPolicy {
  const errors = ctx.attrs.string('errors', 'replace');
  if (!['strict', 'replace', 'ignore'].includes(errors)) throw invalidArgument(`errors must be one of strict, replace, ignore; got ${errors}`);
  const replacement = ctx.attrs.int('replacement_char', 0xfffd);
  if (!(replacement >= 0 && replacement <= 0x10ffff && !(replacement >= 0xd800 && replacement <= 0xdfff))) {
    throw invalidArgument(`replacement_char out of unicode codepoint range`);
  }
  return { errors, replacement, replaceControl: ctx.attrs.bool('replace_control_characters', false) };
}

/** Decodes one string into code points (and byte starts) under the error policy. */
function decodeOne(b: Uint8Array, enc: Encoding, p: ErrorPolicy, out: number[], starts: number[]): void {
  DECODERS[enc](b, (cp, start) => {
    if (cp < 0) {
      if (p.errors === 'strict') throw invalidArgument('Invalid formatting on input string');
      if (p.errors === 'ignore') return;
      cp = p.replacement;
    } else if (p.replaceControl && (cp < 0x20 || (cp >= 0x7f && cp < 0xa0))) {
      cp = p.replacement;
    }
    out.push(cp);
    starts.push(start);
  });
}

function decode(ctx: KernelContext, withOffsets: boolean): Tensor[] {
  const input = ctx.inputs[0];
  const enc = encodingAttr(ctx, 'input_encoding');
  const p = policy(ctx);
  const splitsType = ctx.attrs.type('Tsplits', 'int64');
  const strs = input.values() as Uint8Array[];
  const cps: number[] = [];
  const starts: number[] = [];
  const splits: number[] = [0];
  for (const s of strs) {
    decodeOne(s, enc, p, cps, starts);
    splits.push(cps.length);
  }
  checkTensorSize([cps.length], 'int32');
  const big = (v: number[]) => (splitsType === 'int64' ? v.map((x) => BigInt(x)) : v);
  const outs = [Tensor.from(splitsType, [splits.length], big(splits)), Tensor.from('int32', [cps.length], cps)];
  if (withOffsets) outs.push(Tensor.from('int64', [starts.length], starts.map((x) => BigInt(x))));
  return outs;
}

register({ op: 'UnicodeDecode', outputs: [{ name: 'row_splits' }, { name: 'char_values' }], kernel: (ctx) => decode(ctx, false) });
register({
  op: 'UnicodeDecodeWithOffsets',
  outputs: [{ name: 'row_splits' }, { name: 'char_values' }, { name: 'char_to_byte_starts' }],
  kernel: (ctx) => decode(ctx, true),
});

function encodeCodePoints(cps: ArrayLike<number>, enc: Encoding): Uint8Array {
  const bytes: number[] = [];
  for (let i = 0; i < cps.length; i++) {
    const cp = cps[i];
    if (enc === 'UTF-8') {
      if (cp < 0x80) bytes.push(cp);
      else if (cp < 0x800) bytes.push(0xc0 | (cp >> 6), 0x80 | (cp & 0x3f));
      else if (cp < 0x10000) bytes.push(0xe0 | (cp >> 12), 0x80 | ((cp >> 6) & 0x3f), 0x80 | (cp & 0x3f));
      else bytes.push(0xf0 | (cp >> 18), 0x80 | ((cp >> 12) & 0x3f), 0x80 | ((cp >> 6) & 0x3f), 0x80 | (cp & 0x3f));
    } else if (enc === 'UTF-16-BE') {
      if (cp < 0x10000) bytes.push(cp >> 8, cp & 0xff);
      else {
        const v = cp - 0x10000;
        const hi = 0xd800 + (v >> 10);
        const lo = 0xdc00 + (v & 0x3ff);
        bytes.push(hi >> 8, hi & 0xff, lo >> 8, lo & 0xff);
      }
    } else bytes.push((cp >>> 24) & 0xff, (cp >> 16) & 0xff, (cp >> 8) & 0xff, cp & 0xff);
  }
  return Uint8Array.from(bytes);
}

const validCodePoint = (cp: number) => cp >= 0 && cp <= 0x10ffff && !(cp >= 0xd800 && cp <= 0xdfff);

register({
  op: 'UnicodeEncode',
  kernel: (ctx) => {
    const [valuesT, splitsT] = ctx.inputs;
    const enc = encodingAttr(ctx, 'output_encoding');
    const p = policy(ctx);
    if (splitsT.rank !== 1 || splitsT.shape[0] < 1) throw invalidArgument('Input_splits must be a vector with at least one element');
    const values = valuesT.values() as Int32Array;
    const splits = splitsT.numbers();
    if (splits[0] !== 0 || splits[splits.length - 1] !== values.length) {
      throw invalidArgument(`Input_splits must start with 0 and end with the number of values (${values.length})`);
    }
    const n = splits.length - 1;
    const out = allocHost('string', n) as Uint8Array[];
    for (let r = 0; r < n; r++) {
      if (splits[r + 1] < splits[r]) throw invalidArgument('Input_splits must be sorted in ascending order');
      const cps: number[] = [];
      for (let k = splits[r]; k < splits[r + 1]; k++) {
        const cp = values[k];
        if (validCodePoint(cp)) cps.push(cp);
        else if (p.errors === 'strict') throw invalidArgument(`Code point is out of range for Unicode, or a noncharacter.`);
        else if (p.errors === 'replace') cps.push(p.replacement);
      }
      out[r] = encodeCodePoints(cps, enc);
    }
    return [Tensor.fromHost('string', [n], out)];
  },
});

register({
  op: 'UnicodeTranscode',
  kernel: (ctx) => {
    const input = ctx.inputs[0];
    const from = encodingAttr(ctx, 'input_encoding');
    const to = encodingAttr(ctx, 'output_encoding');
    const p = policy(ctx);
    const strs = input.values() as Uint8Array[];
    const out = allocHost('string', strs.length) as Uint8Array[];
    strs.forEach((s, i) => {
      const cps: number[] = [];
      decodeOne(s, from, p, cps, []);
      out[i] = encodeCodePoints(cps, to);
    });
    return [Tensor.fromHost('string', input.shape, out)];
  },
});
