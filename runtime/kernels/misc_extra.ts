/**
 * More ops TF users' SavedModels contain, beyond the tfjs-converter list:
 *  - DynamicPartition, DynamicStitch, ParallelDynamicStitch
 *    (dynamic_partition_op.cc, dynamic_stitch_op.cc);
 *  - BatchFunction (batch_kernels.cc): runs `f` on the inputs (this runtime
 *    batches requests before the graph, so the in-graph batcher is a call);
 *  - VariableShape, ResourceGatherNd, ResourceScatterUpdate/Add/Sub/Mul/Div/
 *    Min/Max (resource_variable_ops.cc);
 *  - InTopKV2 / InTopK (in_topk_op.cc), LeftShift / RightShift (cwise_ops),
 *    ApproximateEqual, Timestamp.
 * Each is registered only if no other family registered it first.
 */
import { dtypeShortName } from '../dtypes.js';
import { invalidArgument } from '../errors.js';
import { checkTensorSize } from '../limits.js';
import { allocHost, shapeString, Tensor, type HostData } from '../tensor.js';
import { kernelFor, registerKernel, type KernelDef } from './registry.js';
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
