/**
 * Joining and splitting along an axis: ConcatV2, Concat, ConcatOffset, Pack,
 * Unpack, Split, SplitV. Validation and error texts follow concat_op.cc,
 * pack_op.cc, unpack_op.cc, split_op.cc and split_v_op.cc.
 *
 * Backend tensors use tf.concat / dispatch.splitOnBackend; host tensors (any
 * dtype) are copied in contiguous blocks: viewing a tensor as
 * [before, axisDim * after], each input contributes one block per row.
 */
import * as tf from '@tensorflow/tfjs-core';
import { dtypeShortName } from '../dtypes.js';
import { invalidArgument } from '../errors.js';
import { checkTensorSize } from '../limits.js';
import { allocHost, sizeOf, Tensor, type Shape } from '../tensor.js';
import { intVector } from './array_basic.js';
import { copyElements, dbg, elementWidth, onTf, preferTf, readInts } from './array_util.js';
import { smallHostMath, splitOnBackend } from './dispatch.js';
import { registerKernel } from './registry.js';

function product(dims: readonly number[]): number {
  let p = 1;
  for (const d of dims) p *= d;
  return p;
}

/**
 * Joins tensors along `axis` (already validated; same dtype). With
 * `stack`, the inputs gain a new axis there (Pack); otherwise they are
 * concatenated along an existing one. The output has `outShape`.
 */
export function concatAlong(values: Tensor[], axis: number, outShape: Shape, stack = false): Tensor {
  const dtype = values[0].dtype;
  if (values.length === 1) return values[0].reshape(outShape);
  if (preferTf(...values)) {
    return onTf(dtype, values, (...xs) => (stack ? tf.stack(xs, axis) : tf.concat(xs, axis)));
  }
  const before = product(outShape.slice(0, axis));
  const w = elementWidth(dtype);
  const out = allocHost(dtype, sizeOf(outShape));
  const rowOut = before === 0 ? 0 : sizeOf(outShape) / before;
  let colStart = 0;
  for (const v of values) {
    const src = v.values();
    const rowIn = before === 0 ? 0 : v.size / before;
    if (rowIn > 0) {
      for (let b = 0; b < before; b++) copyElements(src, b * rowIn, out, b * rowOut + colStart, rowIn, w);
    }
    colStart += rowIn;
  }
  return Tensor.fromHost(dtype, outShape, out);
}

function concatKernel(values: Tensor[], axisT: Tensor, v2: boolean): Tensor {
  const axisName = v2 ? 'axis' : 'concat_dim';
  if (!(axisT.rank === 0 || (axisT.rank === 1 && axisT.shape[0] === 1))) {
    throw invalidArgument(`${axisName} tensor should be a scalar integer, but got shape ${dbg(axisT.shape)}`);
  }
  if (v2 && axisT.dtype !== 'int32' && axisT.dtype !== 'int64') {
    throw invalidArgument(`${axisName} tensor should be int32 or int64, but got ${dtypeShortName(axisT.dtype)}`);
  }
  if (!v2 && axisT.dtype !== 'int32') {
    throw invalidArgument(`${axisName} tensor should be int32, but got ${dtypeShortName(axisT.dtype)}`);
  }
  const concatDim = readInts(axisT, axisName)[0];
  const first = values[0];
  const dims = first.rank;
  const axis = concatDim < 0 ? concatDim + dims : concatDim;
  if (!((axis >= 0 && axis < dims) || concatDim === 0)) {
    throw invalidArgument(
      `ConcatOp : Expected concatenating dimensions in the range [${-dims}, ${dims}), but got ${concatDim}`,
    );
  }
  let outConcat = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (v.rank !== dims) {
      throw invalidArgument(
        `ConcatOp : Ranks of all input tensors should match: shape[0] = ${dbg(first.shape)} vs. shape[${i}] = ${dbg(v.shape)}`,
      );
    }
    for (let j = 0; j < dims; j++) {
      if (j !== axis && v.shape[j] !== first.shape[j]) {
        throw invalidArgument(
          `ConcatOp : Dimension ${j} in both shapes must be equal: shape[0] = ${dbg(first.shape)} vs. shape[${i}] = ${dbg(v.shape)}`,
        );
      }
    }
    outConcat += dims > 0 ? v.shape[axis] : 1;
  }
  if (dims === 0) {
    // Legacy: concatenating scalars along 0 makes a vector.
    return concatAlong(values, 0, [outConcat], true);
  }
  const outShape = [...first.shape];
  outShape[axis] = outConcat;
  checkTensorSize(outShape, first.dtype);
  return concatAlong(values, axis, outShape);
}

registerKernel({
  op: 'ConcatV2',
  kernel: (ctx) => {
    const values = ctx.inputs.slice(0, -1);
    return [concatKernel(values, ctx.inputs[ctx.inputs.length - 1], true)];
  },
});

registerKernel({
  op: 'Concat',
  kernel: (ctx) => [concatKernel(ctx.inputs.slice(1), ctx.inputs[0], false)],
});

registerKernel({
  op: 'ConcatOffset',
  kernel: (ctx) => {
    const [cdT, ...shapes] = ctx.inputs;
    if (cdT.rank !== 0) {
      throw invalidArgument(`Concat dim tensor should be a scalar integer, but got shape ${dbg(cdT.shape)}`);
    }
    for (let i = 0; i < shapes.length; i++) {
      if (shapes[i].rank !== 1) {
        throw invalidArgument(`input ${i + 1} should be a vector, but got shape ${dbg(shapes[i].shape)}`);
      }
    }
    const s0 = readInts(shapes[0], 'shape');
    const dims = s0.length;
    const cdim = readInts(cdT, 'concat_dim')[0];
    const axis = cdim < 0 ? cdim + dims : cdim;
    if (axis < 0 || axis >= dims) throw invalidArgument(`Concat dim is out of range: ${cdim} vs. ${dims}`);
    let offset = 0;
    return shapes.map((t, i) => {
      const s = readInts(t, 'shape');
      if (s.length !== dims) {
        throw invalidArgument(`input ${i} should contain ${dims} elements, but got ${s.length}`);
      }
      const out = new Array<number>(dims).fill(0);
      for (let j = 0; j < dims; j++) {
        if (j === axis) {
          out[j] = offset;
          offset += s[j];
        } else if (s0[j] !== s[j]) {
          throw invalidArgument(
            `All dimensions except ${axis} must match. Input ${i} has shape [${s.join(' ')}] and doesn't match input 0 with shape [${s0.join(' ')}].`,
          );
        }
      }
      return intVector(t.dtype, out);
    });
  },
});

registerKernel({
  op: 'Pack',
  kernel: (ctx) => {
    const values = ctx.inputs;
    const attrAxis = ctx.attrs.int('axis', 0);
    const first = values[0];
    const expanded = first.rank + 1;
    const axis = attrAxis < 0 ? attrAxis + expanded : attrAxis;
    if (axis < 0 || axis >= expanded) {
      throw invalidArgument(`axis = ${attrAxis} not in [${-expanded}, ${expanded})`);
    }
    for (let i = 1; i < values.length; i++) {
      const v = values[i];
      if (v.rank !== first.rank || v.shape.some((d, j) => d !== first.shape[j])) {
        throw invalidArgument(
          `Shapes of all inputs must match: values[0].shape = ${dbg(first.shape)} != values[${i}].shape = ${dbg(v.shape)}`,
        );
      }
    }
    const outShape = [...first.shape];
    outShape.splice(axis, 0, values.length);
    return [concatAlong(values, axis, outShape, true)];
  },
});

/** Splits `x` along `axis` into pieces of the given sizes (validated, summing to the dim). */
export function splitAlong(x: Tensor, axis: number, sizes: number[]): Tensor[] {
  const shapes = sizes.map((s) => {
    const sh = [...x.shape];
    sh[axis] = s;
    return sh;
  });
  if (preferTf(x) && x.size > 0 && !(x.isOnHost && smallHostMath(x.size))) {
    return splitOnBackend(x.toTf(), axis, sizes).map((t) => Tensor.fromTf(t, x.dtype));
  }
  const before = product(x.shape.slice(0, axis));
  const after = product(x.shape.slice(axis + 1));
  const dim = x.shape[axis];
  const w = elementWidth(x.dtype);
  const src = x.size > 0 ? x.values() : allocHost(x.dtype, 0);
  let start = 0;
  return sizes.map((s, k) => {
    const out = allocHost(x.dtype, before * s * after);
    const chunk = s * after;
    if (chunk > 0) {
      for (let b = 0; b < before; b++) copyElements(src, (b * dim + start) * after, out, b * chunk, chunk, w);
    }
    start += s;
    return Tensor.fromHost(x.dtype, shapes[k], out);
  });
}

registerKernel({
  op: 'Unpack',
  kernel: (ctx) => {
    const x = ctx.inputs[0];
    const num = ctx.attrs.int('num');
    const attrAxis = ctx.attrs.int('axis', 0);
    const rank = x.rank;
    const axis = attrAxis < 0 ? attrAxis + rank : attrAxis;
    if (axis < 0 || axis >= rank) throw invalidArgument(`axis = ${attrAxis} not in [${-rank}, ${rank})`);
    if (!(rank > 0 && x.shape[axis] === num)) {
      throw invalidArgument(`Input shape axis ${axis} must equal ${num}, got shape ${dbg(x.shape)}`);
    }
    const outShape = x.shape.filter((_, i) => i !== axis);
    if (preferTf(x) && x.size > 0) return splitOnBackend(x.toTf(), axis, new Array<number>(num).fill(1), true).map((t) => Tensor.fromTf(t, x.dtype));
    // Host pieces: reshaping host storage is free.
    return splitAlong(x, axis, new Array<number>(num).fill(1)).map((p) => p.reshape(outShape));
  },
});

registerKernel({
  op: 'Split',
  kernel: (ctx) => {
    const [dimT, x] = ctx.inputs;
    if (dimT.rank !== 0) throw invalidArgument(`split_dim must be a scalar but has rank ${dimT.rank}`);
    const numSplit = ctx.attrs.int('num_split');
    const orig = readInts(dimT, 'split_dim')[0];
    const rank = x.rank;
    const dim = orig < 0 ? orig + rank : orig;
    if (dim < 0 || dim >= rank) {
      throw invalidArgument(`-input rank(-${rank}) <= split_dim < input rank (${rank}), but got ${orig}`);
    }
    if (numSplit <= 0) throw invalidArgument(`Number of ways to split should be > 0, but got ${numSplit}`);
    const size = x.shape[dim];
    if (size % numSplit !== 0) {
      throw invalidArgument(
        `Number of ways to split should evenly divide the split dimension, but got split_dim ${dim} (size = ${size}) and num_split ${numSplit}`,
      );
    }
    if (numSplit === 1) return [x];
    return splitAlong(x, dim, new Array<number>(numSplit).fill(size / numSplit));
  },
});

registerKernel({
  op: 'SplitV',
  kernel: (ctx) => {
    const [x, sizesT, dimT] = ctx.inputs;
    const numSplit = ctx.attrs.int('num_split');
    if (dimT.size !== 1) throw invalidArgument('split_dim_tensor must have exactly one element.');
    const orig = readInts(dimT, 'split_dim')[0];
    const rank = x.rank;
    const dim = orig < 0 ? orig + rank : orig;
    if (!(sizesT.rank === 1 && sizesT.size === numSplit)) {
      throw invalidArgument(
        `size of the split_tensor must be 1-D and have the same elements as outputs got ${sizesT.rank} -D and ${sizesT.size} elements`,
      );
    }
    const sizes = readInts(sizesT, 'size_splits');
    if (numSplit <= 0) throw invalidArgument(`Number of ways to split should be > 0, but got ${numSplit}`);
    if (dim < 0 || dim >= rank) {
      throw invalidArgument(`-input rank(-${rank}) <= split_dim < input rank (${rank}), but got ${orig}`);
    }
    const inputSize = x.shape[dim];
    if (numSplit === 1) {
      if (sizes[0] !== inputSize) {
        throw invalidArgument(
          `If there is only one output, it must have the same size as the input. Input size: ${inputSize} output size: ${sizes[0]}`,
        );
      }
      return [x];
    }
    let negOne = -1;
    let determined = 0;
    for (let d = 0; d < sizes.length; d++) {
      if (sizes[d] === -1) {
        if (negOne !== -1) throw invalidArgument('There can only be one -1 in the input.');
        negOne = d;
      } else {
        determined += sizes[d];
      }
    }
    if (!((negOne === -1 && determined === inputSize) || (negOne >= 0 && determined <= inputSize))) {
      throw invalidArgument(
        `Determined shape must either match input shape along split_dim exactly if fully specified, or be less than the size of the input along split_dim if not fully specified.  Got: ${determined}`,
      );
    }
    if (negOne >= 0) sizes[negOne] = inputSize - determined;
    for (let i = 0; i < sizes.length; i++) {
      if (sizes[i] < 0) throw invalidArgument(`Split size at index ${i} must be >= 0. Got: ${sizes[i]}`);
    }
    return splitAlong(x, dim, sizes);
  },
});
