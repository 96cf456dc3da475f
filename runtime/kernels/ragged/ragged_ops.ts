/**
 * Ragged kernels over (nested row splits, flat values):
 * RaggedRange, RaggedGather, and RaggedTensorToVariant /
 * RaggedTensorFromVariant (a ragged tensor packed into variant elements, as
 * map_fn and TensorLists carry them). Semantics of
 * tensorflow/core/kernels/ragged_{range,gather,tensor_to_variant,tensor_from_variant}_op.cc.
 */
import type { DType } from '../../dtypes.js';
import { invalidArgument } from '../../errors.js';
import { allocHost, sizeOf, Tensor } from '../../tensor.js';
import { registerKernel } from '../registry.js';

function splitsTensor(dtype: DType, values: number[]): Tensor {
  const data = allocHost(dtype, values.length) as Int32Array | BigInt64Array;
  values.forEach((v, i) => (data instanceof BigInt64Array ? (data[i] = BigInt(v)) : (data[i] = v)));
  return Tensor.fromHost(dtype, [values.length], data);
}

/** Rows [from, to) of `t` (along dimension 0), in order, concatenated for each range. */
function gatherRows(t: Tensor, ranges: [number, number][]): Tensor {
  const inner = sizeOf(t.shape.slice(1));
  const src = t.values() as ArrayLike<unknown>;
  let rows = 0;
  for (const [a, b] of ranges) rows += b - a;
  const out = allocHost(t.dtype, rows * inner) as unknown[];
  let o = 0;
  for (const [a, b] of ranges) for (let i = a * inner; i < b * inner; i++) out[o++] = src[i];
  return Tensor.fromHost(t.dtype, [rows, ...t.shape.slice(1)], out as never);
}

registerKernel({
  op: 'RaggedRange',
  outputs: [{ name: 'rt_nested_splits' }, { name: 'rt_dense_values' }],
  kernel: (ctx) => {
    const [startsT, limitsT, deltasT] = ctx.inputs;
    for (const t of [startsT, limitsT, deltasT]) if (t.rank > 1) throw invalidArgument('starts, limits and deltas must be scalars or vectors');
    const n = Math.max(startsT.size * Math.min(1, startsT.rank), limitsT.size * Math.min(1, limitsT.rank), deltasT.size * Math.min(1, deltasT.rank), startsT.rank + limitsT.rank + deltasT.rank === 0 ? 1 : 0);
    const vectors = [startsT, limitsT, deltasT].filter((t) => t.rank === 1);
    if (vectors.some((t) => t.size !== vectors[0].size)) throw invalidArgument('starts, limits, and deltas must have the same shape');
    const pick = (t: Tensor, i: number) => t.numbers()[t.rank === 0 ? 0 : i];
    const dtype = startsT.dtype;
    const isInt = dtype !== 'float32' && dtype !== 'float64';
    const splits = [0];
    const values: number[] = [];
    for (let i = 0; i < n; i++) {
      const start = pick(startsT, i);
      const limit = pick(limitsT, i);
      const delta = pick(deltasT, i);
      if (delta === 0) throw invalidArgument('Requires delta != 0');
      const size = isInt
        ? Math.max(0, delta > 0 ? Math.floor((limit - start + delta - 1) / delta) : Math.floor((start - limit - delta - 1) / -delta))
        : Math.max(0, Math.ceil((limit - start) / delta));
      for (let k = 0; k < size; k++) values.push(start + k * delta);
      splits.push(splits[splits.length - 1] + size);
    }
    const out = allocHost(dtype, values.length) as unknown[];
    values.forEach((v, i) => (out[i] = dtype === 'int64' ? BigInt(v) : v));
    return [splitsTensor(ctx.attrs.type('Tsplits', 'int64'), splits), Tensor.fromHost(dtype, [values.length], out as never)];
  },
});

registerKernel({
  op: 'RaggedGather',
  outputs: [
    { name: 'output_nested_splits', count: (a) => a.int('OUTPUT_RAGGED_RANK') },
    { name: 'output_dense_values' },
  ],
  kernel: (ctx) => {
    const paramsRank = ctx.attrs.int('PARAMS_RAGGED_RANK');
    const splitsIn = ctx.inputs.slice(0, paramsRank).map((t) => t.numbers());
    const dense = ctx.inputs[paramsRank];
    const indicesT = ctx.inputs[paramsRank + 1];
    const splitsDtype = ctx.inputs[0].dtype;
    const indices = indicesT.numbers();
    const nrows = splitsIn[0].length - 1;
    const outSplits: number[][] = [];
    // Leading dimensions of a multi-dimensional `indices` become uniform ragged levels.
    for (let d = 1; d < indicesT.rank; d++) {
      const outer = sizeOf(indicesT.shape.slice(0, d));
      const width = indicesT.shape[d];
      outSplits.push(Array.from({ length: outer + 1 }, (_, i) => i * width));
    }
    let ranges: [number, number][] = indices.map((ix, i) => {
      if (ix < 0 || ix >= nrows) throw invalidArgument(`indices[${i}] = ${ix} is not in [0, ${nrows})`);
      return [ix, ix + 1];
    });
    for (const splits of splitsIn) {
      const level = [0];
      const next: [number, number][] = [];
      for (const [a, b] of ranges) {
        for (let r = a; r < b; r++) level.push(level[level.length - 1] + splits[r + 1] - splits[r]);
        next.push([splits[a], splits[b]]);
      }
      outSplits.push(level);
      ranges = next;
    }
    return [...outSplits.map((s) => splitsTensor(splitsDtype, s)), gatherRows(dense, ranges)];
  },
});

/** A ragged tensor as one variant element carries it. */
interface RaggedValue {
  splits: Tensor[];
  values: Tensor;
}

registerKernel({
  op: 'RaggedTensorToVariant',
  kernel: (ctx) => {
    const rank = ctx.attrs.int('RAGGED_RANK');
    const splits = ctx.inputs.slice(0, rank);
    const values = ctx.inputs[rank];
    if (!ctx.attrs.bool('batched_input', false)) {
      const whole: RaggedValue = { splits: splits.map((s) => s.clone().keep()), values: values.clone().keep() };
      return [Tensor.scalar('variant', whole)];
    }
    if (rank === 0) throw invalidArgument('batched_input requires a ragged rank of at least 1');
    // One element per row of the outermost dimension, its splits rebased to 0.
    const levels = splits.map((s) => s.numbers());
    const rows = levels[0].length - 1;
    const out: RaggedValue[] = [];
    for (let r = 0; r < rows; r++) {
      let [a, b] = [levels[0][r], levels[0][r + 1]];
      const rowSplits: Tensor[] = [];
      for (let l = 1; l < levels.length; l++) {
        const part = levels[l].slice(a, b + 1).map((v) => v - levels[l][a]);
        rowSplits.push(splitsTensor(splits[l].dtype, part).keep());
        [a, b] = [levels[l][a], levels[l][b]];
      }
      out.push({ splits: rowSplits, values: gatherRows(values, [[a, b]]).keep() });
    }
    return [Tensor.fromHost('variant', [rows], out)];
  },
});

registerKernel({
  op: 'RaggedTensorFromVariant',
  outputs: [{ name: 'output_nested_splits', count: (a) => a.int('output_ragged_rank') }, { name: 'output_dense_values' }],
  kernel: (ctx) => {
    const encoded = ctx.inputs[0];
    const outputRank = ctx.attrs.int('output_ragged_rank');
    // -1: inferred from the encoded tensor's rank.
    const declared = ctx.attrs.int('input_ragged_rank');
    const inputRank = declared === -1 ? outputRank - encoded.rank : declared;
    const splitsDtype = ctx.attrs.type('Tsplits', 'int64');
    if (outputRank !== inputRank + encoded.rank) {
      throw invalidArgument(`output_ragged_rank (${outputRank}) must equal input_ragged_rank (${inputRank}) plus the encoded tensor's rank (${encoded.rank})`);
    }
    const parts = encoded.values() as RaggedValue[];
    for (const p of parts) {
      if (!p || !Array.isArray(p.splits) || p.splits.length !== inputRank) throw invalidArgument(`Encoded ragged tensors must have ragged rank ${inputRank}`);
    }
    const outSplits: number[][] = [];
    for (let d = 1; d < encoded.rank; d++) {
      const outer = sizeOf(encoded.shape.slice(0, d));
      outSplits.push(Array.from({ length: outer + 1 }, (_, i) => i * encoded.shape[d]));
    }
    if (encoded.rank > 0) {
      const level = [0];
      for (const p of parts) level.push(level[level.length - 1] + (inputRank > 0 ? p.splits[0].size - 1 : p.values.shape[0]));
      outSplits.push(level);
    }
    for (let l = 0; l < inputRank; l++) {
      const level = [0];
      for (const p of parts) {
        const s = p.splits[l].numbers();
        const base = level[level.length - 1];
        for (let i = 1; i < s.length; i++) level.push(base + s[i]);
      }
      outSplits.push(level);
    }
    const valueDtype = ctx.attrs.type('Tvalues');
    let values: Tensor;
    if (parts.length === 0) {
      values = Tensor.fromHost(valueDtype, [0], allocHost(valueDtype, 0));
    } else {
      const inner = parts[0].values.shape.slice(1);
      values = gatherRowsMany(parts.map((p) => p.values), valueDtype, inner);
    }
    return [...outSplits.map((s) => splitsTensor(splitsDtype, s)), values];
  },
});

function gatherRowsMany(parts: Tensor[], dtype: DType, inner: readonly number[]): Tensor {
  const per = sizeOf(inner);
  let rows = 0;
  for (const p of parts) {
    if (p.dtype !== dtype) throw invalidArgument(`Expected encoded values of type ${dtype}, got ${p.dtype}`);
    rows += p.shape[0];
  }
  const out = allocHost(dtype, rows * per) as unknown[];
  let o = 0;
  for (const p of parts) {
    const src = p.values() as ArrayLike<unknown>;
    for (let i = 0; i < p.size; i++) out[o++] = src[i];
  }
  return Tensor.fromHost(dtype, [rows, ...inner], out as never);
}
