/**
 * Segment reductions (tensorflow/core/kernels/segment_reduction_ops_impl.h):
 * SegmentSum/Mean/Max/Min/Prod (sorted ids), UnsortedSegmentSum/Max/Min/Prod
 * (any ids, `num_segments` rows, negative ids dropped), and
 * SparseSegmentSum/Mean/SqrtN (+WithNumSegments: rows of `data` picked by
 * `indices`). Host loops over rows of the inner size. An empty segment holds
 * TF's identity: 0 for sums and means, 1 for products; for max and min the
 * dtype's lowest/highest value in the unsorted ops and 0 in the sorted ones.
 */
import type { DType } from '../dtypes.js';
import { invalidArgument } from '../errors.js';
import { allocHost, sizeOf, Tensor } from '../tensor.js';
import { registerKernel } from './registry.js';

type Reduce = 'sum' | 'mean' | 'max' | 'min' | 'prod' | 'sqrt_n';

const FLOAT_MAX: Partial<Record<DType, number>> = { float32: 3.4028234663852886e38, float64: Number.MAX_VALUE, float16: 65504, bfloat16: 3.3895313892515355e38 };
const INT_RANGE: Partial<Record<DType, [number, number]>> = {
  int32: [-2147483648, 2147483647],
  int16: [-32768, 32767],
  int8: [-128, 127],
  uint8: [0, 255],
  uint16: [0, 65535],
  uint32: [0, 4294967295],
};

function identity(op: Reduce, dtype: DType): number | bigint {
  const big = dtype === 'int64' || dtype === 'uint64';
  if (op === 'prod') return big ? 1n : 1;
  if (op === 'max' || op === 'min') {
    const lowest = op === 'max';
    if (dtype === 'int64') return lowest ? -(1n << 63n) : (1n << 63n) - 1n;
    if (dtype === 'uint64') return lowest ? 0n : (1n << 64n) - 1n;
    const f = FLOAT_MAX[dtype];
    if (f !== undefined) return lowest ? -f : f;
    const r = INT_RANGE[dtype]!;
    return lowest ? r[0] : r[1];
  }
  return big ? 0n : 0;
}

function combine(op: Reduce, a: number | bigint, b: number | bigint): number | bigint {
  switch (op) {
    case 'max':
      return b > a ? b : a;
    case 'min':
      return b < a ? b : a;
    case 'prod':
      return typeof a === 'bigint' ? BigInt.asIntN(64, a * (b as bigint)) : a * (b as number);
    default:
      return typeof a === 'bigint' ? BigInt.asIntN(64, a + (b as bigint)) : a + (b as number);
  }
}

/**
 * Reduces rows of `data` (each `inner` elements) into `segments` output rows:
 * `contributions(emit)` calls emit(segment, dataRow) for every pair.
 */
function reduceRows(
  op: Reduce,
  data: Tensor,
  inner: number,
  segments: number,
  outShape: number[],
  contributions: (emit: (seg: number, row: number) => void) => void,
  emptyIsZero = false,
): Tensor {
  const src = data.values() as ArrayLike<number | bigint>;
  const acc = new Array<number | bigint>(segments * inner);
  const counts = new Int32Array(segments);
  const init = identity(op === 'mean' || op === 'sqrt_n' ? 'sum' : op, data.dtype);
  acc.fill(init);
  contributions((seg, row) => {
    counts[seg]++;
    const o = seg * inner;
    const s = row * inner;
    for (let e = 0; e < inner; e++) acc[o + e] = combine(op, acc[o + e], src[s + e]);
  });
  if (emptyIsZero && (op === 'max' || op === 'min')) {
    const zero = typeof init === 'bigint' ? 0n : 0;
    for (let seg = 0; seg < segments; seg++) if (counts[seg] === 0) acc.fill(zero, seg * inner, (seg + 1) * inner);
  }
  if (op === 'mean' || op === 'sqrt_n') {
    for (let seg = 0; seg < segments; seg++) {
      const n = counts[seg];
      if (n === 0) continue;
      const div = op === 'mean' ? n : Math.sqrt(n);
      for (let e = 0; e < inner; e++) {
        const v = acc[seg * inner + e];
        acc[seg * inner + e] = typeof v === 'bigint' ? v / BigInt(n) : INT_RANGE[data.dtype] ? Math.trunc(v / div) : v / div;
      }
    }
  }
  const out = allocHost(data.dtype, acc.length) as unknown as (number | bigint)[];
  for (let i = 0; i < acc.length; i++) out[i] = acc[i];
  return Tensor.fromHost(data.dtype, outShape, out as never);
}

const innerOf = (t: Tensor, from: number) => sizeOf(t.shape.slice(from));

for (const [op, reduce] of [
  ['SegmentSum', 'sum'],
  ['SegmentMean', 'mean'],
  ['SegmentMax', 'max'],
  ['SegmentMin', 'min'],
  ['SegmentProd', 'prod'],
] as const) {
  registerKernel({
    op,
    kernel: (ctx) => {
      const [data, idsT] = ctx.inputs;
      if (idsT.rank !== 1) throw invalidArgument(`segment_ids should be a vector.`);
      if (data.rank === 0 || idsT.size !== data.shape[0]) throw invalidArgument('segment_ids should be the same size as dimension 0 of input.');
      const ids = idsT.numbers();
      for (let i = 0; i < ids.length; i++) {
        if (ids[i] < 0) throw invalidArgument(`Segment id ${ids[i]} out of range [0, ${ids[ids.length - 1] + 1}), possibly because 'segment_ids' input is not sorted.`);
        if (i > 0 && ids[i] < ids[i - 1]) throw invalidArgument('segment ids are not increasing');
      }
      const segments = ids.length > 0 ? ids[ids.length - 1] + 1 : 0;
      const inner = innerOf(data, 1);
      // Sorted segment ops leave missing segments 0 (1 for products), max and min included.
      return [reduceRows(reduce, data, inner, segments, [segments, ...data.shape.slice(1)], (emit) => ids.forEach((s, row) => emit(s, row)), true)];
    },
  });
}

for (const [op, reduce] of [
  ['UnsortedSegmentSum', 'sum'],
  ['UnsortedSegmentMax', 'max'],
  ['UnsortedSegmentMin', 'min'],
  ['UnsortedSegmentProd', 'prod'],
] as const) {
  registerKernel({
    op,
    kernel: (ctx) => {
      const [data, idsT, numT] = ctx.inputs;
      const prefix = idsT.shape;
      if (prefix.length > data.rank || prefix.some((d, i) => d !== data.shape[i])) {
        throw invalidArgument(`data.shape = [${data.shape}] does not start with segment_ids.shape = [${prefix}]`);
      }
      const segments = numT.numbers()[0];
      if (segments < 0) throw invalidArgument(`Input num_segments == ${segments} must not be negative.`);
      const ids = idsT.numbers();
      const inner = innerOf(data, prefix.length);
      for (let i = 0; i < ids.length; i++) {
        if (ids[i] >= segments) throw invalidArgument(`segment_ids[${i}] = ${ids[i]} is out of range [0, ${segments})`);
      }
      return [
        reduceRows(reduce, data, inner, segments, [segments, ...data.shape.slice(prefix.length)], (emit) =>
          ids.forEach((s, row) => s >= 0 && emit(s, row)),
        ),
      ];
    },
  });
}

for (const [op, reduce, withNum] of [
  ['SparseSegmentSum', 'sum', false],
  ['SparseSegmentMean', 'mean', false],
  ['SparseSegmentSqrtN', 'sqrt_n', false],
  ['SparseSegmentSumWithNumSegments', 'sum', true],
  ['SparseSegmentMeanWithNumSegments', 'mean', true],
  ['SparseSegmentSqrtNWithNumSegments', 'sqrt_n', true],
] as const) {
  registerKernel({
    op,
    kernel: (ctx) => {
      const [data, indicesT, idsT, numT] = ctx.inputs;
      if (indicesT.rank !== 1) throw invalidArgument('indices should be a vector.');
      if (idsT.rank !== 1) throw invalidArgument('segment_ids should be a vector.');
      if (indicesT.size !== idsT.size) throw invalidArgument('segment_ids and indices should have same size.');
      const indices = indicesT.numbers();
      const ids = idsT.numbers();
      const rows = data.rank > 0 ? data.shape[0] : 0;
      for (let i = 0; i < ids.length; i++) {
        if (i > 0 && ids[i] < ids[i - 1]) throw invalidArgument('segment ids are not increasing');
        if (indices[i] < 0 || indices[i] >= rows) throw invalidArgument(`Bad: indices[${i}] == ${indices[i]} out of range [0, ${rows})`);
      }
      const last = ids.length > 0 ? ids[ids.length - 1] + 1 : 0;
      const segments = withNum ? numT.numbers()[0] : last;
      if (withNum && last > segments) throw invalidArgument(`segment ids must be < num_segments`);
      for (const s of ids) if (s < 0) throw invalidArgument(`segment ids must be >= 0`);
      const inner = innerOf(data, 1);
      return [reduceRows(reduce, data, inner, segments, [segments, ...data.shape.slice(1)], (emit) => ids.forEach((s, i) => emit(s, indices[i])))];
    },
  });
}
