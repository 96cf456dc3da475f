/**
 * Ordering and de-duplication: TopKV2 / TopK (values and indices; ties
 * keep the lower index first, as TF's stable sort does), Unique, UniqueV2,
 * UniqueWithCounts, UniqueWithCountsV2 (first-occurrence order, any dtype
 * including strings and int64) and InvertPermutation. All run on the host:
 * they need the values anyway and their outputs are small.
 */
import type { DType } from '../dtypes.js';
import { invalidArgument } from '../errors.js';
import { Tensor } from '../tensor.js';
import { intVector } from './array_basic.js';
import { composeMap, dbg, elementWidth, readInts, stridesOf, takeFlat, takeHost } from './array_util.js';
import { registerKernel, type KernelContext } from './registry.js';

function topK(input: Tensor, k: number, indexType: DType): Tensor[] {
  if (k < 0) throw invalidArgument(`Need k >= 0, got ${k}`);
  if (input.rank < 1) throw invalidArgument(`input must be >= 1-D, got shape ${dbg(input.shape)}`);
  const cols = input.shape[input.rank - 1];
  if (cols < k) throw invalidArgument(`input must have at least k columns. Had ${cols}, needed ${k}`);
  const outShape = [...input.shape.slice(0, -1), k];
  const rows = cols === 0 ? 0 : input.size / cols;
  const map = new Int32Array(rows * k);
  const positions: number[] = new Array(rows * k);
  if (rows * k > 0) {
    const v = input.values() as ArrayLike<number | bigint>;
    const order = new Array<number>(cols);
    for (let r = 0; r < rows; r++) {
      const base = r * cols;
      for (let c = 0; c < cols; c++) order[c] = c;
      order.sort((a, b) => {
        const va = v[base + a];
        const vb = v[base + b];
        if (va > vb) return -1;
        if (va < vb) return 1;
        return a - b;
      });
      for (let j = 0; j < k; j++) {
        map[r * k + j] = base + order[j];
        positions[r * k + j] = order[j];
      }
    }
  }
  const values = Tensor.fromHost(input.dtype, outShape, takeHost(input.dtype, input.values(), map));
  const indices = intVector(indexType, positions.slice(0, rows * k)).reshape(outShape);
  return [values, indices];
}

registerKernel({
  op: 'TopKV2',
  outputs: [{ name: 'values' }, { name: 'indices' }],
  kernel: (ctx) => {
    const [input, kT] = ctx.inputs;
    if (kT.rank !== 0) throw invalidArgument(`k must be scalar, got shape ${dbg(kT.shape)}`);
    return topK(input, readInts(kT, 'k')[0], ctx.attrs.type('index_type', 'int32'));
  },
});

registerKernel({
  op: 'TopK',
  outputs: [{ name: 'values' }, { name: 'indices' }],
  kernel: (ctx) => topK(ctx.inputs[0], ctx.attrs.int('k'), 'int32'),
});

/** A Map key identifying one element's value (NaN never equals anything, like C++ ==). */
function elementKeys(t: Tensor): Array<unknown> {
  const v = t.values() as unknown as ArrayLike<unknown>;
  const n = t.size;
  const keys = new Array<unknown>(n);
  if (t.dtype === 'string') {
    for (let i = 0; i < n; i++) {
      const b = v[i] as Uint8Array;
      keys[i] = Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('latin1');
    }
  } else if (elementWidth(t.dtype) === 2) {
    for (let i = 0; i < n; i++) keys[i] = `${v[2 * i]},${v[2 * i + 1]}`;
  } else {
    for (let i = 0; i < n; i++) {
      const x = v[i];
      keys[i] = typeof x === 'number' && x !== x ? Symbol('nan') : x;
    }
  }
  return keys;
}

interface UniqueResult {
  y: Tensor;
  idx: number[];
  counts: number[];
}

/** Unique slices of `x` along `axis` (a 1-D x with axis 0 is the classic Unique). */
function uniqueAlong(x: Tensor, axis: number): UniqueResult {
  const keys = elementKeys(x);
  const dim = x.shape[axis];
  const before = x.shape.slice(0, axis).reduce((a, b) => a * b, 1);
  const after = x.shape.slice(axis + 1).reduce((a, b) => a * b, 1);
  const seen = new Map<unknown, number>();
  const firsts: number[] = [];
  const counts: number[] = [];
  const idx = new Array<number>(dim);
  for (let j = 0; j < dim; j++) {
    let key: unknown;
    if (before === 1 && after === 1) {
      key = keys[j];
    } else {
      const parts: unknown[] = [];
      for (let b = 0; b < before; b++) for (let a = 0; a < after; a++) parts.push(keys[(b * dim + j) * after + a]);
      key = parts.some((p) => typeof p === 'symbol') ? Symbol('nan') : JSON.stringify(parts, (_, p) => (typeof p === 'bigint' ? `${p}n` : p));
    }
    let u = seen.get(key);
    if (u === undefined) {
      u = firsts.length;
      seen.set(key, u);
      firsts.push(j);
      counts.push(0);
    }
    idx[j] = u;
    counts[u]++;
  }
  const outShape = [...x.shape];
  outShape[axis] = firsts.length;
  const st = stridesOf(x.shape);
  const offsets = outShape.map((len, d) => {
    const o = new Int32Array(len);
    for (let i = 0; i < len; i++) o[i] = (d === axis ? firsts[i] : i) * st[d];
    return o;
  });
  const y = takeFlat(x, outShape, composeMap(outShape, offsets));
  return { y, idx, counts };
}

function uniqueKernel(withAxis: boolean, withCounts: boolean) {
  return (ctx: KernelContext): Tensor[] => {
    const x = ctx.inputs[0];
    const outIdx = ctx.attrs.type('out_idx', 'int32');
    let axis = 0;
    const axisT = withAxis ? ctx.inputs[1] : undefined;
    if (axisT && axisT.size > 0) {
      if (axisT.dtype !== 'int32' && axisT.dtype !== 'int64') {
        throw invalidArgument(`axis tensor should be int32 or int64, but got ${axisT.dtype}`);
      }
      if (axisT.size !== 1) {
        throw invalidArgument(`Only support one axis, but got ${axisT.size} axes.`);
      }
      axis = readInts(axisT, 'axis')[0];
      if (axis < 0) axis += x.rank;
      if (!(axis >= 0 && axis < x.rank)) throw invalidArgument(`axis has to be between [0, ${x.rank})`);
    } else if (x.rank !== 1) {
      throw invalidArgument('unique expects a 1D vector.');
    }
    const { y, idx, counts } = uniqueAlong(x, axis);
    const out = [y, intVector(outIdx, idx)];
    if (withCounts) out.push(intVector(outIdx, counts));
    return out;
  };
}

registerKernel({ op: 'Unique', outputs: [{ name: 'y' }, { name: 'idx' }], kernel: uniqueKernel(false, false) });
registerKernel({ op: 'UniqueV2', outputs: [{ name: 'y' }, { name: 'idx' }], kernel: uniqueKernel(true, false) });
registerKernel({
  op: 'UniqueWithCounts',
  outputs: [{ name: 'y' }, { name: 'idx' }, { name: 'count' }],
  kernel: uniqueKernel(false, true),
});
registerKernel({
  op: 'UniqueWithCountsV2',
  outputs: [{ name: 'y' }, { name: 'idx' }, { name: 'count' }],
  kernel: uniqueKernel(true, true),
});

registerKernel({
  op: 'InvertPermutation',
  kernel: (ctx) => {
    const x = ctx.inputs[0];
    if (x.rank !== 1) throw invalidArgument('invert_permutation expects a 1D vector.');
    const p = readInts(x, 'x');
    const n = p.length;
    const out = new Array<number>(n).fill(-1);
    for (let i = 0; i < n; i++) {
      const d = p[i];
      if (!(d >= 0 && d < n)) throw invalidArgument(`${d} is not between 0 and ${n}`);
      if (out[d] !== -1) throw invalidArgument(`${d} is duplicated in the input.`);
      out[d] = i;
    }
    return [intVector(x.dtype, out)];
  },
});
