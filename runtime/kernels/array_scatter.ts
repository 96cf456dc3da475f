/**
 * Scattering by index: ScatterNd (duplicates add up) and the non-mutating
 * TensorScatterUpdate / Add / Sub / Max / Min. Validation and error texts
 * follow scatter_nd_op.cc ("indices[1] = [5] does not index into shape
 * [4]"). Runs on the host for every dtype: numeric values combine in their
 * own precision (float32 rounding, int wraparound, int64 as BigInt), bools
 * combine logically and strings concatenate (ADD) or replace (UPDATE).
 */
import type { DType } from '../dtypes.js';
import { isNumeric } from '../dtypes.js';
import { invalidArgument } from '../errors.js';
import { allocHost, sizeOf, Tensor, type HostData, type Shape } from '../tensor.js';
import { copyElements, dbg, elementWidth, isComplex, isIndexType, makeShape, readInts, sliceDebugString, stridesOf } from './array_util.js';
import { registerKernel, type KernelContext } from './registry.js';

type Op = 'update' | 'add' | 'sub' | 'max' | 'min';

function combineSupported(dtype: DType, op: Op): boolean {
  if (op === 'update') return true;
  if (dtype === 'string') return op === 'add';
  if (dtype === 'bool') return op === 'add' || op === 'sub';
  if (isComplex(dtype)) return op === 'add' || op === 'sub';
  return isNumeric(dtype);
}

/** out[o] = out[o] (op) upd[u] for one element (complex: a pair). */
function combine(dtype: DType, op: Op, out: HostData, o: number, upd: HostData, u: number): void {
  if (op === 'update') {
    copyElements(upd, u, out, o, 1, elementWidth(dtype));
    return;
  }
  if (dtype === 'string') {
    const a = (out as Uint8Array[])[o];
    const b = (upd as Uint8Array[])[u];
    const joined = new Uint8Array(a.length + b.length);
    joined.set(a, 0);
    joined.set(b, a.length);
    (out as Uint8Array[])[o] = joined;
    return;
  }
  if (dtype === 'bool') {
    const d = out as Uint8Array;
    const x = d[o] !== 0;
    const y = (upd as Uint8Array)[u] !== 0;
    d[o] = (op === 'add' ? x || y : x !== y) ? 1 : 0;
    return;
  }
  if (isComplex(dtype)) {
    const d = out as Float64Array;
    const s = upd as Float64Array;
    const sign = op === 'add' ? 1 : -1;
    d[2 * o] += sign * s[2 * u];
    d[2 * o + 1] += sign * s[2 * u + 1];
    return;
  }
  if (typeof (out as BigInt64Array)[o] === 'bigint') {
    const d = out as BigInt64Array;
    const x = d[o];
    const y = (upd as BigInt64Array)[u];
    d[o] = op === 'add' ? x + y : op === 'sub' ? x - y : op === 'max' ? (x > y ? x : y) : x < y ? x : y;
    return;
  }
  const d = out as Float64Array;
  const x = d[o];
  const y = (upd as Float64Array)[u];
  // Typed-array stores give each dtype its own rounding / wraparound; max/min as Eigen's cwiseMax/Min.
  d[o] = op === 'add' ? x + y : op === 'sub' ? x - y : op === 'max' ? (x < y ? y : x) : y < x ? y : x;
}

/** Validated geometry shared by ScatterNd and TensorScatter*. */
interface Plan {
  sliceDim: number;
  sliceSize: number;
  numUpdates: number;
  idx: number[];
}

function checkIndices(indices: Tensor, shape: Shape, plan: Plan): void {
  const raw = indices.values() as ArrayLike<number | bigint>;
  const prefix = indices.shape.slice(0, -1);
  for (let i = 0; i < plan.numUpdates; i++) {
    for (let j = 0; j < plan.sliceDim; j++) {
      const v = plan.idx[i * plan.sliceDim + j];
      if (!(v >= 0 && v < shape[j])) {
        const shown: string[] = [];
        for (let q = 0; q < plan.sliceDim; q++) shown.push(String(raw[i * plan.sliceDim + q]));
        throw invalidArgument(
          `indices${sliceDebugString(prefix, i)} = [${shown.join(', ')}] does not index into shape ${dbg(shape)}`,
        );
      }
    }
  }
}

function apply(base: Tensor | undefined, dtype: DType, shape: Shape, indices: Tensor, updates: Tensor, op: Op, plan: Plan): Tensor {
  if (!combineSupported(dtype, op)) throw invalidArgument(`scatter ${op} is not supported for ${dtype} tensors`);
  checkIndices(indices, shape, plan);
  const w = elementWidth(dtype);
  const n = sizeOf(shape);
  const out = allocHost(dtype, n);
  if (base && n > 0) copyElements(base.values(), 0, out, 0, n, w);
  if (plan.numUpdates === 0 || plan.sliceSize === 0) return Tensor.fromHost(dtype, shape, out);
  const upd = updates.values();
  const st = stridesOf(shape);
  for (let i = 0; i < plan.numUpdates; i++) {
    let offset = 0;
    for (let j = 0; j < plan.sliceDim; j++) offset += plan.idx[i * plan.sliceDim + j] * st[j];
    for (let e = 0; e < plan.sliceSize; e++) combine(dtype, op, out, offset + e, upd, i * plan.sliceSize + e);
  }
  return Tensor.fromHost(dtype, shape, out);
}

function validEmpty(numInputs: number, numIndices: number, numUpdates: number): boolean {
  if (numIndices === 0 && numUpdates === 0) return true;
  return numInputs !== 0 && numIndices !== 0 && numUpdates !== 0;
}

function commonChecks(indices: Tensor, updates: Tensor): void {
  if (!isIndexType(indices.dtype)) throw invalidArgument('indices must be int32 or int64.');
  if (indices.rank < 1) {
    throw invalidArgument(`Indices shape must have rank at least one. Found:${dbg(indices.shape)}`);
  }
  if (updates.rank < 1) {
    throw invalidArgument(`Updates shape must have rank at least one. Found:${dbg(updates.shape)}`);
  }
}

function planFor(indices: Tensor, shape: Shape): Plan {
  const outerDims = indices.rank - 1;
  const sliceDim = indices.shape[outerDims];
  let numUpdates = 1;
  for (let i = 0; i < outerDims; i++) numUpdates *= indices.shape[i];
  return {
    sliceDim,
    sliceSize: sizeOf(shape.slice(sliceDim)),
    numUpdates,
    idx: readInts(indices, 'indices'),
  };
}

registerKernel({
  op: 'ScatterNd',
  kernel: (ctx) => {
    const [indices, updates, shapeT] = ctx.inputs;
    commonChecks(indices, updates);
    const shape = makeShape(shapeT, updates.dtype);
    if (!validEmpty(shapeT.size, indices.size, updates.size)) {
      throw invalidArgument('Indices and updates specified for empty output shape');
    }
    const outerDims = indices.rank - 1;
    for (let i = 0; i < outerDims; i++) {
      if (indices.shape[i] !== updates.shape[i]) {
        throw invalidArgument(
          `Dimensions [0,${outerDims}) of indices[shape=${dbg(indices.shape)}] must match dimensions [0,${outerDims}) of updates[shape=${dbg(updates.shape)}]`,
        );
      }
    }
    const ix = indices.shape[outerDims];
    const innerMismatch = () =>
      invalidArgument(
        `Dimensions [${ix},${shape.length}) of input[shape=${dbg(shape)}] must match dimensions [${outerDims},${updates.rank}) of updates[shape=${dbg(updates.shape)}]`,
      );
    if (updates.rank - outerDims !== shape.length - ix) throw innerMismatch();
    for (let i = 0; i + outerDims < updates.rank; i++) {
      if (updates.shape[i + outerDims] !== shape[ix + i]) throw innerMismatch();
    }
    if (shapeT.rank !== 1) throw invalidArgument('Shape must be a vector');
    return [apply(undefined, updates.dtype, shape, indices, updates, 'add', planFor(indices, shape))];
  },
});

function tensorScatter(op: Op) {
  return (ctx: KernelContext): Tensor[] => {
    const [input, indices, updates] = ctx.inputs;
    commonChecks(indices, updates);
    const shape = input.shape;
    if (!validEmpty(input.size, indices.size, updates.size)) {
      throw invalidArgument('Indices and updates specified for empty output shape');
    }
    const outerDims = indices.rank - 1;
    for (let i = 0; i < outerDims; i++) {
      if (indices.shape[i] !== updates.shape[i]) {
        throw invalidArgument(
          `Outer dimensions of indices and update must match. Indices shape: ${dbg(indices.shape)}, updates shape:${dbg(updates.shape)}`,
        );
      }
    }
    const ix = indices.shape[outerDims];
    if (updates.rank - outerDims !== shape.length - ix) {
      throw invalidArgument(
        `Inner dimensions of output shape must match inner dimensions of updates shape. Output: ${dbg(shape)} updates: ${dbg(updates.shape)}`,
      );
    }
    for (let i = 0; i + outerDims < updates.rank; i++) {
      if (updates.shape[i + outerDims] !== shape[ix + i]) {
        throw invalidArgument(
          `The inner ${shape.length - ix} dimensions of output.shape=${dbg(shape)} must match the inner ${updates.rank - outerDims} dimensions of updates.shape=${dbg(updates.shape)}`,
        );
      }
    }
    return [apply(input, input.dtype, shape, indices, updates, op, planFor(indices, shape))];
  };
}

registerKernel({ op: 'TensorScatterUpdate', kernel: tensorScatter('update') });
registerKernel({ op: 'TensorScatterAdd', kernel: tensorScatter('add') });
registerKernel({ op: 'TensorScatterSub', kernel: tensorScatter('sub') });
registerKernel({ op: 'TensorScatterMax', kernel: tensorScatter('max') });
registerKernel({ op: 'TensorScatterMin', kernel: tensorScatter('min') });
