/**
 * Array kernels that pass tensors through or only change their shape:
 * Const, Identity and friends, NoOp, EnsureShape, CheckNumerics, Shape,
 * ShapeN, Size, Rank, Reshape, Squeeze, ExpandDims.
 *
 * Reshape-like kernels share storage with their input (Tensor.reshape) and
 * so work for every dtype; pass-through kernels return the input itself.
 */
import type { DType } from '../dtypes.js';
import { dtypeShortName } from '../dtypes.js';
import { internal, invalidArgument } from '../errors.js';
import type { TensorShape } from '../graph/types.js';
import { Tensor, type Shape } from '../tensor.js';
import { dbg, readInts } from './array_util.js';
import { registerKernel } from './registry.js';

registerKernel({ op: 'Const', kernel: (ctx) => [ctx.attrs.tensor('value')] });

registerKernel({
  op: ['Identity', 'Snapshot', 'StopGradient', 'PreventGradient', 'PlaceholderWithDefault', 'DeepCopy'],
  passThrough: true,
  kernel: (ctx) => [ctx.inputs[0]],
});

registerKernel({ op: 'IdentityN', passThrough: true, kernel: (ctx) => [...ctx.inputs] });

registerKernel({ op: 'NoOp', kernel: () => [] });

/** PartialTensorShape::DebugString: "[3,?]" or "<unknown>". */
function partialShapeString(s: TensorShape): string {
  if (s.unknownRank) return '<unknown>';
  return `[${s.dims.map((d) => (d < 0 ? '?' : String(d))).join(',')}]`;
}

function compatible(expected: TensorShape, actual: Shape): boolean {
  if (expected.unknownRank) return true;
  if (expected.dims.length !== actual.length) return false;
  return expected.dims.every((d, i) => d < 0 || d === actual[i]);
}

registerKernel({
  op: 'EnsureShape',
  kernel: (ctx) => {
    const x = ctx.inputs[0];
    const expected = ctx.attrs.shape('shape');
    if (!compatible(expected, x.shape)) {
      const name = ctx.node.input[0] ?? ctx.node.name;
      throw invalidArgument(
        `Shape of tensor ${name} ${dbg(x.shape)} is not compatible with expected shape ${partialShapeString(expected)}.`,
      );
    }
    return [x];
  },
});

/** Finds NaN / +Inf / -Inf among a floating tensor's elements. */
function scanNumerics(t: Tensor): { nan: boolean; posInf: boolean; negInf: boolean } {
  const v = t.values() as ArrayLike<number>;
  let nan = false;
  let posInf = false;
  let negInf = false;
  for (let i = 0; i < v.length; i++) {
    const x = v[i];
    if (x !== x) nan = true;
    else if (x === Infinity) posInf = true;
    else if (x === -Infinity) negInf = true;
  }
  return { nan, posInf, negInf };
}

registerKernel({
  op: 'CheckNumerics',
  kernel: (ctx) => {
    const x = ctx.inputs[0];
    const message = ctx.attrs.string('message', '');
    const { nan, posInf, negInf } = scanNumerics(x);
    const inf = posInf || negInf;
    const status = inf && nan ? 'Inf and NaN' : inf ? 'Inf' : nan ? 'NaN' : '';
    if (status) throw invalidArgument(`${message} : Tensor had ${status} values`);
    return [x];
  },
});

registerKernel({
  op: 'CheckNumericsV2',
  kernel: (ctx) => {
    const x = ctx.inputs[0];
    const message = ctx.attrs.string('message', '');
    const { nan, posInf, negInf } = scanNumerics(x);
    const found = [negInf ? '-Inf' : '', posInf ? '+Inf' : '', nan ? 'NaN' : ''].filter((s) => s);
    if (found.length > 0) {
      const status =
        found.length === 3 ? `${found[0]}, ${found[1]}, and ${found[2]}` : found.join(' and ');
      throw invalidArgument(`${message} : Tensor had ${status} values`);
    }
    return [x];
  },
});

/** A host int32 or int64 vector holding `values`. */
export function intVector(dtype: DType, values: readonly number[]): Tensor {
  if (dtype === 'int64') return Tensor.fromHost('int64', [values.length], BigInt64Array.from(values, (v) => BigInt(v)));
  if (dtype === 'int32') return Tensor.fromHost('int32', [values.length], Int32Array.from(values));
  throw internal(`index outputs must be int32 or int64, not ${dtype}`);
}

function intScalar(dtype: DType, value: number): Tensor {
  return intVector(dtype, [value]).reshape([]);
}

registerKernel({
  op: 'Shape',
  kernel: (ctx) => [intVector(ctx.attrs.type('out_type', 'int32'), ctx.inputs[0].shape)],
});

registerKernel({
  op: 'ShapeN',
  kernel: (ctx) => {
    const outType = ctx.attrs.type('out_type', 'int32');
    return ctx.inputs.map((t) => intVector(outType, t.shape));
  },
});

registerKernel({
  op: 'Size',
  kernel: (ctx) => [intScalar(ctx.attrs.type('out_type', 'int32'), ctx.inputs[0].size)],
});

registerKernel({ op: 'Rank', kernel: (ctx) => [intScalar('int32', ctx.inputs[0].rank)] });

/** TF's Reshape: one -1 is inferred, zero sizes allowed, errors worded as reshape_op.h. */
export function reshapeTarget(x: Tensor, sizes: Tensor): number[] {
  if (sizes.rank !== 1) throw invalidArgument(`sizes input must be 1-D, not ${dbg(sizes.shape)}`);
  if (sizes.dtype !== 'int32' && sizes.dtype !== 'int64') {
    throw invalidArgument(`desired shape must be a DT_INT32 or DT_INT64 vector, not a ${dtypeShortName(sizes.dtype)}`);
  }
  const req = readInts(sizes, 'shape');
  const shape: number[] = [];
  let product = 1;
  let unknown = -1;
  let sizesHaveZero = false;
  // The element count of `shape` so far (zeros included), for TF's overflow check.
  let elements = 1;
  for (let d = 0; d < req.length; d++) {
    const s = req[d];
    if (s > 0) {
      elements *= s;
      if (elements >= 2 ** 63 || s > Number.MAX_SAFE_INTEGER) {
        const text = sizes.dtype === 'int64' ? Array.from(sizes.values() as BigInt64Array).join(', ') : req.join(', ');
        throw invalidArgument(`Shape [${text}] has too many elements`);
      }
    } else if (s === 0) {
      elements = 0;
    }
    if (s === -1) {
      if (unknown !== -1) throw invalidArgument(`Only one input size may be -1, not both ${unknown} and ${d}`);
      unknown = d;
      shape.push(1);
    } else if (s < 0) {
      throw invalidArgument(`Size ${d} must be non-negative, not ${s}`);
    } else {
      if (s === 0) sizesHaveZero = true;
      else product *= s;
      shape.push(s);
    }
  }
  if (unknown !== -1) {
    let inputElements = 1;
    let inputHasZero = false;
    for (const dim of x.shape) {
      if (dim > 0 || !sizesHaveZero) inputElements *= dim;
      else inputHasZero = true;
    }
    const missing = Math.floor(inputElements / product);
    if (!inputHasZero && product * missing !== inputElements) {
      throw invalidArgument(
        `Input to reshape is a tensor with ${inputElements} values, but the requested shape requires a multiple of ${product}`,
      );
    }
    shape[unknown] = missing;
  }
  let total = 1;
  for (const s of shape) total *= s;
  if (total !== x.size) {
    throw invalidArgument(`Input to reshape is a tensor with ${x.size} values, but the requested shape has ${total}`);
  }
  return shape;
}

registerKernel({
  op: 'Reshape',
  kernel: (ctx) => {
    const [x, sizes] = ctx.inputs;
    return [x.reshape(reshapeTarget(x, sizes))];
  },
});

registerKernel({
  op: 'Squeeze',
  kernel: (ctx) => {
    const x = ctx.inputs[0];
    if (x.dtype === 'variant') throw invalidArgument('Squeeze on Variant not supported');
    const dims = ctx.attrs.ints('squeeze_dims', []);
    const rank = x.rank;
    const wrapped = new Set<number>();
    for (const dim of dims) {
      if (dim < -rank || dim >= rank) {
        throw invalidArgument(`Tried to squeeze dim index ${dim} for tensor with ${rank} dimensions.`);
      }
      wrapped.add(dim < 0 ? dim + rank : dim);
    }
    const shape: number[] = [];
    for (let i = 0; i < rank; i++) {
      const d = x.shape[i];
      if (wrapped.size > 0) {
        if (wrapped.has(i)) {
          if (d !== 1) throw invalidArgument(`Can not squeeze dim[${i}], expected a dimension of 1, got ${d}`);
        } else {
          shape.push(d);
        }
      } else if (d !== 1) {
        shape.push(d);
      }
    }
    return [x.reshape(shape)];
  },
});

registerKernel({
  op: 'ExpandDims',
  kernel: (ctx) => {
    const [x, dimT] = ctx.inputs;
    if (x.dtype === 'variant') throw invalidArgument('ExpandDims on Variant not supported');
    if (dimT.size !== 1) throw invalidArgument("'dim' must be a tensor with a single value");
    let dim = readInts(dimT, 'dim')[0];
    const rank = x.rank;
    if (dim < -1 - rank || dim > rank) {
      throw invalidArgument(`Tried to expand dim index ${dim} for tensor with ${rank} dimensions.`);
    }
    if (dim < 0) dim += rank + 1;
    dim = Math.min(dim, rank);
    const shape = [...x.shape];
    shape.splice(dim, 0, 1);
    return [x.reshape(shape)];
  },
});
