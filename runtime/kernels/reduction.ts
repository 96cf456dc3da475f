/**
 * Reduction kernels (tensorflow/core/kernels/reduction_ops_*.cc, argmax_op.cc):
 * Sum, Mean, Max, Min, Prod, All, Any, EuclideanNorm, ArgMax, ArgMin.
 *
 * The axis input is int32 or int64, scalar or vector, negative axes count
 * from the end; an out-of-range axis is TF's "Invalid reduction dimension (5
 * for input with 2 dimension(s)". Reducing over no axes returns the input.
 * `keep_dims` keeps reduced dimensions as size 1.
 *
 * float32/half and int32 (bool for All/Any) reduce on tfjs; everything else,
 * and every reduction of an empty tensor (tfjs returns garbage there), runs on
 * the host: integer sums and products wrap like TF's, Mean of integers up to
 * 32 bits divides the exact (64-bit) sum with truncation, Mean of int64 the
 * wrapped sum, Max/Min propagate NaN, the reduction of
 * nothing is the identity (0, 1, -inf/+inf or the integer type's limits, NaN
 * for Mean of floats). ArgMax/ArgMin return the first index of the extreme
 * value, tagged with `output_type` (default int64).
 */
import * as tf from '@tensorflow/tfjs-core';
import { type DType, INT_RANGE, isInteger } from '../dtypes.js';
import { invalidArgument } from '../errors.js';
import { Tensor, allocHost, shapeString } from '../tensor.js';
import {
  type BigArray,
  type NumArray,
  aroundAxis,
  axisValues,
  isBigDtype,
  nanMax,
  nanMin,
  reducedShape,
  reductionAxes,
  reductionIndex,
  unsupportedDtype,
} from './host_math.js';
import { FLOAT_TYPES, NUMERIC_TYPES, runTf, tfKind } from './math.js';
import { registerKernel } from './registry.js';
import { complexReduce, isComplex } from './signal/complex.js';

export type ReduceOp = 'Sum' | 'Mean' | 'Max' | 'Min' | 'Prod' | 'All' | 'Any' | 'EuclideanNorm';

const TYPES: Record<ReduceOp, readonly DType[]> = {
  Sum: NUMERIC_TYPES,
  Mean: NUMERIC_TYPES,
  Max: NUMERIC_TYPES,
  Min: NUMERIC_TYPES,
  Prod: NUMERIC_TYPES,
  All: ['bool'],
  Any: ['bool'],
  EuclideanNorm: NUMERIC_TYPES,
};

/** tfjs reductions; `ints` says whether the tfjs kernel also has TF's int32 semantics. */
const TF_REDUCE: Record<ReduceOp, { fn: (x: tf.Tensor, axes: number[], keep: boolean) => tf.Tensor; ints: boolean }> = {
  Sum: { fn: (x, a, k) => tf.sum(x, a, k), ints: true },
  Mean: { fn: (x, a, k) => tf.mean(x, a, k), ints: false },
  Max: { fn: (x, a, k) => tf.max(x, a, k), ints: true },
  Min: { fn: (x, a, k) => tf.min(x, a, k), ints: true },
  Prod: { fn: (x, a, k) => tf.prod(x, a, k), ints: true },
  All: { fn: (x, a, k) => tf.all(x, a, k), ints: false },
  Any: { fn: (x, a, k) => tf.any(x, a, k), ints: false },
  EuclideanNorm: { fn: (x, a, k) => tf.sqrt(tf.sum(tf.square(x), a, k)), ints: false },
};

function intLimits(dtype: DType): [number, number] {
  return INT_RANGE[dtype] ?? [-Infinity, Infinity];
}

/** Host reduction in the number domain (floats, integers up to 32 bits, bool). */
function hostReduceNum(op: ReduceOp, x: Tensor, axes: number[], outShape: number[]): Tensor {
  const { outIndex, outSize, count } = reductionIndex(x.shape, axes);
  const src = x.values() as NumArray;
  const int = isInteger(x.dtype);
  const [lo, hi] = intLimits(x.dtype);
  const acc = new Float64Array(outSize);
  let step: (a: number, v: number) => number;
  switch (op) {
    case 'Sum':
      step = int ? (a, v) => (a + v) | 0 : (a, v) => a + v;
      break;
    case 'Mean':
      // TF sums integers up to 32 bits in 64 bits (no wrap) and divides before casting back.
      step = (a, v) => a + v;
      break;
    case 'EuclideanNorm':
      step = int ? (a, v) => (a + Math.imul(v, v)) | 0 : (a, v) => a + v * v;
      break;
    case 'Prod':
      acc.fill(1);
      step = int ? Math.imul : (a, v) => a * v;
      break;
    case 'Max':
      acc.fill(int ? lo : -Infinity);
      step = int ? (a, v) => (v > a ? v : a) : nanMax;
      break;
    case 'Min':
      acc.fill(int ? hi : Infinity);
      step = int ? (a, v) => (v < a ? v : a) : nanMin;
      break;
    case 'All':
      acc.fill(1);
      step = (a, v) => (a && v ? 1 : 0);
      break;
    case 'Any':
      step = (a, v) => (a || v ? 1 : 0);
      break;
  }
  for (let i = 0; i < src.length; i++) acc[outIndex[i]] = step(acc[outIndex[i]], src[i]);
  if (op === 'Mean') for (let i = 0; i < outSize; i++) acc[i] = int ? Math.trunc(acc[i] / count) : acc[i] / count;
  const out = allocHost(x.dtype, outSize) as NumArray;
  out.set(acc); // integer stores wrap to the dtype's width, as TF's accumulation in T does
  if (op === 'EuclideanNorm') {
    for (let i = 0; i < outSize; i++) out[i] = int ? Math.trunc(Math.sqrt(out[i])) : Math.sqrt(out[i]);
  }
  return Tensor.fromHost(x.dtype, outShape, out);
}

/** Host reduction in the bigint domain (int64, uint64): exact, wrapping modulo 2^64. */
function hostReduceBig(op: ReduceOp, x: Tensor, axes: number[], outShape: number[]): Tensor {
  const { outIndex, outSize, count } = reductionIndex(x.shape, axes);
  const src = x.values() as BigArray;
  const unsigned = x.dtype === 'uint64';
  const init = op === 'Prod' ? 1n : op === 'Max' ? (unsigned ? 0n : -(2n ** 63n)) : op === 'Min' ? (unsigned ? 2n ** 64n - 1n : 2n ** 63n - 1n) : 0n;
  const acc = new Array<bigint>(outSize).fill(init);
  const step: (a: bigint, v: bigint) => bigint =
    op === 'Prod'
      ? (a, v) => a * v
      : op === 'Max'
        ? (a, v) => (v > a ? v : a)
        : op === 'Min'
          ? (a, v) => (v < a ? v : a)
          : op === 'EuclideanNorm'
            ? (a, v) => a + v * v
            : (a, v) => a + v;
  for (let i = 0; i < src.length; i++) acc[outIndex[i]] = step(acc[outIndex[i]], src[i]);
  const out = allocHost(x.dtype, outSize) as BigArray;
  for (let i = 0; i < outSize; i++) out[i] = acc[i]; // wraps modulo 2^64
  if (op === 'Mean' && count > 0) for (let i = 0; i < outSize; i++) out[i] = out[i] / BigInt(count);
  if (op === 'EuclideanNorm') for (let i = 0; i < outSize; i++) out[i] = BigInt(Math.trunc(Math.sqrt(Number(out[i]))));
  return Tensor.fromHost(x.dtype, outShape, out);
}

/** Reduces `x` over `axis` (an int32/int64 tensor) with TF's semantics. */
export function reduce(op: ReduceOp, x: Tensor, axis: Tensor, keepDims: boolean): Tensor {
  if (isComplex(x.dtype)) return complexReduce(op, x, axis, keepDims);
  if (!TYPES[op].includes(x.dtype)) throw unsupportedDtype(op, x.dtype);
  const axes = reductionAxes(axis, x.rank, op);
  if (axes.length === 0) return x;
  const outShape = reducedShape(x.shape, axes, keepDims);
  const kind = tfKind(x.dtype);
  const spec = TF_REDUCE[op];
  const onTf = kind === 'float' ? FLOAT_TYPES.includes(x.dtype) : kind === 'int' ? spec.ints : kind === 'bool' && (op === 'All' || op === 'Any');
  if (onTf && x.size > 0) return runTf(x.dtype, [x], (t) => spec.fn(t, axes, keepDims));
  return isBigDtype(x.dtype) ? hostReduceBig(op, x, axes, outShape) : hostReduceNum(op, x, axes, outShape);
}

for (const op of Object.keys(TYPES) as ReduceOp[]) {
  registerKernel({
    op,
    kernel: (ctx) => [reduce(op, ctx.inputs[0], ctx.inputs[1], ctx.attrs.bool('keep_dims', false))],
  });
}

// ---------------------------------------------------------------------------
// ArgMax, ArgMin

const ARG_TYPES: readonly DType[] = [...NUMERIC_TYPES, 'bool'];
const ARG_OUTPUT_TYPES: readonly DType[] = ['int16', 'uint16', 'int32', 'int64'];

function hostArg(op: 'ArgMax' | 'ArgMin', x: Tensor, axis: number, outType: DType): Tensor {
  const [outer, dim, inner] = aroundAxis(x.shape, axis);
  const src = x.values() as ArrayLike<number | bigint>;
  const better = op === 'ArgMax' ? (v: number | bigint, b: number | bigint) => v > b : (v: number | bigint, b: number | bigint) => v < b;
  const out = allocHost(outType, outer * inner);
  for (let o = 0; o < outer; o++) {
    for (let i = 0; i < inner; i++) {
      let best = src[o * dim * inner + i];
      let at = 0;
      for (let k = 1; k < dim; k++) {
        const v = src[(o * dim + k) * inner + i];
        if (better(v, best)) {
          best = v;
          at = k;
        }
      }
      if (outType === 'int64') (out as BigInt64Array)[o * inner + i] = BigInt(at);
      else (out as NumArray)[o * inner + i] = at;
    }
  }
  const outShape = x.shape.filter((_, d) => d !== axis);
  return Tensor.fromHost(outType, outShape, out);
}

function registerArg(op: 'ArgMax' | 'ArgMin'): void {
  registerKernel({
    op,
    kernel: (ctx) => {
      const [x, dimension] = ctx.inputs;
      if (!ARG_TYPES.includes(x.dtype)) throw unsupportedDtype(op, x.dtype);
      const outType = ctx.attrs.type('output_type', 'int64');
      if (!ARG_OUTPUT_TYPES.includes(outType)) throw unsupportedDtype(op, outType);
      if (dimension.rank !== 0) {
        throw invalidArgument(`dim must be a scalar, but received tensor of shape: ${shapeString(dimension.shape)}`);
      }
      const dim = axisValues(dimension, op)[0];
      const rank = x.rank;
      const axis = dim < 0 ? dim + rank : dim;
      if (axis < 0 || axis >= rank) {
        throw invalidArgument(`Expected dimension in the range [${-rank}, ${rank}), but got ${dim}`);
      }
      if (x.shape[axis] === 0) {
        throw invalidArgument(`Reduction axis ${dim} is empty in shape ${shapeString(x.shape)}`);
      }
      const kind = tfKind(x.dtype);
      if (kind === 'float' || kind === 'int') {
        const fn = op === 'ArgMax' ? tf.argMax : tf.argMin;
        return [runTf(outType, [x], (t) => fn(t, axis))];
      }
      return [hostArg(op, x, axis, outType)];
    },
  });
}
registerArg('ArgMax');
registerArg('ArgMin');
