/**
 * Cross (tf.linalg.cross; math_ops.cc, cross_op.cc): both inputs of the same
 * shape, innermost dimension 3; integer products wrap like TF's; float32 is
 * computed in double and rounded.
 */
import { isInteger } from '../../dtypes.js';
import { failedPrecondition, invalidArgument } from '../../errors.js';
import { Tensor, allocHost, shapeString } from '../../tensor.js';
import { unsupportedDtype } from '../host_math.js';
import { registerKernel } from '../registry.js';

registerKernel({
  op: 'Cross',
  kernel: (ctx) => {
    const [a, b] = ctx.inputs;
    if (a.shape.length !== b.shape.length || a.shape.some((d, i) => d !== b.shape[i])) {
      throw invalidArgument(`Both inputs must be of same shape: ${shapeString(a.shape)} vs. ${shapeString(b.shape)}`);
    }
    if (a.rank < 1) throw invalidArgument(`Input must be at least 1D${shapeString(a.shape)}`);
    if (a.shape[a.rank - 1] !== 3) throw failedPrecondition('Cross-products are only defined for 3-element vectors.');
    if (a.dtype !== b.dtype) throw unsupportedDtype('Cross', b.dtype);
    const dtype = a.dtype;
    if (!(isInteger(dtype) || dtype === 'float32' || dtype === 'float64' || dtype === 'float16' || dtype === 'bfloat16')) {
      throw unsupportedDtype('Cross', dtype);
    }
    const out = allocHost(dtype, a.size);
    const av = a.values();
    const bv = b.values();
    if (dtype === 'int64' || dtype === 'uint64') {
      const x = av as BigInt64Array;
      const y = bv as BigInt64Array;
      const o = out as BigInt64Array;
      const wrap = (v: bigint) => (dtype === 'int64' ? BigInt.asIntN(64, v) : BigInt.asUintN(64, v));
      for (let i = 0; i < a.size; i += 3) {
        o[i] = wrap(x[i + 1] * y[i + 2] - x[i + 2] * y[i + 1]);
        o[i + 1] = wrap(x[i + 2] * y[i] - x[i] * y[i + 2]);
        o[i + 2] = wrap(x[i] * y[i + 1] - x[i + 1] * y[i]);
      }
    } else {
      const x = av as ArrayLike<number>;
      const y = bv as ArrayLike<number>;
      const o = out as Float64Array;
      const int32 = dtype === 'int32';
      const mul = int32 ? Math.imul : (p: number, q: number) => p * q;
      const sub = int32 ? (p: number, q: number) => (p - q) | 0 : (p: number, q: number) => p - q;
      for (let i = 0; i < a.size; i += 3) {
        o[i] = sub(mul(x[i + 1], y[i + 2]), mul(x[i + 2], y[i + 1]));
        o[i + 1] = sub(mul(x[i + 2], y[i]), mul(x[i], y[i + 2]));
        o[i + 2] = sub(mul(x[i], y[i + 1]), mul(x[i + 1], y[i]));
      }
    }
    return [Tensor.fromHost(dtype, a.shape, out)];
  },
});
