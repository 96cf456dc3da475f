/**
 * Odd ops from the tfjs-converter op list that fit no other family:
 *  - ListDiff (tensorflow/core/kernels/listdiff_op.cc), LowerBound/UpperBound
 *    (searchsorted_op.cc), Reverse (V1, reverse_op.cc: a bool mask of dims);
 *  - FakeQuantWithMinMaxArgs / Vars / VarsPerChannel
 *    (fake_quant_ops.cc, fake_quant_ops_functor.h): TF's zero-point nudging
 *    and float32 arithmetic step by step, so results are bit-exact;
 *  - tfjs-only op names the tfjs converter emits (Prelu, Ones, Zeros,
 *    Conv1D, DepthwiseConv2d, FusedDepthwiseConv2dNative) and the V1
 *    ref-handle lookup table ops (HashTable, InitializeTable,
 *    LookupTableFind/Import/Size), which share the V2 kernels;
 *  - StringFormat, QuantizeAndDequantizeV2/V3/V4 and Bitcast (below).
 */
import * as tf from '@tensorflow/tfjs-core';
import { dtypeShortName } from '../dtypes.js';
import { decodeTensorBytes, encodeTensorBytes, rawElementSize } from '../proto/tensor_bytes.js';
import { invalidArgument } from '../errors.js';
import { allocHost, decodeString, shapeString, Tensor } from '../tensor.js';
import { makeShape, onTf } from './array_util.js';
import { formatFloat } from './printf.js';
import { kernelFor, registerKernel, type KernelContext } from './registry.js';

const f = Math.fround;

/** Calls another op's kernel with different inputs (aliases and V1 → V2 forwarding). */
function forward(op: string, ctx: KernelContext, inputs = ctx.inputs): Tensor[] {
  const def = kernelFor(op);
  if (!def) throw new Error(`kernel ${op} missing`);
  return def.kernel({ ...ctx, inputs });
}

/** A value usable as a Map key (strings by content, int64 as bigint). */
function keyOf(v: unknown): unknown {
  return v instanceof Uint8Array ? decodeString(v) : v;
}

// ---------------------------------------------------------------------------
// ListDiff
registerKernel({
  op: 'ListDiff',
  kernel: (ctx) => {
    const [x, y] = ctx.inputs;
    if (x.rank !== 1) throw invalidArgument(`x should be a 1D vector.`);
    if (y.rank !== 1) throw invalidArgument(`y should be a 1D vector.`);
    const xs = x.values() as ArrayLike<unknown>;
    const ys = y.values() as ArrayLike<unknown>;
    const seen = new Set<unknown>();
    for (let i = 0; i < ys.length; i++) seen.add(keyOf(ys[i]));
    const keep: number[] = [];
    for (let i = 0; i < xs.length; i++) if (!seen.has(keyOf(xs[i]))) keep.push(i);
    const out = allocHost(x.dtype, keep.length) as unknown[];
    keep.forEach((k, i) => (out[i] = xs[k]));
    const idxType = ctx.attrs.type('out_idx', 'int32');
    return [
      Tensor.fromHost(x.dtype, [keep.length], out as never),
      Tensor.from(idxType, [keep.length], idxType === 'int64' ? keep.map((k) => BigInt(k)) : keep),
    ];
  },
});

// ---------------------------------------------------------------------------
// LowerBound / UpperBound
function searchSorted(ctx: KernelContext, upper: boolean): Tensor[] {
  const [sorted, values] = ctx.inputs;
  for (const [t, name] of [[sorted, 'sorted_inputs'], [values, 'values']] as const) {
    if (t.rank !== 2) throw invalidArgument(`Shape must be rank 2 but is rank ${t.rank} for ${name} ${shapeString(t.shape)}`);
  }
  if (sorted.dtype !== values.dtype) {
    throw invalidArgument(`sorted_inputs and values must have the same dtype: ${dtypeShortName(sorted.dtype)} vs ${dtypeShortName(values.dtype)}`);
  }
  if (sorted.shape[0] !== values.shape[0]) throw invalidArgument('Leading dim_size of both tensors must match.');
  if (sorted.dtype === 'string' || sorted.dtype === 'bool' || sorted.dtype.startsWith('complex')) {
    throw invalidArgument(`${upper ? 'UpperBound' : 'LowerBound'} does not support ${dtypeShortName(sorted.dtype)}`);
  }
  const [batch, n] = sorted.shape;
  const m = values.shape[1];
  const s = sorted.values() as ArrayLike<number | bigint>;
  const v = values.values() as ArrayLike<number | bigint>;
  const outType = ctx.attrs.type('out_type', 'int32');
  const out = new Array<number>(batch * m);
  for (let b = 0; b < batch; b++) {
    for (let j = 0; j < m; j++) {
      const target = v[b * m + j];
      // std::lower_bound: first i with !(s[i] < target); std::upper_bound: first i with target < s[i].
      let lo = 0;
      let hi = n;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        const e = s[b * n + mid];
        const goRight = upper ? !(target < e) : e < target;
        if (goRight) lo = mid + 1;
        else hi = mid;
      }
      out[b * m + j] = lo;
    }
  }
  return [Tensor.from(outType, [batch, m], outType === 'int64' ? out.map((k) => BigInt(k)) : out)];
}
registerKernel({ op: 'LowerBound', kernel: (ctx) => searchSorted(ctx, false) });
registerKernel({ op: 'UpperBound', kernel: (ctx) => searchSorted(ctx, true) });

// ---------------------------------------------------------------------------
// Reverse (V1): dims is a bool vector, one entry per input dimension.
registerKernel({
  op: 'Reverse',
  kernel: (ctx) => {
    const [x, dimsT] = ctx.inputs;
    if (dimsT.rank !== 1) throw invalidArgument(`'dims' must be 1-dimension, not ${dimsT.rank}`);
    if (dimsT.shape[0] !== x.rank) {
      throw invalidArgument(`'dims' must have the same number of values as 'input' has dimensions. 'input' has ${x.rank}'dimensions, but 'dims' has ${dimsT.shape[0]} values.`);
    }
    if (x.rank > 8) throw invalidArgument(`reverse is not implemented for tensors of rank > 8.`);
    const mask = dimsT.values() as Uint8Array;
    const axes: number[] = [];
    mask.forEach((m, i) => m && axes.push(i));
    return forward('ReverseV2', ctx, [x, Tensor.from('int32', [axes.length], axes)]);
  },
});

// ---------------------------------------------------------------------------
// FakeQuant*

interface Nudged {
  min: number;
  max: number;
  scale: number;
  invScale: number;
}

/** TF's Nudge: the real zero maps onto an integer of [quant_min, quant_max]; float32 step by step. */
function nudge(min: number, max: number, quantMin: number, quantMax: number): Nudged {
  const qmin = f(quantMin);
  const qmax = f(quantMax);
  const scale = f(f(max - min) / f(qmax - qmin));
  const invScale = f(f(qmax - qmin) / f(max - min));
  const zeroFromMin = f(qmin - f(min / scale));
  let zero: number;
  if (zeroFromMin < qmin) zero = quantMin;
  else if (zeroFromMin > qmax) zero = quantMax;
  else zero = Math.sign(zeroFromMin) * Math.round(Math.abs(zeroFromMin)); // std::round: half away from zero
  zero &= 0xffff;
  return { min: f(f(qmin - zero) * scale), max: f(f(qmax - zero) * scale), scale, invScale };
}

function quantRange(ctx: KernelContext): [number, number] {
  const numBits = ctx.attrs.int('num_bits', 8);
  if (!(numBits >= 2 && numBits <= 16)) throw invalidArgument(`num_bits must be between 2 and 16, inclusive`);
  const narrow = ctx.attrs.bool('narrow_range', false);
  return [narrow ? 1 : 0, 2 ** numBits - 1];
}

/**
 * Quantizes x[start + k*stride] for k < count into out. `divide` selects the
 * Vars functor's `/ scale` over the Args/PerChannel `* inv_scale`.
 */
function fakeQuantRange(
  x: Float32Array, out: Float32Array, start: number, stride: number, count: number,
  min: number, max: number, qmin: number, qmax: number, divide: boolean,
): void {
  if (min === 0 && max === 0) {
    for (let k = 0; k < count; k++) out[start + k * stride] = 0;
    return;
  }
  const n = nudge(min, max, qmin, qmax);
  const quantZero = Math.floor(f(f(-n.min * n.invScale) + 0.5));
  for (let k = 0; k < count; k++) {
    const i = start + k * stride;
    const clamped = Math.max(Math.min(x[i], n.max), n.min);
    const shifted = f(clamped - n.min);
    const q = divide ? f(shifted / n.scale) : f(shifted * n.invScale);
    out[i] = f(Math.floor(f(f(q - quantZero) + 0.5)) * n.scale);
  }
}

function floatInput(t: Tensor, op: string): Float32Array {
  if (t.dtype !== 'float32') throw invalidArgument(`${op} expects float inputs, got ${dtypeShortName(t.dtype)}`);
  return t.values() as Float32Array;
}

registerKernel({
  op: 'FakeQuantWithMinMaxArgs',
  kernel: (ctx) => {
    const x = floatInput(ctx.inputs[0], 'FakeQuantWithMinMaxArgs');
    const min = f(ctx.attrs.float('min', -6));
    const max = f(ctx.attrs.float('max', 6));
    if (!(min < max)) throw invalidArgument(`min has to be smaller than max, was: ${min} >= ${max}`);
    const [qmin, qmax] = quantRange(ctx);
    const out = allocHost('float32', x.length) as Float32Array;
    fakeQuantRange(x, out, 0, 1, x.length, min, max, qmin, qmax, false);
    // Args has no min == max == 0 shortcut, and min < max is checked above.
    return [Tensor.fromHost('float32', ctx.inputs[0].shape, out)];
  },
});

registerKernel({
  op: 'FakeQuantWithMinMaxVars',
  kernel: (ctx) => {
    const [xT, minT, maxT] = ctx.inputs;
    const x = floatInput(xT, 'FakeQuantWithMinMaxVars');
    if (minT.rank !== 0) throw invalidArgument(`\`min\` must be rank 0 but is rank ${minT.rank}`);
    if (maxT.rank !== 0) throw invalidArgument(`\`max\` must be rank 0 but is rank ${maxT.rank}`);
    const [qmin, qmax] = quantRange(ctx);
    const out = allocHost('float32', x.length) as Float32Array;
    const min = floatInput(minT, 'FakeQuantWithMinMaxVars')[0];
    const max = floatInput(maxT, 'FakeQuantWithMinMaxVars')[0];
    fakeQuantRange(x, out, 0, 1, x.length, min, max, qmin, qmax, true);
    return [Tensor.fromHost('float32', xT.shape, out)];
  },
});

registerKernel({
  op: 'FakeQuantWithMinMaxVarsPerChannel',
  kernel: (ctx) => {
    const [xT, minT, maxT] = ctx.inputs;
    const x = floatInput(xT, 'FakeQuantWithMinMaxVarsPerChannel');
    if (xT.rank < 1) throw invalidArgument(`Shape must be at least rank 1 but is rank ${xT.rank}`);
    const depth = xT.shape[xT.rank - 1];
    for (const [t, name] of [[minT, 'min'], [maxT, 'max']] as const) {
      if (t.rank !== 1) throw invalidArgument(`\`${name}\` must be rank 1 but is rank ${t.rank}`);
      if (t.shape[0] !== depth) throw invalidArgument(`\`${name}\` must be a vector of length ${depth} (the last dimension of inputs), got ${t.shape[0]}`);
    }
    const mins = floatInput(minT, 'FakeQuantWithMinMaxVarsPerChannel');
    const maxs = floatInput(maxT, 'FakeQuantWithMinMaxVarsPerChannel');
    const [qmin, qmax] = quantRange(ctx);
    const out = allocHost('float32', x.length) as Float32Array;
    const rows = depth === 0 ? 0 : x.length / depth;
    for (let c = 0; c < depth; c++) {
      // PerChannel multiplies by inv_scale like Args, but keeps Vars' min == max == 0 shortcut.
      fakeQuantRange(x, out, c, depth, rows, mins[c], maxs[c], qmin, qmax, false);
    }
    return [Tensor.fromHost('float32', xT.shape, out)];
  },
});

// ---------------------------------------------------------------------------
// tfjs-only op names

registerKernel({
  op: 'Prelu',
  kernel: (ctx) => {
    const [x, alpha] = ctx.inputs;
    if (x.dtype !== 'float32' || alpha.dtype !== 'float32') throw invalidArgument(`Prelu expects float32 inputs, got ${dtypeShortName(x.dtype)}`);
    return [onTf('float32', [x, alpha], (a, b) => tf.prelu(a, b))];
  },
});

for (const [op, value] of [['Ones', 1], ['Zeros', 0]] as const) {
  registerKernel({
    op,
    kernel: (ctx) => {
      const dtype = ctx.attrs.type('T', ctx.attrs.type('dtype', 'float32'));
      const shape = makeShape(ctx.inputs[0], dtype);
      return forward('Fill', ctx, [Tensor.from('int32', [shape.length], shape), Tensor.scalar(dtype, dtype === 'int64' ? BigInt(value) : value)]);
    },
  });
}

registerKernel({
  op: 'Conv1D',
  kernel: (ctx) => {
    const [x, filter] = ctx.inputs;
    if (x.dtype !== 'float32') throw invalidArgument(`Conv1D expects float32 inputs, got ${dtypeShortName(x.dtype)}`);
    if (x.rank !== 3 || filter.rank !== 3) throw invalidArgument(`Conv1D expects a rank-3 input and filter, got ${shapeString(x.shape)} and ${shapeString(filter.shape)}`);
    const stride = ctx.attrs.int('stride', 1);
    const dilation = ctx.attrs.int('dilation', 1);
    const pad = ctx.attrs.string('padding', 'VALID').toLowerCase() as 'valid' | 'same';
    const fmt = ctx.attrs.string('data_format', 'NWC') as 'NWC' | 'NCW';
    return [onTf('float32', [x, filter], (a, b) => tf.conv1d(a as tf.Tensor3D, b as tf.Tensor3D, stride, pad, fmt, dilation))];
  },
});

registerKernel({ op: 'DepthwiseConv2d', kernel: (ctx) => forward('DepthwiseConv2dNative', ctx) });
registerKernel({ op: 'FusedDepthwiseConv2dNative', kernel: (ctx) => forward('_FusedDepthwiseConv2dNative', ctx) });

// V1 lookup table ops: a ref string handle in TF; here the same resource value as V2.
for (const [v1, v2, stateful] of [
  ['HashTable', 'HashTableV2', true],
  ['InitializeTable', 'InitializeTableV2', true],
  ['LookupTableFind', 'LookupTableFindV2', true],
  ['LookupTableImport', 'LookupTableImportV2', true],
  ['LookupTableSize', 'LookupTableSizeV2', true],
  ['LookupTableExport', 'LookupTableExportV2', true],
  ['LookupTableInsert', 'LookupTableInsertV2', true],
  ['MutableHashTable', 'MutableHashTableV2', true],
  ['InitializeTableFromTextFile', 'InitializeTableFromTextFileV2', true],
] as const) {
  const def = kernelFor(v2);
  if (def && !kernelFor(v1)) registerKernel({ op: v1, stateful, outputs: def.outputs, kernel: (ctx) => def.kernel(ctx) });
}

// ---------------------------------------------------------------------------
// StringFormat (string_format_op.cc): the template with each placeholder
// replaced by Tensor::SummarizeValue(summarize, print_v2=true) of an input.

const G = (precision: number) => ({ flags: '', width: 0, precision, conversion: 'g' as const });

/** strings::StrCat of a float / double: %.6g (%.15g), or %.9g (%.17g) when that does not read back. */
function strCatFloat(v: number, double: boolean): string {
  if (Number.isNaN(v)) return 'nan';
  const short = formatFloat(v, G(double ? 15 : 6));
  const back = Number(short);
  if ((double ? back : Math.fround(back)) === v) return short;
  return formatFloat(v, G(double ? 17 : 9));
}

/** absl::Utf8SafeCEscape: C escapes for control bytes, quotes and backslash; UTF-8 bytes kept. */
function cEscape(b: Uint8Array): string {
  const out: number[] = [];
  const push = (s: string) => {
    for (let i = 0; i < s.length; i++) out.push(s.charCodeAt(i));
  };
  for (const c of b) {
    if (c === 0x0a) push('\\n');
    else if (c === 0x0d) push('\\r');
    else if (c === 0x09) push('\\t');
    else if (c === 0x22) push('\\"');
    else if (c === 0x27) push("\\'");
    else if (c === 0x5c) push('\\\\');
    else if (c < 0x20 || c === 0x7f) push('\\' + c.toString(8).padStart(3, '0'));
    else out.push(c);
  }
  return decodeString(Uint8Array.from(out));
}

function elementText(t: Tensor): (i: number) => string {
  const v = t.values() as ArrayLike<unknown>;
  switch (t.dtype) {
    case 'string':
      return (i) => `"${cEscape(v[i] as Uint8Array)}"`;
    case 'bool':
      return (i) => (v[i] ? '1' : '0');
    case 'float32':
    case 'float16':
    case 'bfloat16':
      return (i) => strCatFloat(v[i] as number, false);
    case 'float64':
      return (i) => strCatFloat(v[i] as number, true);
    case 'int8':
    case 'int16':
    case 'int32':
    case 'int64':
    case 'uint8':
    case 'uint16':
    case 'uint32':
    case 'uint64':
      return (i) => String(v[i]);
    default:
      throw invalidArgument(`StringFormat does not support ${dtypeShortName(t.dtype)} inputs`);
  }
}

/** Tensor::SummarizeValue(max_entries, print_v2 = true). */
export function summarizeV2(t: Tensor, maxEntries: number): string {
  const n = t.size;
  const limit = maxEntries < 0 ? n : Math.min(maxEntries, n);
  const text = elementText(t);
  if (t.rank === 0) {
    let s = '';
    for (let i = 0; i < limit; i++) s += (i > 0 ? ' ' : '') + text(i);
    return n > limit ? s + '...' : s;
  }
  const shape = t.shape;
  const dims = shape.length;
  const parts: string[] = [];
  const spacing = (d: number) => {
    if (d === dims - 1) parts.push(' ');
    else parts.push('\n'.repeat(dims - d - 1) + ' '.repeat(d + 1));
  };
  const dim = (d: number, index: number): void => {
    if (d === dims) {
      parts.push(text(index));
      return;
    }
    parts.push('[');
    const count = shape[d];
    const startOfEnd = Math.max(limit, count - limit);
    let per = 1;
    for (let k = d + 1; k < dims; k++) per *= shape[k];
    for (let i = 0; i < limit && i < count; i++) {
      if (i > 0) spacing(d);
      dim(d + 1, index + per * i);
    }
    if (count > 2 * limit) {
      spacing(d);
      parts.push('...');
    }
    for (let i = startOfEnd; i < count; i++) {
      spacing(d);
      dim(d + 1, index + per * i);
    }
    parts.push(']');
  };
  dim(0, 0);
  return parts.join('');
}

registerKernel({
  op: 'StringFormat',
  kernel: (ctx) => {
    const template = ctx.attrs.string('template', '%s');
    const placeholder = ctx.attrs.string('placeholder', '%s');
    const summarize = ctx.attrs.int('summarize', 3);
    const pieces = placeholder === '' ? [template] : template.split(placeholder);
    if (pieces.length - 1 !== ctx.inputs.length) {
      throw invalidArgument(`num placeholders in template and num inputs must match: ${pieces.length - 1} vs. ${ctx.inputs.length}`);
    }
    let out = pieces[0];
    ctx.inputs.forEach((t, i) => {
      out += summarizeV2(t, summarize) + pieces[i + 1];
    });
    return [Tensor.scalar('string', out)];
  },
});

// ---------------------------------------------------------------------------
// QuantizeAndDequantizeV2 / V3 / V4 (quantize_and_dequantize_op.{h,cc}):
// symmetric range around 0, per tensor or per `axis` channel, in T's
// precision step by step.

function roundHalfEven(v: number): number {
  const r = Math.round(v);
  return r - v === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

function quantizeAndDequantize(ctx: KernelContext, op: string, numBitsFromInput: boolean): Tensor[] {
  const [x, minT, maxT, bitsT] = ctx.inputs;
  if (x.dtype !== 'float32' && x.dtype !== 'float64') throw invalidArgument(`${op} does not support ${dtypeShortName(x.dtype)} inputs (float and double are)`);
  const r = x.dtype === 'float32' ? f : (v: number) => v;
  const signed = ctx.attrs.bool('signed_input', true);
  const rangeGiven = ctx.attrs.bool('range_given', false);
  const narrow = ctx.attrs.bool('narrow_range', false);
  const axis = ctx.attrs.int('axis', -1);
  const roundMode = numBitsFromInput ? 'HALF_TO_EVEN' : ctx.attrs.string('round_mode', 'HALF_TO_EVEN');
  if (roundMode !== 'HALF_TO_EVEN' && roundMode !== 'HALF_UP') throw invalidArgument(`Invalid round_mode: ${roundMode}`);
  let numBits: number;
  if (numBitsFromInput) {
    if (bitsT.rank !== 0) throw invalidArgument(`Invalid shape ${shapeString(bitsT.shape)} for num_bits, must be a scalar`);
    numBits = Number((bitsT.values() as Int32Array)[0]);
  } else numBits = ctx.attrs.int('num_bits', 8);
  if (!(numBits > 0 && numBits < (signed ? 62 : 63))) throw invalidArgument(`num_bits is out of range: ${numBits} with signed_input_ ${signed}`);
  if (axis < -1 || axis >= x.rank) throw invalidArgument(`Axis is out of bounds: axis=${axis}, rank=${x.rank}`);
  const depth = axis === -1 ? 1 : x.shape[axis];
  const rangeRank = axis === -1 ? 0 : 1;
  for (const [t, name] of [[minT, 'input_min'], [maxT, 'input_max']] as const) {
    if (t.rank !== rangeRank || (rangeRank === 1 && t.shape[0] !== depth)) {
      throw invalidArgument(`${name} has incorrect shape ${shapeString(t.shape)}, expected ${rangeRank === 0 ? '[]' : `[${depth}]`}`);
    }
  }
  const src = x.values() as Float32Array | Float64Array;
  const outer = axis === -1 ? 1 : x.shape.slice(0, axis).reduce((a, b) => a * b, 1);
  const inner = axis === -1 ? src.length : x.shape.slice(axis + 1).reduce((a, b) => a * b, 1);
  const mins = minT.values() as Float32Array | Float64Array;
  const maxs = maxT.values() as Float32Array | Float64Array;
  const minQ = signed ? (narrow ? -(2 ** (numBits - 1)) + 1 : -(2 ** (numBits - 1))) : 0;
  const maxQ = signed ? 2 ** (numBits - 1) - 1 : 2 ** numBits - 1;
  const tMax = x.dtype === 'float32' ? 3.4028234663852886e38 : Number.MAX_VALUE;
  const round = roundMode === 'HALF_UP' ? (v: number) => Math.floor(r(v + 0.5)) : roundHalfEven;
  const out = allocHost(x.dtype, src.length) as Float32Array | Float64Array;
  const at = (o: number, c: number, i: number) => (o * depth + c) * inner + i;
  for (let c = 0; c < depth; c++) {
    let lo: number;
    let hi: number;
    if (rangeGiven) {
      lo = mins[c];
      hi = maxs[c];
      if (lo > hi) throw invalidArgument(`Invalid range: input_min ${lo} > input_max ${hi}`);
    } else {
      lo = Infinity;
      hi = -Infinity;
      for (let o = 0; o < outer; o++) {
        for (let i = 0; i < inner; i++) {
          const v = src[at(o, c, i)];
          if (v < lo) lo = v;
          if (v > hi) hi = v;
        }
      }
    }
    // ComputeQuantizationRange: the larger scale that keeps 0 fixed and both ends in range.
    const fromMin = r(minQ) * lo > 0 ? r(r(minQ) / lo) : tMax;
    const fromMax = r(maxQ) * hi > 0 ? r(r(maxQ) / hi) : tMax;
    let scale: number;
    let inv: number;
    if (fromMin < fromMax) {
      scale = fromMin;
      inv = r(lo / r(minQ));
      hi = r(r(maxQ) * inv);
    } else {
      scale = fromMax;
      inv = r(hi / r(maxQ));
      lo = r(r(minQ) * inv);
    }
    for (let o = 0; o < outer; o++) {
      for (let i = 0; i < inner; i++) {
        const k = at(o, c, i);
        let v = src[k];
        if (rangeGiven) v = Math.max(Math.min(v, hi), lo);
        out[k] = r(round(r(v * scale)) * inv);
      }
    }
  }
  return [Tensor.fromHost(x.dtype, x.shape, out)];
}

registerKernel({ op: 'QuantizeAndDequantizeV2', kernel: (ctx) => quantizeAndDequantize(ctx, 'QuantizeAndDequantizeV2', false) });
registerKernel({ op: 'QuantizeAndDequantizeV4', kernel: (ctx) => quantizeAndDequantize(ctx, 'QuantizeAndDequantizeV4', false) });
registerKernel({ op: 'QuantizeAndDequantizeV3', kernel: (ctx) => quantizeAndDequantize(ctx, 'QuantizeAndDequantizeV3', true) });

// ---------------------------------------------------------------------------
// Bitcast (bitcast_op.cc): the same bytes read as another type; a wider
// output consumes the last dimension, a narrower one appends a dimension.
if (!kernelFor('Bitcast')) {
  registerKernel({
    op: 'Bitcast',
    kernel: (ctx) => {
      const x = ctx.inputs[0];
      const to = ctx.attrs.type('type');
      const inSize = rawElementSize(x.dtype);
      const outSize = rawElementSize(to);
      if (!inSize || !outSize || x.dtype === 'bool' || to === 'bool') {
        throw invalidArgument(`Bitcast does not support ${dtypeShortName(x.dtype)} to ${dtypeShortName(to)}`);
      }
      let shape = [...x.shape];
      if (inSize < outSize) {
        if (!(x.rank > 0 && shape[shape.length - 1] === outSize / inSize)) {
          throw invalidArgument(`Cannot bitcast from ${dtypeShortName(x.dtype)} to ${dtypeShortName(to)}: shape ${shapeString(x.shape)}`);
        }
        shape = shape.slice(0, -1);
      } else if (inSize > outSize) {
        shape.push(inSize / outSize);
      }
      if (x.dtype === to) return [x];
      const bytes = encodeTensorBytes(x.dtype, x.values());
      const count = bytes.length / outSize;
      return [Tensor.fromHost(to, shape, decodeTensorBytes(to, bytes, count))];
    },
  });
}
