/**
 * Rearranging elements: Tile, Transpose, ConjugateTranspose, ReverseV2,
 * Pad, PadV2, MirrorPad, BroadcastTo, BroadcastArgs.
 *
 * Each kernel validates with TF's wording (tile_ops.cc, transpose_op.cc,
 * reverse_op.cc, pad_op.cc, mirror_pad_op.cc, broadcast_to_op.cc), then runs
 * the matching tfjs op for backend tensors or a per-dimension index map
 * (composeMap) for every other dtype.
 */
import * as tf from '@tensorflow/tfjs-core';
import { invalidArgument } from '../errors.js';
import { checkTensorSize } from '../limits.js';
import { Tensor, type Shape } from '../tensor.js';
import { intVector } from './array_basic.js';
import {
  broadcastOffsets,
  broadcastShapes,
  composeMap,
  dbg,
  emptyTensor,
  isComplex,
  makeShape,
  onTf,
  preferTf,
  readInts,
  sameShape,
  stridesOf,
  takeFlat,
} from './array_util.js';
import { registerKernel } from './registry.js';

function sizeOfShape(shape: Shape): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

registerKernel({
  op: 'Tile',
  kernel: (ctx) => {
    const [x, multT] = ctx.inputs;
    if (multT.rank !== 1) throw invalidArgument(`Expected multiples to be 1-D, but got shape ${dbg(multT.shape)}`);
    if (x.rank !== multT.size) {
      throw invalidArgument(
        `Expected multiples argument to be a vector of length ${x.rank} but got length ${multT.shape[0]}`,
      );
    }
    if (x.rank === 0) return [x];
    const mult = readInts(multT, 'multiples');
    const outShape = x.shape.map((d, i) => {
      if (mult[i] < 0) throw invalidArgument(`Expected multiples[${i}] >= 0, but got ${mult[i]}`);
      return d * mult[i];
    });
    checkTensorSize(outShape, x.dtype);
    if (sameShape(outShape, x.shape)) return [x];
    if (sizeOfShape(outShape) === 0) return [emptyTensor(x.dtype, outShape)];
    if (preferTf(x)) return [onTf(x.dtype, [x], (xt) => tf.tile(xt, mult))];
    const st = stridesOf(x.shape);
    const offsets = outShape.map((len, d) => {
      const o = new Int32Array(len);
      for (let i = 0; i < len; i++) o[i] = (i % x.shape[d]) * st[d];
      return o;
    });
    return [takeFlat(x, outShape, composeMap(outShape, offsets))];
  },
});

/** Validates a permutation for `x` the way transpose_op.cc does. */
function readPerm(x: Tensor, permT: Tensor): number[] {
  if (permT.rank !== 1) throw invalidArgument(`perm must be a vector, not ${dbg(permT.shape)}`);
  const perm = readInts(permT, 'perm');
  const dims = x.rank;
  if (perm.length !== dims) {
    throw invalidArgument(`transpose expects a vector of size ${dims}. But input(1) is a vector of size ${perm.length}`);
  }
  const seen = new Array<boolean>(dims).fill(false);
  for (const d of perm) {
    if (!(d >= 0 && d < dims)) throw invalidArgument(`${d} is out of range [0 .. ${dims})`);
    seen[d] = true;
  }
  for (let i = 0; i < dims; i++) {
    if (!seen[i]) throw invalidArgument(`${i} is missing from {${perm.join(',')}}.`);
  }
  return perm;
}

function transpose(x: Tensor, perm: number[], conjugate: boolean): Tensor {
  const outShape = perm.map((p) => x.shape[p]);
  const identity = perm.every((p, i) => p === i);
  const conj = conjugate && isComplex(x.dtype);
  let moved: Tensor;
  if (identity || x.rank <= 1) {
    moved = x.reshape(outShape);
    if (!conj) return moved;
  } else if (sizeOfShape(outShape) === 0) {
    return emptyTensor(x.dtype, outShape);
  } else if (preferTf(x)) {
    return onTf(x.dtype, [x], (xt) => tf.transpose(xt, perm));
  } else {
    const st = stridesOf(x.shape);
    const offsets = outShape.map((len, d) => {
      const o = new Int32Array(len);
      for (let i = 0; i < len; i++) o[i] = i * st[perm[d]];
      return o;
    });
    moved = takeFlat(x, outShape, composeMap(outShape, offsets));
    if (!conj) return moved;
  }
  // Conjugate: negate the imaginary parts of a fresh copy.
  const src = moved.values() as Float64Array;
  const out = src.slice();
  for (let i = 1; i < out.length; i += 2) out[i] = -out[i];
  return Tensor.fromHost(x.dtype, outShape, out);
}

registerKernel({
  op: 'Transpose',
  kernel: (ctx) => [transpose(ctx.inputs[0], readPerm(ctx.inputs[0], ctx.inputs[1]), false)],
});

registerKernel({
  op: 'ConjugateTranspose',
  kernel: (ctx) => [transpose(ctx.inputs[0], readPerm(ctx.inputs[0], ctx.inputs[1]), true)],
});

registerKernel({
  op: 'ReverseV2',
  kernel: (ctx) => {
    const [x, axisT] = ctx.inputs;
    if (x.rank === 0) return [x];
    if (axisT.rank !== 1) throw invalidArgument(`'dims' must be 1-dimension, not ${axisT.rank}`);
    const axes = readInts(axisT, 'axis');
    const rank = x.rank;
    const reversed = new Array<boolean>(rank).fill(false);
    axes.forEach((a, i) => {
      const c = a < 0 ? a + rank : a;
      if (!(c >= 0 && c < rank)) {
        throw invalidArgument(`'axis'[${i}] = ${a} is out of valid range [0, ${rank - 1}`);
      }
      if (reversed[c]) throw invalidArgument(`axis ${c} specified more than once.`);
      reversed[c] = true;
    });
    if (!reversed.some((r) => r) || x.size === 0) return [x];
    const dims = reversed.map((r, i) => (r ? i : -1)).filter((i) => i >= 0);
    // tfjs-backend-wasm's Reverse mangles bool tensors; those use the gather map below.
    if (preferTf(x) && x.dtype !== 'bool') return [onTf(x.dtype, [x], (xt) => tf.reverse(xt, dims))];
    const st = stridesOf(x.shape);
    const offsets = x.shape.map((len, d) => {
      const o = new Int32Array(len);
      for (let i = 0; i < len; i++) o[i] = (reversed[d] ? len - 1 - i : i) * st[d];
      return o;
    });
    return [takeFlat(x, x.shape, composeMap(x.shape, offsets))];
  },
});

/** Reads and checks a [rank, 2] paddings matrix. */
function readPaddings(x: Tensor, padT: Tensor, sep: string): Array<[number, number]> {
  if (!(padT.rank === 2 && padT.shape[1] === 2)) {
    throw invalidArgument(`paddings must be a matrix with 2 columns: ${dbg(padT.shape)}`);
  }
  if (padT.shape[0] !== x.rank) {
    throw invalidArgument(
      `The first dimension of paddings must be the rank of inputs${dbg(padT.shape)}${sep}${dbg(x.shape)}`,
    );
  }
  const p = readInts(padT, 'paddings');
  const out: Array<[number, number]> = [];
  for (let i = 0; i < x.rank; i++) out.push([p[2 * i], p[2 * i + 1]]);
  return out;
}

function pad(x: Tensor, padT: Tensor, constant: Tensor | undefined): Tensor {
  const pads = readPaddings(x, padT, ' ');
  if (constant && constant.rank !== 0) {
    throw invalidArgument(`constant_values must be a scalar. Found: ${dbg(constant.shape)}`);
  }
  for (const [b, a] of pads) {
    if (b < 0 || a < 0) throw invalidArgument(`Paddings must be non-negative: ${b} ${a}`);
  }
  if (x.rank === 0) return x;
  const outShape = x.shape.map((d, i) => pads[i][0] + d + pads[i][1]);
  checkTensorSize(outShape, x.dtype);
  if (pads.every(([b, a]) => b === 0 && a === 0)) return x;
  if (sizeOfShape(outShape) === 0) return emptyTensor(x.dtype, outShape);
  if (x.size > 0 && preferTf(...(constant ? [x, constant] : [x]))) {
    const value = constant ? constant.numbers()[0] : 0;
    return onTf(x.dtype, [x], (xt) => tf.pad(xt, pads, value));
  }
  const st = stridesOf(x.shape);
  const offsets = outShape.map((len, d) => {
    const o = new Int32Array(len);
    const [before] = pads[d];
    for (let i = 0; i < len; i++) {
      const j = i - before;
      o[i] = j >= 0 && j < x.shape[d] ? j * st[d] : -1;
    }
    return o;
  });
  return takeFlat(x, outShape, composeMap(outShape, offsets), constant);
}

registerKernel({ op: 'Pad', kernel: (ctx) => [pad(ctx.inputs[0], ctx.inputs[1], undefined)] });

registerKernel({
  op: 'PadV2',
  kernel: (ctx) => [pad(ctx.inputs[0], ctx.inputs[1], ctx.inputs[2])],
});

registerKernel({
  op: 'MirrorPad',
  kernel: (ctx) => {
    const [x, padT] = ctx.inputs;
    const mode = ctx.attrs.string('mode');
    if (mode !== 'REFLECT' && mode !== 'SYMMETRIC') throw invalidArgument('mode must be either REFLECT or SYMMETRIC.');
    const offset = mode === 'REFLECT' ? 1 : 0;
    const pads = readPaddings(x, padT, ', ');
    pads.forEach(([b, a], d) => {
      const dim = x.shape[d];
      if (b < 0 || a < 0) throw invalidArgument(`paddings must be non-negative: ${b} ${a}`);
      if (offset === 0 && !(b <= dim && a <= dim)) {
        throw invalidArgument(`paddings must be no greater than the dimension size: ${b}, ${a} greater than ${dim}`);
      }
      if (offset === 1 && !(b < dim && a < dim)) {
        throw invalidArgument(`paddings must be less than the dimension size: ${b}, ${a} not less than ${dim}`);
      }
    });
    const outShape = x.shape.map((d, i) => pads[i][0] + d + pads[i][1]);
    checkTensorSize(outShape, x.dtype);
    if (sizeOfShape(outShape) === x.size) return [x.reshape(outShape)];
    if (preferTf(x)) {
      return [onTf(x.dtype, [x], (xt) => tf.mirrorPad(xt, pads, mode === 'REFLECT' ? 'reflect' : 'symmetric'))];
    }
    const st = stridesOf(x.shape);
    const offsets = outShape.map((len, d) => {
      const o = new Int32Array(len);
      const n = x.shape[d];
      const [before] = pads[d];
      for (let i = 0; i < len; i++) {
        let j = i - before;
        if (j < 0) j = -j - 1 + offset;
        else if (j >= n) j = 2 * n - 1 - j - offset;
        o[i] = j * st[d];
      }
      return o;
    });
    return [takeFlat(x, outShape, composeMap(outShape, offsets))];
  },
});

/** Broadcasts `x` to `shape` with broadcast_to_op.cc's checks and wording. */
export function broadcastTo(x: Tensor, shape: number[]): Tensor {
  if (sameShape(shape, x.shape)) return x;
  if (x.rank > shape.length) {
    throw invalidArgument(
      `Rank of input (${x.rank}) must be no greater than rank of output shape (${shape.length}).`,
    );
  }
  const b = broadcastShapes(x.shape, shape);
  if (!b) throw invalidArgument(`Incompatible shapes: ${dbg(x.shape)} vs. ${dbg(shape)}`);
  if (!sameShape(b, shape)) {
    throw invalidArgument(`Unable to broadcast tensor of shape ${dbg(x.shape)} to tensor of shape ${dbg(shape)}`);
  }
  checkTensorSize(shape, x.dtype);
  if (sizeOfShape(shape) === 0) return emptyTensor(x.dtype, shape);
  if (preferTf(x)) return onTf(x.dtype, [x], (xt) => tf.broadcastTo(xt, shape));
  return takeFlat(x, shape, composeMap(shape, broadcastOffsets(x.shape, shape)));
}

registerKernel({
  op: 'BroadcastTo',
  kernel: (ctx) => [broadcastTo(ctx.inputs[0], makeShape(ctx.inputs[1], ctx.inputs[0].dtype))],
});

registerKernel({
  op: 'BroadcastArgs',
  kernel: (ctx) => {
    const [s0, s1] = ctx.inputs;
    [s0, s1].forEach((t, i) => {
      if (t.rank !== 1) throw invalidArgument(`In[${i}] must be a vector.${dbg(t.shape)}`);
    });
    const a = readInts(s0, 's0');
    const b = readInts(s1, 's1');
    const out = broadcastShapes(a, b);
    if (!out) throw invalidArgument(`Incompatible shapes: [${a.join(',')}] vs. [${b.join(',')}]`);
    return [intVector(s0.dtype, out)];
  },
});
