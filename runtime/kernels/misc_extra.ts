/**
 * More ops TF users' SavedModels contain, beyond the tfjs-converter list:
 *  - DynamicPartition, DynamicStitch, ParallelDynamicStitch
 *    (dynamic_partition_op.cc, dynamic_stitch_op.cc);
 *  - BatchFunction (batch_kernels.cc): runs `f` on the inputs (this runtime
 *    batches requests before the graph, so the in-graph batcher is a call);
 *  - VariableShape, ResourceGatherNd, ResourceScatterUpdate/Add/Sub/Mul/Div/
 *    Min/Max (resource_variable_ops.cc);
 *  - InTopKV2 / InTopK (in_topk_op.cc), LeftShift / RightShift (cwise_ops),
 *    ApproximateEqual, Timestamp;
 *  - SoftmaxCrossEntropyWithLogits, SparseSoftmaxCrossEntropyWithLogits
 *    (xent_op.cc, sparse_xent_op.cc), HistogramFixedWidth (histogram_op.cc),
 *    CumulativeLogsumexp (scan_ops.cc), in T's precision step by step;
 *  - Optional{FromValue,None,HasValue,GetValue}, DataFormatDimMap,
 *    DataFormatVecPermute, BroadcastGradientArgs, EditDistance.
 * Each is registered only if no other family registered it first.
 */
import { dtypeShortName } from '../dtypes.js';
import { invalidArgument } from '../errors.js';
import { checkTensorSize } from '../limits.js';
import { allocHost, shapeString, Tensor, type HostData } from '../tensor.js';
import { retainBeyondIteration } from './loop_scope.js';
import { kernelFor, registerKernel, type KernelContext, type KernelDef } from './registry.js';
import { variableOf } from './state.js';

function register(def: KernelDef): void {
  const ops = (Array.isArray(def.op) ? def.op : [def.op]).filter((op) => !kernelFor(op));
  if (ops.length > 0) registerKernel({ ...def, op: ops });
}

const isComplex = (d: string) => d === 'complex64' || d === 'complex128';

/** Copies `n` elements (complex: pairs) from src[from] to dst[to]. */
function copy(dst: HostData, to: number, src: HostData, from: number, n: number): void {
  if (ArrayBuffer.isView(src) && ArrayBuffer.isView(dst)) (dst as Float64Array).set((src as Float64Array).subarray(from, from + n), to);
  else for (let k = 0; k < n; k++) (dst as unknown[])[to + k] = (src as unknown[])[from + k];
}

// ---------------------------------------------------------------------------
register({
  op: 'DynamicPartition',
  outputs: [{ name: 'outputs', count: (a) => a.int('num_partitions') }],
  kernel: (ctx) => {
    const [data, partT] = ctx.inputs;
    const n = ctx.attrs.int('num_partitions');
    if (n < 1) throw invalidArgument(`num_partitions must be at least 1, got ${n}`);
    if (!(partT.rank <= data.rank && partT.shape.every((d, i) => d === data.shape[i]))) {
      throw invalidArgument(`data.shape must start with partitions.shape, got data.shape = ${shapeString(data.shape)}, partitions.shape = ${shapeString(partT.shape)}`);
    }
    const parts = partT.values() as Int32Array;
    const tail = data.shape.slice(partT.rank);
    const w = (isComplex(data.dtype) ? 2 : 1) * tail.reduce((a, b) => a * b, 1);
    const counts = new Array<number>(n).fill(0);
    parts.forEach((p, i) => {
      if (!(p >= 0 && p < n)) throw invalidArgument(`partitions${partT.rank > 1 ? '' : `[${i}]`} = ${p} is not in [0, ${n})`);
      counts[p]++;
    });
    const outs = counts.map((c) => allocHost(data.dtype, c * (w / (isComplex(data.dtype) ? 2 : 1))));
    const filled = new Array<number>(n).fill(0);
    const src = data.values();
    parts.forEach((p, i) => {
      copy(outs[p], filled[p] * w, src, i * w, w);
      filled[p]++;
    });
    return outs.map((o, j) => Tensor.fromHost(data.dtype, [counts[j], ...tail], o));
  },
});

function stitch(ctx: { inputs: Tensor[]; attrs: { int(name: string): number } }, op: string): Tensor[] {
  const n = ctx.attrs.int('N');
  const indices = ctx.inputs.slice(0, n);
  const data = ctx.inputs.slice(n, 2 * n);
  if (data.length !== n) throw invalidArgument(`${op} expects ${n} indices and ${n} data tensors`);
  const dtype = data[0].dtype;
  const tail = data[0].shape.slice(indices[0].rank);
  let max = -1;
  indices.forEach((idx, i) => {
    const d = data[i];
    if (!(idx.rank <= d.rank && idx.shape.every((s, k) => s === d.shape[k]))) {
      throw invalidArgument(`data[${i}].shape = ${shapeString(d.shape)} does not start with indices[${i}].shape = ${shapeString(idx.shape)}`);
    }
    const rest = d.shape.slice(idx.rank);
    if (rest.length !== tail.length || rest.some((s, k) => s !== tail[k])) {
      throw invalidArgument(
        `Need data[0].shape[${indices[0].rank}:] = data[${i}].shape[${idx.rank}:], got data[0].shape = ${shapeString(data[0].shape)}, data[${i}].shape = ${shapeString(d.shape)}, indices[0].shape = ${shapeString(indices[0].shape)}, indices[${i}].shape = ${shapeString(idx.shape)}`,
      );
    }
    for (const v of idx.values() as Int32Array) {
      if (v < 0) throw invalidArgument(`${op}: indices must be non-negative, got ${v}`);
      if (v > max) max = v;
    }
  });
  const outShape = [max + 1, ...tail];
  const size = checkTensorSize(outShape, dtype);
  const out = allocHost(dtype, size);
  const w = (isComplex(dtype) ? 2 : 1) * tail.reduce((a, b) => a * b, 1);
  indices.forEach((idx, i) => {
    const src = data[i].values();
    (idx.values() as Int32Array).forEach((v, k) => copy(out, v * w, src, k * w, w));
  });
  return [Tensor.fromHost(dtype, outShape, out)];
}
register({ op: 'DynamicStitch', kernel: (ctx) => stitch(ctx, 'DynamicStitch') });
register({ op: 'ParallelDynamicStitch', kernel: (ctx) => stitch(ctx, 'ParallelDynamicStitch') });

// ---------------------------------------------------------------------------
register({
  op: 'BatchFunction',
  stateful: true,
  kernel: (ctx) => ctx.functions.call(ctx.attrs.func('f'), ctx.inputs),
});

// ---------------------------------------------------------------------------
register({
  op: 'VariableShape',
  stateful: true,
  kernel: (ctx) => {
    const v = variableOf(ctx.inputs[0], 'VariableShape');
    const shape = v.value ? v.value.shape : v.shape;
    const dtype = ctx.attrs.type('out_type', 'int32');
    return [Tensor.from(dtype, [shape.length], dtype === 'int64' ? shape.map((d) => BigInt(d)) : shape)];
  },
});

register({
  op: 'ResourceGatherNd',
  stateful: true,
  kernel: (ctx) => {
    const value = variableOf(ctx.inputs[0], 'ResourceGatherNd').read();
    return kernelFor('GatherNd')!.kernel({ ...ctx, inputs: [value, ctx.inputs[1]] });
  },
});

for (const [op, combine] of [
  ['ResourceScatterUpdate', undefined],
  ['ResourceScatterAdd', 'AddV2'],
  ['ResourceScatterSub', 'Sub'],
  ['ResourceScatterMul', 'Mul'],
  ['ResourceScatterDiv', 'RealDiv'],
  ['ResourceScatterMin', 'Minimum'],
  ['ResourceScatterMax', 'Maximum'],
] as const) {
  register({
    op,
    stateful: true,
    kernel: (ctx) => {
      const v = variableOf(ctx.inputs[0], op);
      const current = v.read();
      const [, indicesT, updatesT] = ctx.inputs;
      if (updatesT.dtype !== current.dtype) {
        throw invalidArgument(`${op}: updates are ${dtypeShortName(updatesT.dtype)}, the variable is ${dtypeShortName(current.dtype)}`);
      }
      const rows = current.rank === 0 ? 1 : current.shape[0];
      const tail = current.shape.slice(1);
      const expected = [...indicesT.shape, ...tail];
      const scalarUpdate = updatesT.rank === 0;
      if (!scalarUpdate && (updatesT.rank !== expected.length || updatesT.shape.some((d, i) => d !== expected[i]))) {
        throw invalidArgument(
          `Must have updates.shape = indices.shape + params.shape[1:] or updates.shape = [], got updates.shape ${shapeString(updatesT.shape)}, indices.shape ${shapeString(indicesT.shape)}, params.shape ${shapeString(current.shape)}`,
        );
      }
      const w = (isComplex(current.dtype) ? 2 : 1) * tail.reduce((a, b) => a * b, 1);
      const idx = indicesT.numbers();
      // Apply on the host: copy, then per index row: update or combine (via the binary kernel on one row).
      const out = allocHost(current.dtype, current.size);
      const base = current.values();
      copy(out, 0, base, 0, base.length);
      const upd = updatesT.values();
      const binary = combine ? kernelFor(combine)! : undefined;
      idx.forEach((r, k) => {
        if (!(r >= 0 && r < rows)) throw invalidArgument(`indices[${k}] = ${r} is not in [0, ${rows})`);
        let rowVals: HostData;
        if (scalarUpdate) {
          rowVals = allocHost(current.dtype, w / (isComplex(current.dtype) ? 2 : 1));
          for (let j = 0; j < rowVals.length; j++) copy(rowVals, j, upd, 0, 1);
        } else {
          rowVals = allocHost(current.dtype, w / (isComplex(current.dtype) ? 2 : 1));
          copy(rowVals, 0, upd, k * w, w);
        }
        if (binary) {
          const cur = allocHost(current.dtype, w / (isComplex(current.dtype) ? 2 : 1));
          copy(cur, 0, out, r * w, w);
          const res = binary.kernel({ ...ctx, inputs: [Tensor.fromHost(current.dtype, tail, cur), Tensor.fromHost(current.dtype, tail, rowVals)] })[0];
          rowVals = res.values();
        }
        copy(out, r * w, rowVals, 0, w);
      });
      v.assign(Tensor.fromHost(current.dtype, current.shape, out));
      return [];
    },
  });
}

// ---------------------------------------------------------------------------
function inTopK(predT: Tensor, targetsT: Tensor, k: number): Tensor {
  if (predT.rank !== 2) throw invalidArgument(`predictions must be 2-dimensional`);
  if (targetsT.rank !== 1) throw invalidArgument(`targets must be 1-dimensional`);
  const [batch, classes] = predT.shape;
  if (targetsT.shape[0] !== batch) throw invalidArgument(`First dimension of predictions ${batch} must match length of targets ${targetsT.shape[0]}`);
  const p = predT.values() as Float32Array;
  const t = targetsT.numbers();
  const out = new Uint8Array(batch);
  for (let b = 0; b < batch; b++) {
    const target = t[b];
    let ok = target >= 0 && target < classes;
    if (ok) {
      const tv = p[b * classes + target];
      if (!Number.isFinite(tv)) ok = false;
      else {
        let more = 0;
        for (let j = 0; j < classes; j++) if (p[b * classes + j] > tv) more++;
        ok = more < k;
      }
    }
    out[b] = ok ? 1 : 0;
  }
  return Tensor.fromHost('bool', [batch], out);
}
register({
  op: 'InTopKV2',
  kernel: (ctx) => {
    const kT = ctx.inputs[2];
    if (kT.rank !== 0) throw invalidArgument(`k must be 0 D, got shape ${shapeString(kT.shape)}`);
    return [inTopK(ctx.inputs[0], ctx.inputs[1], Number((kT.values() as ArrayLike<number | bigint>)[0]))];
  },
});
register({ op: 'InTopK', kernel: (ctx) => [inTopK(ctx.inputs[0], ctx.inputs[1], ctx.attrs.int('k'))] });

// ---------------------------------------------------------------------------
const INT_BITS: Record<string, number> = { int8: 8, uint8: 8, int16: 16, uint16: 16, int32: 32, uint32: 32, int64: 64, uint64: 64 };

function shift(op: 'LeftShift' | 'RightShift') {
  return (ctx: { inputs: Tensor[] }) => {
    const [x, y] = ctx.inputs;
    const bits = INT_BITS[x.dtype];
    if (!bits || y.dtype !== x.dtype) throw invalidArgument(`${op} expects matching integer inputs, got ${dtypeShortName(x.dtype)} and ${dtypeShortName(y.dtype)}`);
    const outShape = broadcast(x.shape, y.shape, op);
    const size = outShape.reduce((a, b) => a * b, 1);
    const xi = broadcastIndex(x.shape, outShape);
    const yi = broadcastIndex(y.shape, outShape);
    const xv = x.values() as ArrayLike<number | bigint>;
    const yv = y.values() as ArrayLike<number | bigint>;
    const out = allocHost(x.dtype, size) as { [i: number]: number | bigint };
    const signed = !x.dtype.startsWith('u');
    for (let i = 0; i < size; i++) {
      const a = BigInt(xv[xi(i)]);
      // TF clamps the shift to [0, bits - 1].
      const s = BigInt(Math.min(Math.max(Number(yv[yi(i)]), 0), bits - 1));
      let r = op === 'LeftShift' ? a << s : a >> s;
      r = signed ? BigInt.asIntN(bits, r) : BigInt.asUintN(bits, r);
      out[i] = bits === 64 ? r : Number(r);
    }
    return [Tensor.fromHost(x.dtype, outShape, out as unknown as HostData)];
  };
}

function broadcast(a: readonly number[], b: readonly number[], op: string): number[] {
  const n = Math.max(a.length, b.length);
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const da = a[a.length - n + i] ?? 1;
    const db = b[b.length - n + i] ?? 1;
    if (da !== db && da !== 1 && db !== 1) throw invalidArgument(`Incompatible shapes: ${shapeString(a)} vs. ${shapeString(b)} (${op})`);
    out.push(da === 1 ? db : da);
  }
  return out;
}

/** Flat output index → flat input index under broadcasting. */
function broadcastIndex(inShape: readonly number[], outShape: readonly number[]): (i: number) => number {
  const n = outShape.length;
  const padded = [...new Array(n - inShape.length).fill(1), ...inShape];
  const strides = new Array<number>(n);
  let s = 1;
  for (let d = n - 1; d >= 0; d--) {
    strides[d] = padded[d] === 1 ? 0 : s;
    s *= padded[d];
  }
  return (i) => {
    let r = 0;
    for (let d = n - 1; d >= 0; d--) {
      const c = i % outShape[d];
      i = (i - c) / outShape[d];
      r += c * strides[d];
    }
    return r;
  };
}

register({ op: 'LeftShift', kernel: shift('LeftShift') });
register({ op: 'RightShift', kernel: shift('RightShift') });

register({
  op: 'ApproximateEqual',
  kernel: (ctx) => {
    const [x, y] = ctx.inputs;
    if (x.rank !== y.rank || x.shape.some((d, i) => d !== y.shape[i])) {
      throw invalidArgument(`x and y must be of the same shape. x shape: ${shapeString(x.shape)}. y shape: ${shapeString(y.shape)}`);
    }
    const tol = ctx.attrs.float('tolerance', 1e-5);
    const f = x.dtype === 'float64' ? (v: number) => v : Math.fround;
    const xv = x.values() as ArrayLike<number>;
    const yv = y.values() as ArrayLike<number>;
    const out = new Uint8Array(x.size);
    for (let i = 0; i < out.length; i++) out[i] = Math.abs(f(Number(xv[i]) - Number(yv[i]))) < f(tol) ? 1 : 0;
    return [Tensor.fromHost('bool', x.shape, out)];
  },
});

register({ op: 'Timestamp', stateful: true, kernel: () => [Tensor.scalar('float64', Date.now() / 1000)] });

// ---------------------------------------------------------------------------
// Softmax cross entropy: loss = log(sum exp(x - max)) - (x - max)[label]; backprop = softmax - labels.

function xentRows(
  op: string, x: Float32Array | Float64Array, batch: number, classes: number, dbl: boolean,
  label: (b: number, j: number) => number,
): [Float32Array | Float64Array, Float32Array | Float64Array] {
  const r = dbl ? (v: number) => v : Math.fround;
  const loss = dbl ? new Float64Array(batch) : new Float32Array(batch);
  const back = dbl ? new Float64Array(batch * classes) : new Float32Array(batch * classes);
  for (let b = 0; b < batch; b++) {
    let max = -Infinity;
    for (let j = 0; j < classes; j++) max = Math.max(max, x[b * classes + j]);
    let sum = 0;
    for (let j = 0; j < classes; j++) sum = r(sum + r(Math.exp(r(x[b * classes + j] - max))));
    const logSum = r(Math.log(sum));
    let l = 0;
    for (let j = 0; j < classes; j++) {
      const shifted = r(x[b * classes + j] - max);
      const y = label(b, j);
      if (y !== 0) l = r(l + r(y * r(logSum - shifted)));
      back[b * classes + j] = r(r(r(Math.exp(shifted)) / sum) - y);
    }
    loss[b] = l;
  }
  void op;
  return [loss, back];
}

register({
  op: 'SparseSoftmaxCrossEntropyWithLogits',
  outputs: [{ name: 'loss' }, { name: 'backprop' }],
  kernel: (ctx) => {
    const [logits, labelsT] = ctx.inputs;
    if (logits.rank !== 2) throw invalidArgument(`logits must be 2-D, but got shape ${shapeString(logits.shape)}`);
    if (labelsT.rank !== 1) throw invalidArgument(`labels must be 1-D, but got shape ${shapeString(labelsT.shape)}`);
    if (logits.shape[0] !== labelsT.shape[0]) {
      throw invalidArgument(`logits and labels must have the same first dimension, got logits shape ${shapeString(logits.shape)} and labels shape ${shapeString(labelsT.shape)}`);
    }
    if (logits.dtype !== 'float32' && logits.dtype !== 'float64' && logits.dtype !== 'float16' && logits.dtype !== 'bfloat16') {
      throw invalidArgument(`SparseSoftmaxCrossEntropyWithLogits does not support ${dtypeShortName(logits.dtype)} logits`);
    }
    const [batch, classes] = logits.shape;
    if (classes === 0 && batch > 0) throw invalidArgument(`Must have at least one class, but got logits shape ${shapeString(logits.shape)}`);
    const labels = labelsT.numbers();
    labels.forEach((v) => {
      if (!(v >= 0 && v < classes)) throw invalidArgument(`Received a label value of ${v} which is outside the valid range of [0, ${classes}).  Label values: ${labels.join(' ')}`);
    });
    const [loss, back] = xentRows('SparseSoftmaxCrossEntropyWithLogits', logits.values() as Float32Array, batch, classes, logits.dtype === 'float64', (b, j) => (labels[b] === j ? 1 : 0));
    return [Tensor.fromHost(logits.dtype, [batch], loss), Tensor.fromHost(logits.dtype, [batch, classes], back)];
  },
});

register({
  op: 'SoftmaxCrossEntropyWithLogits',
  outputs: [{ name: 'loss' }, { name: 'backprop' }],
  kernel: (ctx) => {
    const [logits, labelsT] = ctx.inputs;
    if (logits.rank !== 2 || labelsT.rank !== 2) {
      throw invalidArgument(`logits and labels must be either 2-dimensional, or broadcasted to be 2-dimensional`);
    }
    const shape = broadcast(logits.shape, labelsT.shape, 'SoftmaxCrossEntropyWithLogits');
    const [batch, classes] = shape;
    const xi = broadcastIndex(logits.shape, shape);
    const yi = broadcastIndex(labelsT.shape, shape);
    const xs = logits.values() as Float32Array;
    const x = logits.dtype === 'float64' ? new Float64Array(batch * classes) : new Float32Array(batch * classes);
    for (let i = 0; i < x.length; i++) x[i] = xs[xi(i)];
    const ys = labelsT.values() as Float32Array;
    const [loss, back] = xentRows('SoftmaxCrossEntropyWithLogits', x, batch, classes, logits.dtype === 'float64', (b, j) => ys[yi(b * classes + j)]);
    return [Tensor.fromHost(logits.dtype, [batch], loss), Tensor.fromHost(logits.dtype, [batch, classes], back)];
  },
});

// ---------------------------------------------------------------------------
register({
  op: 'HistogramFixedWidth',
  kernel: (ctx) => {
    const [valuesT, rangeT, nbinsT] = ctx.inputs;
    if (rangeT.rank !== 1) throw invalidArgument('value_range should be a vector.');
    if (rangeT.shape[0] !== 2) throw invalidArgument('value_range should be a vector of 2 elements.');
    if (nbinsT.rank !== 0) throw invalidArgument('nbins should be a scalar.');
    const nbins = Number((nbinsT.values() as ArrayLike<number | bigint>)[0]);
    if (!(nbins > 0)) throw invalidArgument(`nbins should be a positive number, but got '${nbins}'`);
    checkTensorSize([nbins], 'int64');
    const range = rangeT.values() as ArrayLike<number | bigint>;
    const lo = Number(range[0]);
    const hi = Number(range[1]);
    if (!(lo < hi)) throw invalidArgument(`value_range should satisfy value_range[0] < value_range[1], but got '[${lo}, ${hi}]'`);
    const width = valuesT.dtype === 'float32' ? Math.fround(Math.fround(hi) - Math.fround(lo)) : hi - lo;
    const step = width / nbins;
    const counts = new Array<number>(nbins).fill(0);
    const vals = valuesT.values() as ArrayLike<number | bigint>;
    for (let i = 0; i < vals.length; i++) {
      const v = Number(vals[i]);
      if (Number.isNaN(v)) throw invalidArgument('Histogram values must not contain NaN');
      // Clamped to [lo, hi] in T, then (double(v) - double(lo)) / step.
      const bin = Math.trunc(Math.min((Math.min(Math.max(v, lo), hi) - lo) / step, nbins - 1));
      counts[bin]++;
    }
    const dtype = ctx.attrs.type('dtype', 'int32');
    return [Tensor.from(dtype, [nbins], dtype === 'int64' ? counts.map((c) => BigInt(c)) : counts)];
  },
});

// ---------------------------------------------------------------------------
register({
  op: 'CumulativeLogsumexp',
  kernel: (ctx) => {
    const [x, axisT] = ctx.inputs;
    if (axisT.rank !== 0) throw invalidArgument(`axis must be a scalar, but is ${shapeString(axisT.shape)}`);
    let axis = Number((axisT.values() as ArrayLike<number | bigint>)[0]);
    if (!(axis >= -x.rank && axis < x.rank)) throw invalidArgument(`ScanOp: Expected scan axis in the range [${-x.rank}, ${x.rank}), but got ${axis}`);
    if (axis < 0) axis += x.rank;
    if (!['float32', 'float64', 'float16', 'bfloat16'].includes(x.dtype)) throw invalidArgument(`CumulativeLogsumexp does not support ${dtypeShortName(x.dtype)}`);
    const exclusive = ctx.attrs.bool('exclusive', false);
    const reverse = ctx.attrs.bool('reverse', false);
    const r = x.dtype === 'float64' ? (v: number) => v : Math.fround;
    const lse = (a: number, b: number) => {
      if (a === -Infinity) return b;
      if (b === -Infinity) return a;
      const mi = Math.min(a, b);
      const ma = Math.max(a, b);
      return r(ma + r(Math.log1p(r(Math.exp(r(mi - ma))))));
    };
    const src = x.values() as Float32Array;
    const out = allocHost(x.dtype, x.size) as Float32Array;
    const len = x.shape[axis];
    const inner = x.shape.slice(axis + 1).reduce((a, b) => a * b, 1);
    const outer = x.size / Math.max(1, len * inner);
    for (let o = 0; o < outer; o++) {
      for (let i = 0; i < inner; i++) {
        let acc = -Infinity;
        for (let k = 0; k < len; k++) {
          const kk = reverse ? len - 1 - k : k;
          const at = (o * len + kk) * inner + i;
          if (exclusive) {
            out[at] = acc;
            acc = lse(acc, src[at]);
          } else {
            acc = lse(acc, src[at]);
            out[at] = acc;
          }
        }
      }
    }
    return [Tensor.fromHost(x.dtype, x.shape, out)];
  },
});

// ---------------------------------------------------------------------------
// Optionals (optional_ops.cc): a scalar variant holding the components, or none.
interface OptionalValue {
  readonly optional: true;
  readonly components: Tensor[] | undefined;
}
function optionalOf(t: Tensor, op: string): OptionalValue {
  const v = t.dtype === 'variant' ? ((t.values() as unknown[])[0] as OptionalValue | undefined) : undefined;
  if (!v || v.optional !== true) throw invalidArgument(`${op}: input must be a scalar variant tensor holding an Optional`);
  return v;
}
register({
  op: 'OptionalFromValue',
  kernel: (ctx) => {
    // The components outlive the While iteration that stored them (loop_scope.ts).
    for (const t of ctx.inputs) retainBeyondIteration(t);
    return [Tensor.scalar('variant', { optional: true, components: [...ctx.inputs] })];
  },
});
register({ op: 'OptionalNone', kernel: () => [Tensor.scalar('variant', { optional: true, components: undefined })] });
register({ op: 'OptionalHasValue', kernel: (ctx) => [Tensor.scalar('bool', optionalOf(ctx.inputs[0], 'OptionalHasValue').components !== undefined)] });
register({
  op: 'OptionalGetValue',
  outputs: [{ name: 'components', count: (a) => a.types('output_types').length }],
  kernel: (ctx) => {
    const o = optionalOf(ctx.inputs[0], 'OptionalGetValue');
    if (!o.components) throw invalidArgument('The optional does not have a value');
    const types = ctx.attrs.types('output_types');
    if (types.length !== o.components.length || types.some((t, i) => t !== o.components![i].dtype)) {
      throw invalidArgument(`Input optional's components are ${o.components.map((c) => dtypeShortName(c.dtype)).join(', ')}, expected ${types.map(dtypeShortName).join(', ')}`);
    }
    return o.components;
  },
});

// ---------------------------------------------------------------------------
// DataFormatDimMap / DataFormatVecPermute (data_format_ops.cc)
function formats(ctx: KernelContext): [string, string] {
  const src = ctx.attrs.string('src_format', 'NHWC');
  const dst = ctx.attrs.string('dst_format', 'NCHW');
  if (src.length !== dst.length || (src.length !== 4 && src.length !== 5) || [...src].sort().join('') !== [...dst].sort().join('')) {
    throw invalidArgument(`Destination and source format must be permutations of each other with 4 or 5 letters, got src_format ${src} and dst_format ${dst}`);
  }
  return [src, dst];
}
register({
  op: 'DataFormatDimMap',
  kernel: (ctx) => {
    const [src, dst] = formats(ctx);
    const x = ctx.inputs[0];
    const n = src.length;
    const v = x.numbers().map((d) => dst.indexOf(src[((d % n) + n) % n]));
    return [Tensor.from(x.dtype, x.shape, x.dtype === 'int64' ? v.map((d) => BigInt(d)) : v)];
  },
});
register({
  op: 'DataFormatVecPermute',
  kernel: (ctx) => {
    let [src, dst] = formats(ctx);
    const x = ctx.inputs[0];
    const first = x.shape[0];
    if (!((x.rank === 1 && (first === src.length || first === src.length - 2)) || (x.rank === 2 && (first === src.length || first === src.length - 2) && x.shape[1] === 2))) {
      throw invalidArgument(`input must be a vector or 2D tensor with ${src.length} or ${src.length - 2} rows (and 2 columns), but got shape ${shapeString(x.shape)}`);
    }
    if (first === src.length - 2) {
      // Spatial dimensions only.
      src = [...src].filter((c) => c !== 'N' && c !== 'C').join('');
      dst = [...dst].filter((c) => c !== 'N' && c !== 'C').join('');
    }
    const w = x.rank === 2 ? 2 : 1;
    const v = x.values() as ArrayLike<number | bigint>;
    const out = allocHost(x.dtype, x.size) as unknown as { [i: number]: number | bigint };
    for (let i = 0; i < first; i++) {
      const from = src.indexOf(dst[i]);
      for (let k = 0; k < w; k++) out[i * w + k] = v[from * w + k];
    }
    return [Tensor.fromHost(x.dtype, x.shape, out as unknown as HostData)];
  },
});

// ---------------------------------------------------------------------------
// BroadcastGradientArgs (bcast_ops.cc): the axes each input's gradient sums over.
register({
  op: 'BroadcastGradientArgs',
  outputs: [{ name: 'r0' }, { name: 'r1' }],
  kernel: (ctx) => {
    const [s0T, s1T] = ctx.inputs;
    const s0 = s0T.numbers();
    const s1 = s1T.numbers();
    const n = Math.max(s0.length, s1.length);
    const a = [...new Array(n - s0.length).fill(1), ...s0];
    const b = [...new Array(n - s1.length).fill(1), ...s1];
    const r0: number[] = [];
    const r1: number[] = [];
    for (let i = 0; i < n; i++) {
      if (a[i] === b[i]) {
        if (a[i] === 1) {
          r0.push(i);
          r1.push(i);
        }
      } else if (a[i] === 1) r0.push(i);
      else if (b[i] === 1) r1.push(i);
      else throw invalidArgument(`Incompatible shapes: ${shapeString(s0)} vs. ${shapeString(s1)}`);
    }
    const t = s0T.dtype;
    const mk = (r: number[]) => Tensor.from(t, [r.length], t === 'int64' ? r.map((d) => BigInt(d)) : r);
    return [mk(r0), mk(r1)];
  },
});

// ---------------------------------------------------------------------------
// EditDistance (edit_distance_op.cc): Levenshtein distance per sequence of two SparseTensors.
register({
  op: 'EditDistance',
  kernel: (ctx) => {
    const [hi, hv, hs, ti, tv, ts] = ctx.inputs;
    const normalize = ctx.attrs.bool('normalize', true);
    const hShape = hs.numbers();
    const tShape = ts.numbers();
    if (hShape.length !== tShape.length) {
      throw invalidArgument(`hypothesis_shape and truth_shape must have the same rank; got ${hShape.length} and ${tShape.length}`);
    }
    if (hShape.length < 2) throw invalidArgument(`hypothesis and truth must have rank of at least 2`);
    for (const [i, v, s, name] of [[hi, hv, hShape, 'hypothesis'], [ti, tv, tShape, 'truth']] as const) {
      if (i.rank !== 2 || i.shape[1] !== s.length || i.shape[0] !== v.size) throw invalidArgument(`${name}_indices, ${name}_values and ${name}_shape do not form a valid SparseTensor`);
    }
    const rank = hShape.length;
    const outShape = hShape.slice(0, -1).map((d, i) => Math.max(d, tShape[i]));
    const size = checkTensorSize(outShape, 'float32');
    const group = (iT: Tensor, vT: Tensor) => {
      const idx = iT.numbers();
      const vals = vT.values() as ArrayLike<unknown>;
      const m = new Map<number, unknown[]>();
      for (let k = 0; k < vT.size; k++) {
        let flat = 0;
        for (let d = 0; d < rank - 1; d++) {
          const c = idx[k * rank + d];
          if (!(c >= 0 && c < outShape[d])) throw invalidArgument(`index ${c} is out of bounds for dimension ${d}`);
          flat = flat * outShape[d] + c;
        }
        let seq = m.get(flat);
        if (!seq) m.set(flat, (seq = []));
        const e = vals[k];
        seq.push(e instanceof Uint8Array ? Buffer.from(e).toString('latin1') : e);
      }
      return m;
    };
    const hyp = group(hi, hv);
    const truth = group(ti, tv);
    const out = new Float32Array(size);
    for (let r = 0; r < size; r++) {
      const a = hyp.get(r) ?? [];
      const b = truth.get(r) ?? [];
      let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
      for (let i = 1; i <= a.length; i++) {
        const cur = [i];
        for (let j = 1; j <= b.length; j++) cur.push(Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1)));
        prev = cur;
      }
      const dist = prev[b.length];
      out[r] = normalize ? (b.length === 0 ? (dist === 0 ? Number.NaN : Infinity) : dist / b.length) : dist;
    }
    return [Tensor.fromHost('float32', outShape, out)];
  },
});
