/**
 * Tensors made from scalars: Fill, ZerosLike, OnesLike, Range, LinSpace,
 * OneHot. Outputs keep TF's dtypes: Fill takes the value's dtype, Range its
 * Tidx, OneHot its T. Values are computed in the dtype's own precision
 * (float32 accumulation for Range, int64 as BigInt) the way the C++ kernels
 * in constant_op.cc, sequence_ops.cc and one_hot_op.cc do.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { DType } from '../dtypes.js';
import { isInteger } from '../dtypes.js';
import { invalidArgument, unimplemented } from '../errors.js';
import { checkTensorSize } from '../limits.js';
import { allocHost, sizeOf, Tensor, type HostData } from '../tensor.js';
import {
  dbg,
  elementWidth,
  emptyTensor,
  fillHost,
  formatNumber,
  isIndexType,
  makeShape,
  onTf,
  preferTf,
  readInts,
  stridesOf,
  tfWhere,
} from './array_util.js';
import { registerKernel } from './registry.js';

/** Whether a freshly made tensor of this dtype and size belongs on the backend. */
function bigNumeric(dtype: DType, size: number): boolean {
  return (dtype === 'float32' || dtype === 'int32' || dtype === 'bool') && size >= 256;
}

registerKernel({
  op: 'Fill',
  kernel: (ctx) => {
    const [dimsT, value] = ctx.inputs;
    if (dimsT.rank !== 1) throw invalidArgument(`dims must be a vector, got shape ${dbg(dimsT.shape)}`);
    if (value.rank !== 0) throw invalidArgument(`value must be a scalar, got shape ${dbg(value.shape)}`);
    const shape = makeShape(dimsT, value.dtype);
    const n = sizeOf(shape);
    if (n === 0) return [emptyTensor(value.dtype, shape)];
    if (bigNumeric(value.dtype, n)) {
      return [onTf(value.dtype, [value], (v) => tf.broadcastTo(tf.reshape(v, shape.map(() => 1)), shape))];
    }
    return [fillHost(value.dtype, shape, value.values())];
  },
});

registerKernel({
  op: 'ZerosLike',
  kernel: (ctx) => {
    const x = ctx.inputs[0];
    if (x.dtype === 'variant' || x.dtype === 'resource') {
      throw unimplemented(`ZerosLike of a ${x.dtype} tensor is not supported`);
    }
    if (preferTf(x)) return [onTf(x.dtype, [x], (xt) => tf.zerosLike(xt))];
    return [Tensor.fromHost(x.dtype, x.shape, allocHost(x.dtype, x.size))];
  },
});

/** One element of `dtype` with value 1 in host storage form. */
function oneOf(dtype: DType): HostData {
  const one = allocHost(dtype, 1);
  if (dtype === 'int64' || dtype === 'uint64') (one as BigInt64Array)[0] = 1n;
  else (one as Float64Array)[0] = 1; // complex: (1, 0)
  return one;
}

registerKernel({
  op: 'OnesLike',
  kernel: (ctx) => {
    const x = ctx.inputs[0];
    if (x.dtype === 'string' || x.dtype === 'variant' || x.dtype === 'resource') {
      throw unimplemented(`OnesLike of a ${x.dtype} tensor is not supported`);
    }
    if (preferTf(x)) return [onTf(x.dtype, [x], (xt) => tf.onesLike(xt))];
    return [fillHost(x.dtype, x.shape, oneOf(x.dtype))];
  },
});

/** Rounds a double to the precision of `dtype` (float32 family) or leaves it. */
function roundTo(dtype: DType, v: number): number {
  return dtype === 'float64' ? v : Math.fround(v);
}

function scalarArg(t: Tensor, name: string): void {
  if (!(t.rank === 0 || (t.rank === 1 && t.shape[0] === 1))) {
    throw invalidArgument(`${name} must be a scalar, not shape ${dbg(t.shape)}`);
  }
}

registerKernel({
  op: 'Range',
  kernel: (ctx) => {
    const [startT, limitT, deltaT] = ctx.inputs;
    scalarArg(startT, 'start');
    scalarArg(limitT, 'limit');
    scalarArg(deltaT, 'delta');
    const dtype = startT.dtype;
    if (dtype === 'int64') {
      const [start] = startT.values() as BigInt64Array;
      const [limit] = limitT.values() as BigInt64Array;
      const [delta] = deltaT.values() as BigInt64Array;
      checkRange(start, limit, delta, dtype);
      const abs = (v: bigint) => (v < 0n ? -v : v);
      const size = Number((abs(limit - start) + abs(delta) - 1n) / abs(delta));
      checkTensorSize([size], dtype);
      const out = new BigInt64Array(size);
      let v = start;
      for (let i = 0; i < size; i++, v += delta) out[i] = v;
      return [Tensor.fromHost('int64', [size], out)];
    }
    const start = startT.numbers()[0];
    const limit = limitT.numbers()[0];
    const delta = deltaT.numbers()[0];
    checkRange(start, limit, delta, dtype);
    let size: number;
    if (isInteger(dtype)) {
      size = Math.floor((Math.abs(limit - start) + Math.abs(delta) - 1) / Math.abs(delta));
    } else {
      size = Math.ceil(Math.abs(roundTo(dtype, roundTo(dtype, limit - start) / delta)));
    }
    if (!(size < 2 ** 63)) throw invalidArgument('Requires ((limit - start) / delta) <= 9223372036854775807');
    checkTensorSize([size], dtype);
    const out = allocHost(dtype, size) as Float64Array;
    let v = start;
    for (let i = 0; i < size; i++) {
      out[i] = v;
      v = isInteger(dtype) ? v + delta : roundTo(dtype, v + delta);
    }
    return [Tensor.fromHost(dtype, [size], out)];
  },
});

function checkRange(start: number | bigint, limit: number | bigint, delta: number | bigint, d: DType): void {
  const f = (v: number | bigint) => formatNumber(v, d);
  if (delta == 0) throw invalidArgument(`Requires delta != 0: ${f(delta)}`);
  // Negated comparisons, as TF's: a NaN bound fails them.
  if (delta > 0 && !(start <= limit)) {
    throw invalidArgument(`Requires start <= limit when delta > 0: ${f(start)}/${f(limit)}`);
  }
  if (!(delta > 0) && !(start >= limit)) {
    throw invalidArgument(`Requires start >= limit when delta < 0: ${f(start)}/${f(limit)}`);
  }
}

registerKernel({
  op: 'LinSpace',
  kernel: (ctx) => {
    const [startT, stopT, numT] = ctx.inputs;
    if (startT.rank !== 0) throw invalidArgument(`start must be a scalar, not shape ${dbg(startT.shape)}`);
    if (stopT.rank !== 0) throw invalidArgument(`stop must be a scalar, not shape ${dbg(stopT.shape)}`);
    if (numT.rank !== 0) throw invalidArgument(`num must be a scalar, not shape ${dbg(numT.shape)}`);
    const dtype = startT.dtype;
    const start = startT.numbers()[0];
    const stop = stopT.numbers()[0];
    const num = readInts(numT, 'num')[0];
    if (num <= 0) throw invalidArgument(`Requires num > 0: ${num}`);
    checkTensorSize([num], dtype);
    const out = allocHost(dtype, num) as Float64Array;
    if (num === 1) {
      out[0] = start;
    } else {
      const step = roundTo(dtype, roundTo(dtype, stop - start) / (num - 1));
      for (let i = 0; i < num - 1; i++) out[i] = roundTo(dtype, start + roundTo(dtype, step * i));
      out[num - 1] = stop;
    }
    return [Tensor.fromHost(dtype, [num], out)];
  },
});

registerKernel({
  op: 'OneHot',
  kernel: (ctx) => {
    const [indices, depthT, onT, offT] = ctx.inputs;
    const axisAttr = ctx.attrs.int('axis', -1);
    const dims = indices.rank;
    if (depthT.rank !== 0) throw invalidArgument(`depth must be a scalar, but got: ${dbg(depthT.shape)}`);
    if (onT.rank !== 0) throw invalidArgument(`on_value must be a scalar, but got: ${dbg(onT.shape)}`);
    if (offT.rank !== 0) throw invalidArgument(`off_value must be a scalar, but got: ${dbg(offT.shape)}`);
    const outDims = dims + 1;
    if (!(axisAttr === -1 || (axisAttr >= 0 && axisAttr < outDims))) {
      throw invalidArgument(`Expected axis to be -1 or between [0, ${outDims}).  But received: ${axisAttr}`);
    }
    if (!isIndexType(indices.dtype)) throw invalidArgument('indices must be uint8, int8, int32 or int64.');
    const depth = readInts(depthT, 'depth')[0];
    if (depth < 0) throw invalidArgument(`depth must be non-negative, got: ${depth}`);
    const axis = axisAttr === -1 ? dims : axisAttr;
    const outShape = [...indices.shape];
    outShape.splice(axis, 0, depth);
    const dtype = onT.dtype;
    const n = checkTensorSize(outShape, dtype);
    if (n === 0) return [emptyTensor(dtype, outShape)];
    if (preferTf(indices, onT, offT)) {
      // equal(indices expanded at axis, range(depth) along axis) picks on/off.
      const depthShape = [depth, ...new Array<number>(dims - axis).fill(1)];
      return [
        onTf(dtype, [indices, onT, offT], (ix, on, off) =>
          tfWhere(
            tf.equal(tf.expandDims(tf.cast(ix, 'int32'), axis), tf.reshape(tf.range(0, depth, 1, 'int32'), depthShape)),
            on,
            off,
          ),
        ),
      ];
    }
    const idx = indices.numbers();
    // out[prefix, d, suffix] = indices[prefix, suffix] == d ? on : off
    const suffix = sizeOf(indices.shape.slice(axis));
    const prefix = sizeOf(indices.shape.slice(0, axis));
    const w = elementWidth(dtype);
    const out = allocHost(dtype, n) as unknown[];
    const on = onT.values() as unknown as unknown[];
    const off = offT.values() as unknown as unknown[];
    const outStride = stridesOf([prefix, depth, suffix]);
    for (let p = 0; p < prefix; p++) {
      for (let d = 0; d < depth; d++) {
        for (let s = 0; s < suffix; s++) {
          const src = idx[p * suffix + s] === d ? on : off;
          const o = p * outStride[0] + d * outStride[1] + s;
          for (let c = 0; c < w; c++) out[o * w + c] = src[c];
        }
      }
    }
    return [Tensor.fromHost(dtype, outShape, out as unknown as HostData)];
  },
});
