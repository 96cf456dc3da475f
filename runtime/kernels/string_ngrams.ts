/**
 * StringNGrams (tensorflow/core/kernels/string_ngrams_op.cc): the n-grams of
 * each row of a ragged string tensor (flat `data` + `data_splits`), for every
 * width in `ngram_widths`, optionally padded, as a ragged result
 * (ngrams, ngrams_splits). Keras' TextVectorization(ngrams=...) runs it.
 */
import { invalidArgument } from '../errors.js';
import { allocHost, encodeString, Tensor } from '../tensor.js';
import { registerKernel } from './registry.js';

interface NgramOptions {
  separator: Uint8Array;
  leftPad: Uint8Array;
  rightPad: Uint8Array;
  padWidth: number;
}

const padWidthFor = (o: NgramOptions, width: number) => Math.min(o.padWidth < 0 ? width - 1 : o.padWidth, width - 1);

function numNgrams(o: NgramOptions, length: number, width: number): number {
  const pad = padWidthFor(o, width);
  if (pad > 2147483647 / 2 - length) throw invalidArgument(`Pad width could lead to integer overflow, got pad_width = ${pad}`);
  return Math.max(0, length + 2 * pad - width + 1);
}

/** The `count` n-grams of `width` over `row`, padded as TF pads them. */
function ngrams(o: NgramOptions, row: Uint8Array[], count: number, width: number, out: Uint8Array[]): void {
  const pad = padWidthFor(o, width);
  for (let k = 0; k < count; k++) {
    const left = Math.max(0, pad - k);
    const right = Math.max(0, pad - (count - (k + 1)));
    const tokens = width - (left + right);
    const start = left > 0 ? 0 : k - pad;
    const parts: Uint8Array[] = [];
    for (let n = 0; n < left; n++) parts.push(o.leftPad);
    for (let n = 0; n < tokens; n++) parts.push(row[start + n]);
    for (let n = 0; n < right; n++) parts.push(o.rightPad);
    out.push(join(parts, o.separator));
  }
}

function join(parts: Uint8Array[], sep: Uint8Array): Uint8Array {
  let n = Math.max(0, parts.length - 1) * sep.length;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  let o = 0;
  parts.forEach((p, i) => {
    if (i > 0) {
      out.set(sep, o);
      o += sep.length;
    }
    out.set(p, o);
    o += p.length;
  });
  return out;
}

registerKernel({
  op: 'StringNGrams',
  outputs: [{ name: 'ngrams' }, { name: 'ngrams_splits' }],
  kernel: (ctx) => {
    const a = ctx.attrs;
    const widths = a.ints('ngram_widths', []);
    for (const w of widths) if (w <= 0) throw invalidArgument('ngram_widths must contain positive values');
    const o: NgramOptions = {
      separator: encodeString(a.string('separator', ' ')),
      leftPad: encodeString(a.string('left_pad', '')),
      rightPad: encodeString(a.string('right_pad', '')),
      padWidth: a.int('pad_width', -1),
    };
    const preserveShort = a.bool('preserve_short_sequences', false);
    const [dataT, splitsT] = ctx.inputs;
    const data = dataT.values() as Uint8Array[];
    const splits = splitsT.numbers();
    if (splits.length > 0) {
      if (splits[0] !== 0) throw invalidArgument(`First split value must be 0, got ${splits[0]}`);
      for (let i = 1; i < splits.length; i++) {
        if (splits[i] < splits[i - 1] || splits[i] > data.length) {
          throw invalidArgument(`Invalid split value ${splits[i]}, must be in [${splits[i - 1]}, ${data.length}]`);
        }
      }
      if (splits[splits.length - 1] !== data.length) {
        throw invalidArgument(`Last split value must be data size. Expected ${data.length}, got ${splits[splits.length - 1]}`);
      }
    }
    const rows = Math.max(0, splits.length - 1);
    const outSplits = allocHost(splitsT.dtype, splits.length) as Int32Array | BigInt64Array;
    const setSplit = (i: number, v: number) => (outSplits instanceof BigInt64Array ? (outSplits[i] = BigInt(v)) : (outSplits[i] = v));
    if (data.length === 0 || splits.length === 0) {
      return [Tensor.fromHost('string', dataT.shape, allocHost('string', dataT.size)), Tensor.fromHost(splitsT.dtype, splitsT.shape, outSplits)];
    }
    const out: Uint8Array[] = [];
    setSplit(0, 0);
    for (let r = 0; r < rows; r++) {
      const row = data.slice(splits[r], splits[r + 1]);
      const before = out.length;
      for (const w of widths) ngrams(o, row, numNgrams(o, row.length, w), w, out);
      if (preserveShort && out.length === before && row.length > 0) {
        if (o.padWidth < 0) {
          throw invalidArgument(
            `Pad width should be >= 0 when preserve_short_sequences is True and ngram_widths are not provided, got ${o.padWidth}`,
          );
        }
        ngrams(o, row, 1, row.length + 2 * o.padWidth, out);
      }
      setSplit(r + 1, out.length);
    }
    return [Tensor.fromHost('string', [out.length], out), Tensor.fromHost(splitsT.dtype, splitsT.shape, outSplits)];
  },
});
