/**
 * Choosing elements by a condition: Where (coordinates of true / nonzero
 * elements, int64 [num_true, rank]), Select (TF1: a vector condition picks
 * whole rows) and SelectV2 (NumPy broadcasting of condition, then, else).
 * Error texts follow where_op.cc and cwise_op_select.cc.
 */
import * as tf from '@tensorflow/tfjs-core';
import { invalidArgument } from '../errors.js';
import { checkTensorSize } from '../limits.js';
import { allocHost, sizeOf, Tensor, type HostData } from '../tensor.js';
import {
  broadcastOffsets,
  broadcastShapes,
  composeMap,
  dbg,
  elementWidth,
  emptyTensor,
  onTf,
  preferTf,
  sameShape,
  stridesOf,
  tfWhere,
} from './array_util.js';
import { registerKernel } from './registry.js';

/** Truth of each element: nonzero numbers, true bools, complex with a nonzero part. */
function truthMask(t: Tensor): Uint8Array {
  const v = t.values() as ArrayLike<number | bigint>;
  const n = t.size;
  const mask = new Uint8Array(n);
  if (elementWidth(t.dtype) === 2) {
    for (let i = 0; i < n; i++) mask[i] = v[2 * i] !== 0 || v[2 * i + 1] !== 0 ? 1 : 0;
  } else {
    for (let i = 0; i < n; i++) {
      const x = v[i];
      mask[i] = typeof x === 'bigint' ? (x !== 0n ? 1 : 0) : x !== 0 ? 1 : 0;
    }
  }
  return mask;
}

registerKernel({
  op: 'Where',
  kernel: (ctx) => {
    const cond = ctx.inputs[0];
    if (cond.rank === 0) throw invalidArgument('WhereOp : Unhandled input dimensions: 0');
    if (cond.dtype === 'string' || cond.dtype === 'resource' || cond.dtype === 'variant') {
      throw invalidArgument(`Where does not accept ${cond.dtype} conditions`);
    }
    const mask = truthMask(cond);
    let count = 0;
    for (let i = 0; i < mask.length; i++) count += mask[i];
    const rank = cond.rank;
    const out = new BigInt64Array(count * rank);
    const st = stridesOf(cond.shape);
    let k = 0;
    for (let i = 0; i < mask.length; i++) {
      if (!mask[i]) continue;
      let rest = i;
      for (let d = 0; d < rank; d++) {
        const q = Math.floor(rest / st[d]);
        out[k++] = BigInt(q);
        rest -= q * st[d];
      }
    }
    return [Tensor.fromHost('int64', [count, rank], out)];
  },
});

/** out[i] = mask[cIdx[i]] ? t[tIdx[i]] : e[eIdx[i]] on the host, any dtype. */
function selectHost(
  t: Tensor,
  e: Tensor,
  shape: readonly number[],
  mask: Uint8Array,
  cIdx: ArrayLike<number>,
  tIdx: ArrayLike<number>,
  eIdx: ArrayLike<number>,
): Tensor {
  const w = elementWidth(t.dtype);
  const tv = t.values() as unknown as ArrayLike<unknown>;
  const ev = e.values() as unknown as ArrayLike<unknown>;
  const n = cIdx.length;
  const out = allocHost(t.dtype, n) as unknown as unknown[];
  for (let i = 0; i < n; i++) {
    const fromT = mask[cIdx[i]] !== 0;
    const src = fromT ? tv : ev;
    const j = fromT ? tIdx[i] : eIdx[i];
    for (let c = 0; c < w; c++) out[i * w + c] = src[j * w + c];
  }
  return Tensor.fromHost(t.dtype, shape, out as unknown as HostData);
}

function identityMap(n: number): Int32Array {
  const m = new Int32Array(n);
  for (let i = 0; i < n; i++) m[i] = i;
  return m;
}

registerKernel({
  op: 'Select',
  kernel: (ctx) => {
    const [cond, t, e] = ctx.inputs;
    if (cond.rank === 0) {
      if (!sameShape(t.shape, e.shape)) {
        throw invalidArgument(`'then' and 'else' must have the same size.  but received: ${dbg(t.shape)} vs. ${dbg(e.shape)}`);
      }
      return [truthMask(cond)[0] ? t : e];
    }
    const rows = cond.rank === 1 && t.rank !== 1;
    if (rows) {
      if (t.rank < 1) throw invalidArgument(`'then' must be at least a vector, but saw shape: ${dbg(t.shape)}`);
      if (t.shape[0] !== cond.size) {
        throw invalidArgument(
          `Number of batches of 'then' must match size of 'cond', but saw: ${t.shape[0]} vs. ${cond.size}`,
        );
      }
      if (!sameShape(t.shape, e.shape)) {
        throw invalidArgument(`'then' and 'else' must have the same size.  but received: ${dbg(t.shape)} vs. ${dbg(e.shape)}`);
      }
    } else {
      const inputs = [cond, t, e];
      for (let i = 1; i < 3; i++) {
        if (!sameShape(inputs[0].shape, inputs[i].shape)) {
          throw invalidArgument(
            `Inputs to operation ${ctx.node.name} of type ${ctx.node.op} must have the same size and shape.  Input 0: ${dbg(inputs[0].shape)} != input ${i}: ${dbg(inputs[i].shape)}`,
          );
        }
      }
    }
    if (t.size === 0) return [emptyTensor(t.dtype, t.shape)];
    if (preferTf(t, e) && (cond.isOnBackend || cond.dtype === 'bool')) {
      const cShape = rows ? [cond.size, ...t.shape.slice(1).map(() => 1)] : [...t.shape];
      return [onTf(t.dtype, [cond, t, e], (c, a, b) => tfWhere(tf.reshape(c, cShape), a, b))];
    }
    const mask = truthMask(cond);
    const n = t.size;
    const all = identityMap(n);
    let cIdx: ArrayLike<number> = all;
    if (rows) {
      const rowLen = n / cond.size;
      const c = new Int32Array(n);
      for (let i = 0; i < n; i++) c[i] = Math.floor(i / rowLen);
      cIdx = c;
    }
    return [selectHost(t, e, t.shape, mask, cIdx, all, all)];
  },
});

registerKernel({
  op: 'SelectV2',
  kernel: (ctx) => {
    const [cond, t, e] = ctx.inputs;
    const ct = broadcastShapes(cond.shape, t.shape);
    const shape = ct && broadcastShapes(ct, e.shape);
    if (!shape) {
      throw invalidArgument(
        `condition ${dbg(cond.shape)}, then ${dbg(t.shape)}, and else ${dbg(e.shape)} must be broadcastable`,
      );
    }
    checkTensorSize(shape, t.dtype);
    if (sizeOf(shape) === 0) return [emptyTensor(t.dtype, shape)];
    if (preferTf(t, e) && (cond.isOnBackend || cond.dtype === 'bool')) {
      return [onTf(t.dtype, [cond, t, e], (c, a, b) => tfWhere(c, a, b))];
    }
    const mask = truthMask(cond);
    const cIdx = composeMap(shape, broadcastOffsets(cond.shape, shape));
    const tIdx = composeMap(shape, broadcastOffsets(t.shape, shape));
    const eIdx = composeMap(shape, broadcastOffsets(e.shape, shape));
    return [selectHost(t, e, shape, mask, cIdx, tIdx, eIdx)];
  },
});
