/**
 * Math kernels (tensorflow/core/ops/math_ops.cc): elementwise binary and
 * unary ops, AddN, ClipByValue, Cumsum/Cumprod, MatMul, BatchMatMul and
 * Einsum (one or two operands).
 *
 * Dispatch by dtype:
 *  - float32 (and float16/bfloat16, held as float32), int32 and bool run on
 *    tfjs (WASM) and never leave the backend, except where a tfjs kernel
 *    differs from TF's semantics (integer division/modulo/power, float
 *    FloorMod/TruncateMod), which run on the host;
 *  - float64, the other integer widths, int64/uint64 (exact, as bigint) and
 *    strings run on the host (host_math.ts), wrapping integers like TF does.
 * TF's broadcasting rules and error texts apply to every dtype. A dtype an op
 * has no kernel for is INVALID_ARGUMENT naming the op and dtype.
 *
 * Also exports `runTf` (the tfjs dispatch every numeric family uses) and
 * `checkSameDtype`.
 */
import * as tf from '@tensorflow/tfjs-core';
import { type DType, dtypeShortName, isInteger } from '../dtypes.js';
import { invalidArgument } from '../errors.js';
import { checkTensorSize } from '../limits.js';
import { type Shape, Tensor, allocHost, shapeString, sizeOf } from '../tensor.js';
import { castTensor } from './cast.js';
import { runKernel, smallHostMath } from './dispatch.js';
import { simdBatchMatMul, simdTanh } from '../simd/simd_kernels.js';
import {
  type ArithOp,
  type BigArray,
  type NumArray,
  type Writable,
  aroundAxis,
  axisValues,
  bigDiv,
  bigFloorDiv,
  bigFloorMod,
  bigPow,
  bigTruncMod,
  binaryLoop,
  broadcastIndex,
  broadcastShapes,
  erf,
  erfc,
  f32Arith,
  floatFloorMod,
  gather,
  i32Arith,
  intDiv,
  intFloorDiv,
  intFloorMod,
  intPow,
  intTruncMod,
  isBigDtype,
  nanMax,
  nanMin,
  reductionIndex,
  roundHalfEven,
  sameShape,
  transposeIndex,
  unaryLoop,
  unsupportedDtype,
} from './host_math.js';
import { type KernelContext, registerKernel } from './registry.js';
import { complexBinary, complexMatMul, complexScan, complexUnary, isComplex } from './signal/complex.js';

// ---------------------------------------------------------------------------
// Dtype sets

export const FLOAT_TYPES: readonly DType[] = ['float16', 'bfloat16', 'float32', 'float64'];
export const INT_TYPES: readonly DType[] = ['int8', 'int16', 'int32', 'int64', 'uint8', 'uint16', 'uint32', 'uint64'];
export const NUMERIC_TYPES: readonly DType[] = [...FLOAT_TYPES, ...INT_TYPES];
const BOOL_ONLY: readonly DType[] = ['bool'];

/** How a dtype is held on tfjs, when its math runs there. */
export function tfKind(d: DType): 'float' | 'int' | 'bool' | undefined {
  if (d === 'float32' || d === 'float16' || d === 'bfloat16') return 'float';
  if (d === 'int32') return 'int';
  if (d === 'bool') return 'bool';
  return undefined;
}

// ---------------------------------------------------------------------------
// Shared helpers

/** Every op function tfjs exports: each runs in its own engine scope, so a bare call leaks nothing. */
const TF_OPS = new Set<unknown>(Object.values(tf).filter((v) => typeof v === 'function'));

/**
 * Runs `fn` on the inputs' tfjs tensors inside tf.tidy and wraps the result
 * tagged `outDtype`. Uploads happen before the tidy scope, so an input's
 * cached backend copy survives; the result never aliases an input. Pass
 * `scoped = false` when `fn` is a single tfjs op call (no intermediates):
 * it skips the tidy scope, which matters for batch-1 latency. A bare tfjs
 * op function is detected and never scoped.
 */
export function runTf(
  outDtype: DType,
  inputs: readonly Tensor[],
  fn: (...xs: tf.Tensor[]) => tf.Tensor,
  scoped = !TF_OPS.has(fn),
): Tensor {
  const xs = inputs.map((t) => t.toTf());
  let r = scoped ? tf.tidy(() => fn(...xs)) : fn(...xs);
  if (xs.includes(r)) r = tf.clone(r);
  return Tensor.fromTf(r, outDtype);
}

/** TF's error when an op's inputs that share the type attr have different dtypes. */
export function checkSameDtype(op: string, inputs: readonly Tensor[], first = 0): void {
  const want = inputs[first].dtype;
  for (let i = first + 1; i < inputs.length; i++) {
    if (inputs[i].dtype !== want) {
      throw invalidArgument(
        `cannot compute ${op} as input #${i}(zero-based) was expected to be a ${dtypeShortName(want)} tensor but is a ${dtypeShortName(inputs[i].dtype)} tensor`,
      );
    }
  }
}

function checkType(op: string, dtype: DType, allowed: readonly DType[]): void {
  if (!allowed.includes(dtype)) throw unsupportedDtype(op, dtype);
}

type Scalarish = number | bigint | boolean | Uint8Array;

// ---------------------------------------------------------------------------
// Elementwise binary ops

type TfBinary = (a: tf.Tensor, b: tf.Tensor) => tf.Tensor;

export interface BinaryDef {
  op: string | string[];
  types: readonly DType[];
  /** Output is bool (comparisons). */
  bool?: boolean;
  /** tfjs implementations by storage kind; a kind without one runs on the host. */
  tfFloat?: TfBinary;
  tfInt?: TfBinary;
  tfBool?: TfBinary;
  /** Host implementations: floats, integers up to 32 bits (and bool), int64/uint64, strings. */
  float?: (x: number, y: number) => number | boolean;
  int?: (x: number, y: number) => number | boolean;
  big?: (x: bigint, y: bigint) => bigint | boolean;
  str?: (x: Uint8Array, y: Uint8Array) => Uint8Array | boolean;
  /** Equal/NotEqual: honour the incompatible_shape_error attr. */
  shapeErrorAttr?: boolean;
  /**
   * The host implementation gives bit-identical results to the tfjs one for
   * float32/int32/bool (one correctly rounded IEEE operation, integer
   * wrap-around, or a comparison), so small operands already on the host are
   * computed there (see HOST_SMALL).
   */
  hostExact?: boolean;
  /** Float32/int32 host work through the typed loops of host_math.ts (`f32Arith`, `i32Arith`). */
  arith?: ArithOp;
  /**
   * The tfjs kernel that tfFloat/tfInt/tfBool call with the operands as they
   * are, by storage kind: run directly (dispatch.ts), skipping the op wrapper.
   */
  tfKernel?: TfKernels;
}

/** tfjs kernel names by storage kind (see BinaryDef.tfKernel). */
export type TfKernels = Partial<Record<'float' | 'int' | 'bool', string>>;

/**
 * Elementwise results up to this many elements are computed on the host when
 * every input is already there and the op is `hostExact`: a tfjs op costs
 * microseconds of dispatch and upload, more than the loop (loop counters,
 * per-image arithmetic inside map_fn bodies). The result stays on the host
 * and is uploaded only if a tfjs op needs it.
 */
const HOST_SMALL = 4096;

function tfFor<F>(kind: 'float' | 'int' | 'bool' | undefined, f?: F, i?: F, b?: F): F | undefined {
  return kind === 'float' ? f : kind === 'int' ? i : kind === 'bool' ? b : undefined;
}

function hostBinary(op: string, def: BinaryDef, a: Tensor, b: Tensor, outShape: Shape, outDtype: DType): Tensor {
  const dtype = a.dtype;
  if (def.arith && (dtype === 'float32' || dtype === 'int32')) {
    const out = allocHost(dtype, sizeOf(outShape));
    const done =
      dtype === 'float32'
        ? f32Arith(def.arith, a.values() as Float32Array, b.values() as Float32Array, out as Float32Array)
        : i32Arith(def.arith, a.values() as Int32Array, b.values() as Int32Array, out as Int32Array);
    if (done) return Tensor.fromHost(dtype, outShape, out);
  }
  const fn =
    dtype === 'string'
      ? def.str
      : isBigDtype(dtype)
        ? def.big
        : isInteger(dtype) || dtype === 'bool'
          ? (def.int ?? def.float)
          : def.float;
  if (!fn) throw unsupportedDtype(op, dtype);
  const f = fn as (x: Scalarish, y: Scalarish) => Scalarish;
  const out = allocHost(outDtype, sizeOf(outShape)) as Writable<Scalarish>;
  const av = a.values() as ArrayLike<Scalarish>;
  const bv = b.values() as ArrayLike<Scalarish>;
  if (out.length === 1 && av.length === 1 && bv.length === 1) {
    // Scalars (loop counters and conditions): no broadcasting machinery.
    const r = f(av[0], bv[0]);
    out[0] = def.bool ? (r ? 1 : 0) : r;
  } else if (def.bool) binaryLoop(av, a.shape, bv, b.shape, outShape, out, (x, y) => (f(x, y) ? 1 : 0));
  else binaryLoop(av, a.shape, bv, b.shape, outShape, out, f);
  return Tensor.fromHost(outDtype, outShape, out as unknown as NumArray);
}

/** Applies a binary op definition to two tensors (shared by kernels of other families). */
export function applyBinary(op: string, def: BinaryDef, a: Tensor, b: Tensor, shapeError = true): Tensor {
  if (isComplex(a.dtype)) return complexBinary(op, a, b, shapeError);
  if (def.hostExact && a.dtype === b.dtype && a.isOnHost && b.isOnHost) {
    // Small host operands of the same shape, or one a scalar (loop counters,
    // per-image arithmetic): straight to the host loop, without the general
    // checks' allocations. Everything else takes the general path below.
    const d = a.dtype;
    if ((d === 'float32' || d === 'int32' || d === 'bool') && def.types.includes(d)) {
      const outShape = b.rank === 0 ? a.shape : a.rank === 0 ? b.shape : sameShape(a.shape, b.shape) ? a.shape : undefined;
      if (outShape && (outShape === a.shape ? a.size : b.size) <= HOST_SMALL) {
        return hostBinary(op, def, a, b, outShape, def.bool ? 'bool' : d);
      }
    }
  }
  checkSameDtype(op, [a, b]);
  checkType(op, a.dtype, def.types);
  const outShape = broadcastShapes(a.shape, b.shape);
  if (!outShape) {
    if (def.shapeErrorAttr && !shapeError) return Tensor.scalar('bool', op === 'NotEqual');
    throw invalidArgument(`Incompatible shapes: ${shapeString(a.shape)} vs. ${shapeString(b.shape)}`);
  }
  const outDtype: DType = def.bool ? 'bool' : a.dtype;
  checkTensorSize(outShape, outDtype); // a broadcast can ask for far more than its operands hold
  const kind = tfKind(a.dtype);
  const tfFn = tfFor(kind, def.tfFloat, def.tfInt, def.tfBool);
  if (tfFn && !(def.hostExact && a.isOnHost && b.isOnHost && sizeOf(outShape) <= HOST_SMALL)) {
    const name = kind && def.tfKernel?.[kind];
    if (name) return Tensor.fromTf(runKernel(name, { a: a.toTf(), b: b.toTf() }), outDtype);
    return runTf(outDtype, [a, b], tfFn);
  }
  return hostBinary(op, def, a, b, outShape, outDtype);
}

function registerBinary(def: BinaryDef): void {
  const names = Array.isArray(def.op) ? def.op : [def.op];
  for (const op of names) {
    registerKernel({
      op,
      kernel: (ctx: KernelContext) => {
        const shapeError = def.shapeErrorAttr ? ctx.attrs.bool('incompatible_shape_error', true) : true;
        return [applyBinary(op, def, ctx.inputs[0], ctx.inputs[1], shapeError)];
      },
    });
  }
}

const concatBytes = (x: Uint8Array, y: Uint8Array): Uint8Array => {
  const out = new Uint8Array(x.length + y.length);
  out.set(x);
  out.set(y, x.length);
  return out;
};
const bytesEqual = (x: Uint8Array, y: Uint8Array): boolean => {
  if (x.length !== y.length) return false;
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return false;
  return true;
};

/** Maximum/Minimum on tfjs, made to return NaN when either side is NaN (as TF does). */
const tfMaxNaN: TfBinary = (a, b) => tf.where(tf.isNaN(b), b, tf.where(tf.isNaN(a), a, tf.maximum(a, b)));
const tfMinNaN: TfBinary = (a, b) => tf.where(tf.isNaN(b), b, tf.where(tf.isNaN(a), a, tf.minimum(a, b)));
const zeroWhereZero =
  (test: 'a' | 'b', fn: TfBinary): TfBinary =>
  (a, b) => {
    const r = fn(a, b);
    return tf.where(tf.equal(test === 'a' ? a : b, 0), tf.zerosLike(r), r);
  };

export const BINARY = {
  add: {
    op: ['Add', 'AddV2'],
    hostExact: true,
    tfKernel: { float: 'Add', int: 'Add' },
    arith: 'add',
    types: [...NUMERIC_TYPES, 'string'],
    tfFloat: tf.add,
    tfInt: tf.add,
    float: (x, y) => x + y,
    big: (x, y) => x + y,
    str: concatBytes,
  },
  sub: { op: 'Sub', hostExact: true, tfKernel: { float: 'Sub', int: 'Sub' }, arith: 'sub', types: NUMERIC_TYPES, tfFloat: tf.sub, tfInt: tf.sub, float: (x, y) => x - y, big: (x, y) => x - y },
  mul: {
    op: 'Mul',
    hostExact: true,
    tfKernel: { float: 'Multiply', int: 'Multiply' },
    arith: 'mul',
    types: NUMERIC_TYPES,
    tfFloat: tf.mul,
    tfInt: tf.mul,
    float: (x, y) => x * y,
    int: Math.imul,
    big: (x, y) => x * y,
  },
  realDiv: { op: 'RealDiv', hostExact: true, tfKernel: { float: 'RealDiv' }, arith: 'div', types: FLOAT_TYPES, tfFloat: tf.div, float: (x, y) => x / y },
  div: { op: 'Div', hostExact: true, tfKernel: { float: 'RealDiv' }, arith: 'div', types: NUMERIC_TYPES, tfFloat: tf.div, float: (x, y) => x / y, int: intDiv, big: bigDiv },
  truncateDiv: { op: 'TruncateDiv', types: INT_TYPES, int: intDiv, big: bigDiv },
  divNoNan: {
    op: 'DivNoNan',
    types: FLOAT_TYPES,
    tfFloat: zeroWhereZero('b', tf.div),
    float: (x, y) => (y === 0 ? 0 : x / y),
  },
  mulNoNan: {
    op: 'MulNoNan',
    types: FLOAT_TYPES,
    tfFloat: zeroWhereZero('b', tf.mul),
    float: (x, y) => (y === 0 ? 0 : x * y),
  },
  floorDiv: {
    op: 'FloorDiv',
    types: NUMERIC_TYPES,
    tfFloat: tf.floorDiv,
    float: (x, y) => Math.floor(x / y),
    int: intFloorDiv,
    big: bigFloorDiv,
  },
  floorMod: { op: 'FloorMod', types: NUMERIC_TYPES, float: floatFloorMod, int: intFloorMod, big: bigFloorMod },
  truncateMod: { op: ['Mod', 'TruncateMod'], types: NUMERIC_TYPES, float: (x, y) => x % y, int: intTruncMod, big: bigTruncMod },
  maximum: {
    op: 'Maximum',
    types: NUMERIC_TYPES,
    tfFloat: tfMaxNaN,
    tfInt: tf.maximum,
    float: nanMax,
    int: (x, y) => (x > y ? x : y),
    big: (x, y) => (x > y ? x : y),
  },
  minimum: {
    op: 'Minimum',
    types: NUMERIC_TYPES,
    tfFloat: tfMinNaN,
    tfInt: tf.minimum,
    float: nanMin,
    int: (x, y) => (x < y ? x : y),
    big: (x, y) => (x < y ? x : y),
  },
  pow: { op: 'Pow', types: NUMERIC_TYPES, tfFloat: tf.pow, float: Math.pow, int: intPow, big: bigPow },
  squaredDifference: {
    op: 'SquaredDifference',
    types: NUMERIC_TYPES,
    tfFloat: tf.squaredDifference,
    tfInt: tf.squaredDifference,
    float: (x, y) => (x - y) * (x - y),
    int: (x, y) => Math.imul(x - y, x - y),
    big: (x, y) => (x - y) * (x - y),
  },
  atan2: { op: 'Atan2', types: FLOAT_TYPES, tfFloat: tf.atan2, float: Math.atan2 },
  xlogy: {
    op: 'Xlogy',
    types: FLOAT_TYPES,
    tfFloat: zeroWhereZero('a', (a, b) => tf.mul(a, tf.log(b))),
    float: (x, y) => (x === 0 ? 0 : x * Math.log(y)),
  },
  xlog1py: {
    op: 'Xlog1py',
    types: FLOAT_TYPES,
    tfFloat: zeroWhereZero('a', (a, b) => tf.mul(a, tf.log1p(b))),
    float: (x, y) => (x === 0 ? 0 : x * Math.log1p(y)),
  },
  xdivy: {
    op: 'Xdivy',
    types: FLOAT_TYPES,
    tfFloat: zeroWhereZero('a', tf.div),
    float: (x, y) => (x === 0 ? 0 : x / y),
  },
  equal: {
    op: 'Equal',
    hostExact: true,
    types: [...NUMERIC_TYPES, 'bool', 'string'],
    bool: true,
    shapeErrorAttr: true,
    tfFloat: tf.equal,
    tfInt: tf.equal,
    tfBool: tf.equal,
    float: (x, y) => x === y,
    big: (x, y) => x === y,
    str: bytesEqual,
  },
  notEqual: {
    op: 'NotEqual',
    hostExact: true,
    types: [...NUMERIC_TYPES, 'bool', 'string'],
    bool: true,
    shapeErrorAttr: true,
    tfFloat: tf.notEqual,
    tfInt: tf.notEqual,
    tfBool: tf.notEqual,
    float: (x, y) => x !== y,
    big: (x, y) => x !== y,
    str: (x, y) => !bytesEqual(x, y),
  },
  less: { op: 'Less', hostExact: true, tfKernel: { float: 'Less', int: 'Less' }, types: NUMERIC_TYPES, bool: true, tfFloat: tf.less, tfInt: tf.less, float: (x, y) => x < y, big: (x, y) => x < y },
  lessEqual: {
    op: 'LessEqual',
    hostExact: true,
    types: NUMERIC_TYPES,
    bool: true,
    tfFloat: tf.lessEqual,
    tfInt: tf.lessEqual,
    float: (x, y) => x <= y,
    big: (x, y) => x <= y,
  },
  greater: {
    op: 'Greater',
    hostExact: true,
    types: NUMERIC_TYPES,
    bool: true,
    tfFloat: tf.greater,
    tfInt: tf.greater,
    float: (x, y) => x > y,
    big: (x, y) => x > y,
  },
  greaterEqual: {
    op: 'GreaterEqual',
    hostExact: true,
    types: NUMERIC_TYPES,
    bool: true,
    tfFloat: tf.greaterEqual,
    tfInt: tf.greaterEqual,
    float: (x, y) => x >= y,
    big: (x, y) => x >= y,
  },
  logicalAnd: { op: 'LogicalAnd', hostExact: true, types: BOOL_ONLY, bool: true, tfBool: tf.logicalAnd, int: (x, y) => x !== 0 && y !== 0 },
  logicalOr: { op: 'LogicalOr', hostExact: true, types: BOOL_ONLY, bool: true, tfBool: tf.logicalOr, int: (x, y) => x !== 0 || y !== 0 },
  bitwiseAnd: { op: 'BitwiseAnd', types: INT_TYPES, int: (x, y) => x & y, big: (x, y) => x & y },
  bitwiseOr: { op: 'BitwiseOr', types: INT_TYPES, int: (x, y) => x | y, big: (x, y) => x | y },
  bitwiseXor: { op: 'BitwiseXor', types: INT_TYPES, int: (x, y) => x ^ y, big: (x, y) => x ^ y },
} satisfies Record<string, BinaryDef>;

for (const def of Object.values(BINARY)) registerBinary(def as BinaryDef);

// ---------------------------------------------------------------------------
// Elementwise unary ops

type TfUnary = (x: tf.Tensor) => tf.Tensor;

export interface UnaryDef {
  op: string | string[];
  types: readonly DType[];
  bool?: boolean;
  tfFloat?: TfUnary;
  tfInt?: TfUnary;
  tfBool?: TfUnary;
  float?: (x: number) => number | boolean;
  int?: (x: number) => number | boolean;
  big?: (x: bigint) => bigint | boolean;
  /** The tfjs kernel tfFloat/tfInt/tfBool call with the operand as it is, by storage kind: run directly (dispatch.ts). */
  tfKernel?: TfKernels;
  /** Small float32 host operands are computed with `float` on the host (dispatch.ts smallHostMath). */
  hostSmall?: boolean;
  /** float32 on the host when it differs from `float` (TF's float32 arithmetic rather than float64's). */
  float32?: (x: number) => number;
  /** float32 on the backend by runtime/simd's kernels; undefined when they are off. */
  simd?: (x: tf.Tensor) => tf.Tensor | undefined;
}

/** Applies a unary op definition (exported for kernels of other families). */
export function applyUnary(op: string, def: UnaryDef, x: Tensor): Tensor {
  const dtype = x.dtype;
  if (isComplex(dtype)) return complexUnary(op, x);
  checkType(op, dtype, def.types);
  const outDtype: DType = def.bool ? 'bool' : dtype;
  const kind = tfKind(dtype);
  const tfFn = tfFor(kind, def.tfFloat, def.tfInt, def.tfBool);
  if (dtype === 'float32' && def.hostSmall && x.isOnHost && smallHostMath(x.size)) {
    // Small host operands stay on the host (dispatch.ts smallHostMath).
    const f = def.float32 ?? (def.float as (v: number) => number);
    const xv = x.values() as Float32Array;
    const out = allocHost('float32', x.size) as Float32Array;
    for (let i = 0; i < xv.length; i++) out[i] = f(xv[i]);
    return Tensor.fromHost('float32', x.shape, out);
  }
  if (dtype === 'float32' && def.simd) {
    const y = def.simd(x.toTf());
    if (y) return Tensor.fromTf(y, 'float32');
  }
  if (tfFn) {
    const name = kind && def.tfKernel?.[kind];
    if (name) return Tensor.fromTf(runKernel(name, { x: x.toTf() }), outDtype);
    return runTf(outDtype, [x], tfFn);
  }
  const fn = isBigDtype(dtype) ? def.big : isInteger(dtype) || dtype === 'bool' ? (def.int ?? def.float) : def.float;
  if (!fn) throw unsupportedDtype(op, dtype);
  const f = fn as (v: Scalarish) => Scalarish;
  const out = allocHost(outDtype, x.size) as Writable<Scalarish>;
  const xv = x.values() as ArrayLike<Scalarish>;
  if (def.bool) unaryLoop(xv, out, (v) => (f(v) ? 1 : 0));
  else unaryLoop(xv, out, f);
  return Tensor.fromHost(outDtype, x.shape, out as unknown as NumArray);
}

function registerUnary(def: UnaryDef): void {
  const names = Array.isArray(def.op) ? def.op : [def.op];
  for (const op of names) registerKernel({ op, kernel: (ctx) => [applyUnary(op, def, ctx.inputs[0])] });
}

const SELU_SCALE = 1.0507009873554804934193349852946;
const SELU_ALPHA = 1.6732632423543772848170429916717;
const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));
/** TF's softplus: thresholds keep exp() from overflowing and log1p accurate. */
const softplus = (x: number) => {
  const threshold = Math.log(Number.EPSILON) + 2;
  if (x > -threshold) return x;
  if (x < threshold) return Math.exp(x);
  return Math.log1p(Math.exp(x));
};
/** log1p on float32 with full relative precision near 0 (tfjs computes log(1 + x)). */
const tfLog1p: TfUnary = (x) => {
  const u = tf.add(x, 1);
  const accurate = tf.div(tf.mul(tf.log(u), x), tf.sub(u, 1));
  return tf.where(tf.equal(u, 1), x, tf.where(tf.isInf(u), u, accurate));
};
/** Integer negation in int32 arithmetic (tfjs's WASM Neg/Abs go through float32 and lose bits above 2^24). */
const tfIntNeg: TfUnary = (x) => tf.sub(tf.scalar(0, 'int32'), x);
/**
 * TF's float32 tanh (Eigen's ptanh_float without FMA, as TF 2.21's x86
 * kernels compute it): clamp, then x·P(x²)/Q(x²) rounded to float32 at every
 * step. The same arithmetic as runtime/simd/assembly/tanh.ts.
 */
const TANH_CLAMP = Math.fround(7.90738964080810547);
const TANH_P = [1.394553628e-8, 2.10273356e-5, 3.520756727e-3, 1.3402161e-1].map(Math.fround);
const TANH_Q = [8.015776984e-7, 3.326951409e-4, 2.597254514e-2, 4.67354834e-1, 1].map(Math.fround);
export function tanhFloat32(v: number): number {
  const f = Math.fround;
  const x = v !== v ? v : Math.max(Math.min(v, TANH_CLAMP), -TANH_CLAMP);
  const x2 = f(x * x);
  const x3 = f(x2 * x);
  let p = TANH_P[0];
  for (let i = 1; i < TANH_P.length; i++) p = f(f(p * x2) + TANH_P[i]);
  let q = TANH_Q[0];
  for (let i = 1; i < TANH_Q.length; i++) q = f(f(q * x2) + TANH_Q[i]);
  return f(f(f(x3 * p) + x) / q);
}
const signed = (x: number) => (x !== x ? x : x > 0 ? 1 : x < 0 ? -1 : 0);

export const UNARY = {
  neg: { op: 'Neg', types: NUMERIC_TYPES, tfFloat: tf.neg, tfInt: tfIntNeg, float: (x) => -x, big: (x) => -x },
  abs: {
    op: 'Abs',
    types: NUMERIC_TYPES,
    tfFloat: tf.abs,
    tfInt: (x) => tf.maximum(x, tfIntNeg(x)),
    float: Math.abs,
    big: (x) => (x < 0n ? -x : x),
  },
  square: {
    op: 'Square',
    types: NUMERIC_TYPES,
    tfFloat: tf.square,
    tfInt: tf.square,
    float: (x) => x * x,
    int: (x) => Math.imul(x, x),
    big: (x) => x * x,
  },
  sign: {
    op: 'Sign',
    types: NUMERIC_TYPES,
    tfFloat: (x) => tf.where(tf.isNaN(x), x, tf.sign(x)),
    tfInt: tf.sign,
    float: signed,
    big: (x) => (x > 0n ? 1n : x < 0n ? -1n : 0n),
  },
  reciprocal: {
    op: ['Reciprocal', 'Inv'],
    types: NUMERIC_TYPES,
    tfFloat: tf.reciprocal,
    float: (x) => 1 / x,
    int: (x) => intDiv(1, x),
    big: (x) => bigDiv(1n, x),
  },
  sqrt: { op: 'Sqrt', types: FLOAT_TYPES, tfFloat: tf.sqrt, float: Math.sqrt },
  rsqrt: { op: 'Rsqrt', types: FLOAT_TYPES, tfFloat: tf.rsqrt, float: (x) => 1 / Math.sqrt(x) },
  exp: { op: 'Exp', types: FLOAT_TYPES, tfKernel: { float: 'Exp' }, hostSmall: true, tfFloat: tf.exp, float: Math.exp },
  expm1: { op: 'Expm1', types: FLOAT_TYPES, tfFloat: tf.expm1, float: Math.expm1 },
  log: { op: 'Log', types: FLOAT_TYPES, tfFloat: tf.log, float: Math.log },
  log1p: { op: 'Log1p', types: FLOAT_TYPES, tfFloat: tfLog1p, float: Math.log1p },
  sin: { op: 'Sin', types: FLOAT_TYPES, tfFloat: tf.sin, float: Math.sin },
  cos: { op: 'Cos', types: FLOAT_TYPES, tfFloat: tf.cos, float: Math.cos },
  tan: { op: 'Tan', types: FLOAT_TYPES, tfFloat: tf.tan, float: Math.tan },
  asin: { op: 'Asin', types: FLOAT_TYPES, tfFloat: tf.asin, float: Math.asin },
  acos: { op: 'Acos', types: FLOAT_TYPES, tfFloat: tf.acos, float: Math.acos },
  atan: { op: 'Atan', types: FLOAT_TYPES, tfFloat: tf.atan, float: Math.atan },
  sinh: { op: 'Sinh', types: FLOAT_TYPES, tfFloat: tf.sinh, float: Math.sinh },
  cosh: { op: 'Cosh', types: FLOAT_TYPES, tfFloat: tf.cosh, float: Math.cosh },
  asinh: { op: 'Asinh', types: FLOAT_TYPES, tfFloat: tf.asinh, float: Math.asinh },
  acosh: { op: 'Acosh', types: FLOAT_TYPES, tfFloat: tf.acosh, float: Math.acosh },
  atanh: { op: 'Atanh', types: FLOAT_TYPES, tfFloat: tf.atanh, float: Math.atanh },
  tanh: { op: 'Tanh', types: FLOAT_TYPES, tfKernel: { float: 'Tanh' }, hostSmall: true, tfFloat: tf.tanh, float: Math.tanh, float32: tanhFloat32, simd: simdTanh },
  sigmoid: { op: 'Sigmoid', types: FLOAT_TYPES, tfKernel: { float: 'Sigmoid' }, hostSmall: true, tfFloat: tf.sigmoid, float: sigmoid },
  erf: { op: 'Erf', types: FLOAT_TYPES, tfFloat: tf.erf, float: erf },
  erfc: { op: 'Erfc', types: FLOAT_TYPES, tfFloat: (x) => tf.sub(1, tf.erf(x)), float: erfc },
  relu: {
    op: 'Relu',
    types: NUMERIC_TYPES,
    tfKernel: { float: 'Relu', int: 'Relu' },
    hostSmall: true,
    tfFloat: tf.relu,
    tfInt: tf.relu,
    float: (x) => (x < 0 ? 0 : x),
    big: (x) => (x < 0n ? 0n : x),
  },
  relu6: {
    op: 'Relu6',
    types: NUMERIC_TYPES,
    // relu, then minimum with NaN on the left: keeps NaN as TF's Relu6 does.
    tfFloat: (x) => tf.minimum(tf.relu(x), 6),
    tfInt: tf.relu6,
    float: (x) => (x < 0 ? 0 : x > 6 ? 6 : x),
    big: (x) => (x < 0n ? 0n : x > 6n ? 6n : x),
  },
  elu: { op: 'Elu', types: FLOAT_TYPES, tfFloat: tf.elu, float: (x) => (x < 0 ? Math.expm1(x) : x) },
  selu: {
    op: 'Selu',
    types: FLOAT_TYPES,
    tfFloat: tf.selu,
    float: (x) => (x < 0 ? SELU_SCALE * SELU_ALPHA * Math.expm1(x) : SELU_SCALE * x),
  },
  softplus: { op: 'Softplus', types: FLOAT_TYPES, tfFloat: tf.softplus, float: softplus },
  softsign: {
    op: 'Softsign',
    types: FLOAT_TYPES,
    tfFloat: (x) => tf.div(x, tf.add(tf.abs(x), 1)),
    float: (x) => x / (1 + Math.abs(x)),
  },
  floor: { op: 'Floor', types: FLOAT_TYPES, tfFloat: tf.floor, float: Math.floor },
  ceil: { op: 'Ceil', types: FLOAT_TYPES, tfFloat: tf.ceil, float: Math.ceil },
  round: {
    op: 'Round',
    types: NUMERIC_TYPES,
    tfFloat: tf.round,
    tfInt: tf.clone,
    float: roundHalfEven,
    int: (x) => x,
    big: (x) => x,
  },
  rint: { op: 'Rint', types: FLOAT_TYPES, tfFloat: tf.round, float: roundHalfEven },
  isNan: { op: 'IsNan', types: FLOAT_TYPES, bool: true, tfFloat: tf.isNaN, float: (x) => x !== x },
  isInf: {
    op: 'IsInf',
    types: FLOAT_TYPES,
    bool: true,
    tfFloat: tf.isInf,
    float: (x) => x === Infinity || x === -Infinity,
  },
  isFinite: { op: 'IsFinite', types: FLOAT_TYPES, bool: true, tfFloat: tf.isFinite, float: Number.isFinite },
  logicalNot: { op: 'LogicalNot', types: BOOL_ONLY, bool: true, tfBool: tf.logicalNot, int: (x) => x === 0 },
  invert: { op: 'Invert', types: INT_TYPES, int: (x) => ~x, big: (x) => ~x },
} satisfies Record<string, UnaryDef>;

for (const def of Object.values(UNARY)) registerUnary(def as UnaryDef);

// LeakyRelu carries its slope in an attr.
registerKernel({
  op: 'LeakyRelu',
  kernel: (ctx) => {
    const alpha = ctx.attrs.float('alpha', 0.2);
    const def: UnaryDef = {
      op: 'LeakyRelu',
      types: FLOAT_TYPES,
      tfFloat: (x) => tf.leakyRelu(x, alpha),
      float: (x) => (x < 0 ? alpha * x : x),
    };
    return [applyUnary('LeakyRelu', def, ctx.inputs[0])];
  },
});

// ---------------------------------------------------------------------------
// AddN, ClipByValue

registerKernel({
  op: 'AddN',
  kernel: (ctx) => {
    const xs = ctx.inputs;
    checkSameDtype('AddN', xs);
    const dtype = xs[0].dtype;
    if (!isComplex(dtype)) checkType('AddN', dtype, NUMERIC_TYPES);
    for (let i = 1; i < xs.length; i++) {
      if (!sameShape(xs[0].shape, xs[i].shape)) {
        throw invalidArgument(
          `Inputs to operation ${ctx.node.name} of type AddN must have the same size and shape.  Input 0: ${shapeString(xs[0].shape)} != input ${i}: ${shapeString(xs[i].shape)}`,
        );
      }
    }
    if (xs.length === 1) return [xs[0]];
    const kind = tfKind(dtype);
    if (kind === 'float' || kind === 'int') return [runTf(dtype, xs, (...ts) => tf.addN(ts))];
    let acc = applyBinary('AddN', BINARY.add as BinaryDef, xs[0], xs[1]);
    for (let i = 2; i < xs.length; i++) {
      const next = applyBinary('AddN', BINARY.add as BinaryDef, acc, xs[i]);
      acc.dispose();
      acc = next;
    }
    return [acc];
  },
});

registerKernel({
  op: 'ClipByValue',
  kernel: (ctx) => {
    const [t, lo, hi] = ctx.inputs;
    checkSameDtype('ClipByValue', ctx.inputs);
    checkType('ClipByValue', t.dtype, NUMERIC_TYPES);
    const fits = (s: Shape) => sameShape(s, t.shape) || s.length === 0;
    if (!fits(lo.shape) || !fits(hi.shape)) {
      throw invalidArgument(
        'clip_value_min and clip_value_max must be either of the same shape as input, or a scalar. ' +
          `input shape: ${shapeString(t.shape)}clip_value_min shape: ${shapeString(lo.shape)}clip_value_max shape: ${shapeString(hi.shape)}`,
      );
    }
    const kind = tfKind(t.dtype);
    // min(t, hi) then max(., lo), with t on the left so a NaN in t stays NaN (TF's cwiseMin/cwiseMax).
    if (kind === 'float' || kind === 'int') {
      return [runTf(t.dtype, [t, lo, hi], (x, l, h) => tf.maximum(tf.minimum(x, h), l))];
    }
    const lower = applyBinary('ClipByValue', { op: 'ClipByValue', types: NUMERIC_TYPES, float: clipMin, big: bigMin }, t, hi);
    try {
      return [applyBinary('ClipByValue', { op: 'ClipByValue', types: NUMERIC_TYPES, float: clipMax, big: bigMax }, lower, lo)];
    } finally {
      lower.dispose();
    }
  },
});
const clipMin = (x: number, y: number) => (y < x ? y : x);
const clipMax = (x: number, y: number) => (x < y ? y : x);
const bigMin = (x: bigint, y: bigint) => (y < x ? y : x);
const bigMax = (x: bigint, y: bigint) => (x < y ? y : x);

// ---------------------------------------------------------------------------
// Cumsum, Cumprod

function scanAxis(op: string, axisT: Tensor, rank: number): number {
  if (axisT.rank !== 0) throw invalidArgument(`ScanOp: axis must be a scalar, not ${shapeString(axisT.shape)}`);
  const axis = axisValues(axisT, op)[0];
  if (axis < -rank || axis >= rank) {
    throw invalidArgument(`ScanOp: Expected scan axis in the range [${-rank}, ${rank}), but got ${axis}`);
  }
  return axis < 0 ? axis + rank : axis;
}

function hostScan<T extends number | bigint>(
  src: ArrayLike<T>,
  out: Writable<T>,
  shape: Shape,
  axis: number,
  exclusive: boolean,
  reverse: boolean,
  identity: T,
  step: (acc: T, v: T) => T,
): void {
  const [outer, dim, inner] = aroundAxis(shape, axis);
  for (let o = 0; o < outer; o++) {
    for (let i = 0; i < inner; i++) {
      let acc = identity;
      for (let k = 0; k < dim; k++) {
        const kk = reverse ? dim - 1 - k : k;
        const at = (o * dim + kk) * inner + i;
        if (exclusive) {
          out[at] = acc;
          acc = step(acc, src[at]);
        } else {
          acc = step(acc, src[at]);
          out[at] = acc;
        }
      }
    }
  }
}

function registerScan(op: 'Cumsum' | 'Cumprod'): void {
  registerKernel({
    op,
    kernel: (ctx) => {
      const [x, axisT] = ctx.inputs;
      if (!isComplex(x.dtype)) checkType(op, x.dtype, NUMERIC_TYPES);
      if (x.rank === 0) throw invalidArgument(`ScanOp: Expected scan axis in the range [0, 0), but got 0`);
      const axis = scanAxis(op, axisT, x.rank);
      const exclusive = ctx.attrs.bool('exclusive', false);
      const reverse = ctx.attrs.bool('reverse', false);
      const kind = tfKind(x.dtype);
      if ((kind === 'float' || kind === 'int') && x.size > 0) {
        const fn = op === 'Cumsum' ? tf.cumsum : tf.cumprod;
        return [runTf(x.dtype, [x], (t) => fn(t, axis, exclusive, reverse))];
      }
      if (isComplex(x.dtype)) return [complexScan(op, x, axis, exclusive, reverse)];
      const out = allocHost(x.dtype, x.size);
      if (isBigDtype(x.dtype)) {
        const step = op === 'Cumsum' ? (a: bigint, v: bigint) => a + v : (a: bigint, v: bigint) => a * v;
        hostScan(x.values() as BigArray, out as BigArray, x.shape, axis, exclusive, reverse, op === 'Cumsum' ? 0n : 1n, step);
      } else {
        const int = isInteger(x.dtype);
        const step =
          op === 'Cumsum'
            ? int
              ? (a: number, v: number) => (a + v) | 0
              : (a: number, v: number) => a + v
            : int
              ? Math.imul
              : (a: number, v: number) => a * v;
        hostScan(x.values() as NumArray, out as NumArray, x.shape, axis, exclusive, reverse, op === 'Cumsum' ? 0 : 1, step);
      }
      return [Tensor.fromHost(x.dtype, x.shape, out)];
    },
  });
}
registerScan('Cumsum');
registerScan('Cumprod');

// ---------------------------------------------------------------------------
// MatMul, BatchMatMul, BatchMatMulV2, BatchMatMulV3

/** Batched matrix product on the host with broadcast batch dims (float64 and integer dtypes). */
function hostMatMul(a: Tensor, b: Tensor, ta: boolean, tb: boolean, batchShape: number[], m: number, k: number, n: number): Tensor {
  const dtype = a.dtype;
  const aBatch = a.shape.slice(0, -2);
  const bBatch = b.shape.slice(0, -2);
  const batches = sizeOf(batchShape);
  const ai = broadcastIndex(aBatch, batchShape);
  const bi = broadcastIndex(bBatch, batchShape);
  const outShape = [...batchShape, m, n];
  const out = allocHost(dtype, sizeOf(outShape));
  const aRows = a.shape[a.rank - 2];
  const aCols = a.shape[a.rank - 1];
  const bRows = b.shape[b.rank - 2];
  const bCols = b.shape[b.rank - 1];
  // Element (i, p) of op(A) and (p, j) of op(B) within one batch matrix.
  const aAt = (base: number, i: number, p: number) => base + (ta ? p * aCols + i : i * aCols + p);
  const bAt = (base: number, p: number, j: number) => base + (tb ? j * bCols + p : p * bCols + j);
  const big = isBigDtype(dtype);
  const int = isInteger(dtype);
  const av = a.values() as ArrayLike<number | bigint>;
  const bv = b.values() as ArrayLike<number | bigint>;
  for (let batch = 0; batch < batches; batch++) {
    const aBase = (ai ? ai[batch] : batch) * aRows * aCols;
    const bBase = (bi ? bi[batch] : batch) * bRows * bCols;
    const oBase = batch * m * n;
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < n; j++) {
        if (big) {
          let acc = 0n;
          for (let p = 0; p < k; p++) acc += (av[aAt(aBase, i, p)] as bigint) * (bv[bAt(bBase, p, j)] as bigint);
          (out as BigArray)[oBase + i * n + j] = acc;
        } else if (int) {
          let acc = 0;
          for (let p = 0; p < k; p++) acc = (acc + Math.imul(av[aAt(aBase, i, p)] as number, bv[bAt(bBase, p, j)] as number)) | 0;
          (out as NumArray)[oBase + i * n + j] = acc;
        } else {
          let acc = 0;
          for (let p = 0; p < k; p++) acc += (av[aAt(aBase, i, p)] as number) * (bv[bAt(bBase, p, j)] as number);
          (out as NumArray)[oBase + i * n + j] = acc;
        }
      }
    }
  }
  return Tensor.fromHost(dtype, outShape, out);
}

/**
 * The shared body of MatMul and the BatchMatMul family: validates shapes with
 * TF's error texts, then multiplies on tfjs (float32/half) or the host.
 */
export function batchMatMul(op: string, a: Tensor, b: Tensor, ta: boolean, tb: boolean): Tensor {
  checkSameDtype(op, [a, b]);
  if (!isComplex(a.dtype)) checkType(op, a.dtype, NUMERIC_TYPES);
  const aBatch = a.shape.slice(0, -2);
  const bBatch = b.shape.slice(0, -2);
  const batchShape = broadcastShapes(aBatch, bBatch);
  if (!batchShape) {
    throw invalidArgument(
      `In[0] and In[1] must have compatible batch dimensions: ${shapeString(a.shape)} vs. ${shapeString(b.shape)}`,
    );
  }
  let d0 = a.shape[a.rank - 2];
  let d1 = a.shape[a.rank - 1];
  let d2 = b.shape[b.rank - 2];
  let d3 = b.shape[b.rank - 1];
  if (ta) [d0, d1] = [d1, d0];
  if (tb) [d2, d3] = [d3, d2];
  if (d1 !== d2) {
    throw invalidArgument(`Matrix size-incompatible: In[0]: ${shapeString(a.shape)}, In[1]: ${shapeString(b.shape)}`);
  }
  checkTensorSize([...batchShape, d0, d3], a.dtype);
  if (tfKind(a.dtype) === 'float' && a.size > 0 && b.size > 0) {
    if (a.dtype === 'float32') {
      const batchIndex = { a: broadcastIndex(aBatch, batchShape), b: broadcastIndex(bBatch, batchShape) };
      const y = simdBatchMatMul(a.toTf(), b.toTf(), ta, tb, batchShape, d0, d1, d3, { lo: -Infinity, hi: Infinity, weight: b.isPersistent }, batchIndex);
      if (y) {
        const out = Tensor.fromTf(y, 'float32');
        if (a.rank === 2 && smallHostMath(out.size)) out.values();
        return out;
      }
    }
    // The backend's BatchMatMul takes rank-2 operands as they are (what tf.matMul calls after reshaping).
    if (a.rank === 2 && b.rank === 2) {
      const y = Tensor.fromTf(runKernel('BatchMatMul', { a: a.toTf(), b: b.toTf() }, { transposeA: ta, transposeB: tb }), a.dtype);
      // A small result also goes to the host, where the elementwise ops after it run (dispatch.ts smallHostMath).
      if (a.dtype === 'float32' && smallHostMath(y.size)) y.values();
      return y;
    }
    return runTf(a.dtype, [a, b], (x, y) => tfBatchMatMul(x, y, ta, tb, batchShape, d0, d3));
  }
  // BatchMatMul's adj_x/adj_y are adjoints (conjugate transposes); MatMul's transpose_a/b are not.
  if (isComplex(a.dtype)) return complexMatMul(a, b, ta, tb, op.startsWith('BatchMatMul'), batchShape, d0, d1, d3);
  return hostMatMul(a, b, ta, tb, batchShape, d0, d1, d3);
}

/**
 * tfjs batch matmul with TF's batch broadcasting made explicit: tfjs's WASM
 * kernel mis-broadcasts batch dims of different ranks, so operands are
 * brought to rank 3 with equal batch counts first. A rank-2 (or batch-1)
 * right operand folds the left batch into rows instead of being copied.
 */
function tfBatchMatMul(x: tf.Tensor, y: tf.Tensor, ta: boolean, tb: boolean, batchShape: number[], m: number, n: number): tf.Tensor {
  const batches = sizeOf(batchShape);
  const xm = x.shape.slice(-2);
  const ym = y.shape.slice(-2);
  const yBatches = sizeOf(y.shape.slice(0, -2));
  if (yBatches === 1 && !ta) {
    const rows = tf.reshape(tf.broadcastTo(x, [...batchShape, ...xm]), [batches * xm[0], xm[1]]);
    return tf.reshape(tf.matMul(rows, tf.reshape(y, ym), false, tb), [...batchShape, m, n]);
  }
  const to3d = (t: tf.Tensor, mat: number[]) => {
    const batch = t.shape.slice(0, -2);
    const full = sameShape(batch, batchShape) ? t : tf.broadcastTo(t, [...batchShape, ...mat]);
    return tf.reshape(full, [batches, mat[0], mat[1]]) as tf.Tensor3D;
  };
  return tf.reshape(tf.matMul(to3d(x, xm), to3d(y, ym), ta, tb), [...batchShape, m, n]);
}

registerKernel({
  op: 'MatMul',
  kernel: (ctx) => {
    const [a, b] = ctx.inputs;
    if (a.rank !== b.rank) {
      throw invalidArgument(`In[0] and In[1] has different ndims: ${shapeString(a.shape)} vs. ${shapeString(b.shape)}`);
    }
    if (a.rank !== 2) throw invalidArgument(`In[0] and In[1] ndims must be == 2: ${a.rank}`);
    return [batchMatMul('MatMul', a, b, ctx.attrs.bool('transpose_a', false), ctx.attrs.bool('transpose_b', false))];
  },
});

registerKernel({
  op: 'BatchMatMul',
  kernel: (ctx) => {
    const [a, b] = ctx.inputs;
    if (a.rank !== b.rank) {
      throw invalidArgument(`In[0] and In[1] has different ndims: ${shapeString(a.shape)} vs. ${shapeString(b.shape)}`);
    }
    if (a.rank < 2) throw invalidArgument(`In[0] and In[1] ndims must be >= 2: ${a.rank}`);
    for (let i = 0; i < a.rank - 2; i++) {
      if (a.shape[i] !== b.shape[i]) {
        throw invalidArgument(
          `In[0].dim(${i}) and In[1].dim(${i}) must be the same: ${shapeString(a.shape)} vs ${shapeString(b.shape)}`,
        );
      }
    }
    return [batchMatMul('BatchMatMul', a, b, ctx.attrs.bool('adj_x', false), ctx.attrs.bool('adj_y', false))];
  },
});

function checkBatchMatMulV2Ranks(a: Tensor, b: Tensor): void {
  if (a.rank < 2) throw invalidArgument(`In[0] ndims must be >= 2: ${a.rank}`);
  if (b.rank < 2) throw invalidArgument(`In[1] ndims must be >= 2: ${b.rank}`);
}

registerKernel({
  op: 'BatchMatMulV2',
  kernel: (ctx) => {
    const [a, b] = ctx.inputs;
    checkBatchMatMulV2Ranks(a, b);
    return [batchMatMul('BatchMatMulV2', a, b, ctx.attrs.bool('adj_x', false), ctx.attrs.bool('adj_y', false))];
  },
});

registerKernel({
  op: 'BatchMatMulV3',
  kernel: (ctx) => {
    const [a, b] = ctx.inputs;
    checkBatchMatMulV2Ranks(a, b);
    const tout = ctx.attrs.type('Tout');
    const ca = castTensor(a, tout);
    const cb = castTensor(b, tout);
    try {
      return [batchMatMul('BatchMatMulV3', ca, cb, ctx.attrs.bool('adj_x', false), ctx.attrs.bool('adj_y', false))];
    } finally {
      if (ca !== a) ca.dispose();
      if (cb !== b) cb.dispose();
    }
  },
});

// ---------------------------------------------------------------------------
// Host tensor helpers (transpose, broadcast, sum), shared with nn.ts

/** Transposes a host tensor of any dtype. */
export function transposeHost(t: Tensor, perm: readonly number[]): Tensor {
  const out = allocHost(t.dtype, t.size) as Writable<unknown>;
  gather(t.values() as ArrayLike<unknown>, transposeIndex(t.shape, perm), out);
  return Tensor.fromHost(t.dtype, perm.map((p) => t.shape[p]), out as unknown as NumArray);
}

function broadcastToHost(t: Tensor, shape: number[]): Tensor {
  const idx = broadcastIndex(t.shape, shape);
  if (!idx) return t;
  const out = allocHost(t.dtype, idx.length) as Writable<unknown>;
  gather(t.values() as ArrayLike<unknown>, idx, out);
  return Tensor.fromHost(t.dtype, shape, out as unknown as NumArray);
}

/** Sums a host numeric tensor over `axes` (sorted), dropping them; integer sums wrap like TF's. */
function sumHost(t: Tensor, axes: number[]): Tensor {
  const { outIndex, outSize } = reductionIndex(t.shape, axes);
  const shape = t.shape.filter((_, d) => !axes.includes(d));
  const out = allocHost(t.dtype, outSize);
  if (isBigDtype(t.dtype)) {
    const src = t.values() as BigArray;
    const o = out as BigArray;
    for (let i = 0; i < src.length; i++) o[outIndex[i]] = o[outIndex[i]] + src[i];
  } else {
    const src = t.values() as NumArray;
    const acc = new Float64Array(outSize);
    const int = isInteger(t.dtype);
    for (let i = 0; i < src.length; i++) acc[outIndex[i]] = int ? (acc[outIndex[i]] + src[i]) | 0 : acc[outIndex[i]] + src[i];
    (out as NumArray).set(acc);
  }
  return Tensor.fromHost(t.dtype, shape, out);
}

// ---------------------------------------------------------------------------
// Einsum (one or two operands; repeated labels take or make diagonals)

/** The few array operations an einsum needs, on tfjs or on the host. */
interface EinsumArrays<X> {
  shape(x: X): readonly number[];
  transpose(x: X, perm: number[]): X;
  reshape(x: X, shape: number[]): X;
  sum(x: X, axes: number[]): X;
  broadcastTo(x: X, shape: number[]): X;
  /** op(a) [B, m, k] x op(b) [B, k, n] -> [B, m, n], op() swapping the last two dims when ta / tb. */
  matmul(a: X, b: X, ta: boolean, tb: boolean): X;
  /** out.flat[i] = x.flat[map[i]], or 0 where map[i] < 0. */
  take(x: X, shape: number[], map: Int32Array): X;
}

const tfArrays: EinsumArrays<tf.Tensor> = {
  shape: (x) => x.shape,
  transpose: (x, perm) => tf.transpose(x, perm),
  reshape: (x, shape) => tf.reshape(x, shape),
  sum: (x, axes) => tf.sum(x, axes),
  broadcastTo: (x, shape) => tf.broadcastTo(x, shape),
  matmul: (a, b, ta, tb) => {
    const [batches, rows, cols] = a.shape as number[];
    const [m, k] = ta ? [cols, rows] : [rows, cols];
    const n = (b.shape as number[])[tb ? 1 : 2];
    return (a.dtype === 'float32' && simdBatchMatMul(a, b, ta, tb, [batches], m, k, n)) || tf.matMul(a as tf.Tensor3D, b as tf.Tensor3D, ta, tb);
  },
  take: (x, shape, map) => {
    const flat = tf.concat([tf.reshape(x, [-1]), tf.zeros([1], x.dtype)]);
    const idx = Int32Array.from(map, (m) => (m < 0 ? x.size : m));
    return tf.reshape(tf.gather(flat, tf.tensor1d(idx, 'int32')), shape);
  },
};

/** Host arrays; every intermediate is a fresh host tensor (no tfjs memory to free). */
const hostArrays: EinsumArrays<Tensor> = {
  shape: (x) => x.shape,
  transpose: (x, perm) => transposeHost(x, perm),
  reshape: (x, shape) => Tensor.fromHost(x.dtype, shape, x.values()),
  sum: (x, axes) => (axes.length ? sumHost(x, [...axes].sort((p, q) => p - q)) : x),
  broadcastTo: (x, shape) => broadcastToHost(x, shape),
  matmul: (a, b, ta, tb) => hostMatMul(a, b, ta, tb, [a.shape[0]], ta ? a.shape[2] : a.shape[1], ta ? a.shape[1] : a.shape[2], tb ? b.shape[1] : b.shape[2]),
  take: (x, shape, map) => {
    const src = x.values() as ArrayLike<number | bigint>;
    const out = allocHost(x.dtype, map.length) as Writable<number | bigint>;
    for (let i = 0; i < map.length; i++) if (map[i] >= 0) out[i] = src[map[i]];
    return Tensor.fromHost(x.dtype, shape, out as unknown as NumArray);
  },
};

/**
 * Index map between a tensor labelled `full` (labels may repeat) and one
 * labelled `unique` (its distinct labels, first-occurrence order): for each
 * element of the `full`-shaped tensor, the flat index in the `unique` one, or
 * -1 off the diagonal (repeated labels with different indices).
 */
function diagonalMap(full: string[], unique: string[], sizes: Map<string, number>): { map: Int32Array; fullShape: number[]; uniqueShape: number[] } {
  const fullShape = full.map((l) => sizes.get(l)!);
  const uniqueShape = unique.map((l) => sizes.get(l)!);
  const strides = new Map<string, number>();
  let st = 1;
  for (let d = unique.length - 1; d >= 0; d--) {
    strides.set(unique[d], st);
    st *= uniqueShape[d];
  }
  const total = sizeOf(fullShape);
  checkTensorSize(fullShape, 'float32');
  const map = new Int32Array(total);
  const idx = new Array<number>(full.length).fill(0);
  const seen = new Map<string, number>();
  for (let i = 0; i < total; i++) {
    seen.clear();
    let off = 0;
    let ok = true;
    for (let d = 0; d < full.length; d++) {
      const prev = seen.get(full[d]);
      if (prev === undefined) {
        seen.set(full[d], idx[d]);
        off += idx[d] * strides.get(full[d])!;
      } else if (prev !== idx[d]) ok = false;
    }
    map[i] = ok ? off : -1;
    for (let d = full.length - 1; d >= 0; d--) {
      if (++idx[d] < fullShape[d]) break;
      idx[d] = 0;
    }
  }
  return { map, fullShape, uniqueShape };
}

/** The diagonal over repeated labels (`ii->i`): gathers the `unique`-shaped tensor from the `full` one. */
function diagonalOf<X>(ops: EinsumArrays<X>, x: X, full: string[], unique: string[], sizes: Map<string, number>): X {
  const { map, uniqueShape } = diagonalMap(full, unique, sizes);
  // Invert: for each unique position, the first full position mapping to it.
  const inv = new Int32Array(sizeOf(uniqueShape)).fill(-1);
  for (let i = 0; i < map.length; i++) if (map[i] >= 0 && inv[map[i]] < 0) inv[map[i]] = i;
  return ops.take(x, uniqueShape, inv);
}

interface EinsumPlan {
  /** Labels of each operand, one per dimension (ellipsis expanded). */
  inputs: string[][];
  output: string[];
  /** Size of every label after broadcasting. */
  sizes: Map<string, number>;
}

function parseEinsum(equation: string, shapes: readonly Shape[]): EinsumPlan {
  const eq = equation.replace(/\s/g, '');
  if (eq.split('->').length > 2) throw invalidArgument(`Expecting exactly one '->' in einsum equation: ${equation}`);
  const [lhs, rhs] = eq.includes('->') ? eq.split('->') : [eq, undefined];
  const subs = lhs.split(',');
  if (subs.length !== shapes.length && subs.length <= 2) {
    throw invalidArgument(`Expected ${subs.length} inputs but got: ${shapes.length}`);
  }
  if (subs.length < 1 || subs.length > 2) throw invalidArgument(`Expecting 1 or 2 input subscripts in equation '${equation}' but got: ${subs.length}`);
  if ([...subs, rhs ?? ''].some((sub) => sub.split('...').length > 2)) {
    throw invalidArgument(`Found more than one ellipsis in a subscript of equation '${equation}'`);
  }
  const ellipsisRank = Math.max(0, ...subs.map((sub, i) => (sub.includes('...') ? shapes[i].length - (sub.length - 3) : 0)));
  const ell = (n: number) => Array.from({ length: n }, (_, k) => `.${ellipsisRank - n + k}`);
  const expand = (sub: string, rank: number): string[] => {
    if (!sub.includes('...')) return [...sub];
    const [pre, post] = sub.split('...');
    return [...pre, ...ell(rank - pre.length - post.length), ...post];
  };
  const inputs = subs.map((sub, i) => {
    const labels = expand(sub, shapes[i].length);
    if (labels.length !== shapes[i].length || labels.some((l) => l !== '.' && !/^[A-Za-z]$|^\.\d+$/.test(l))) {
      throw invalidArgument(`Expected input ${i} to have rank ${labels.length} but got: ${shapes[i].length}`);
    }
    return labels;
  });
  let output: string[];
  if (rhs !== undefined) {
    output = rhs.includes('...') ? expand(rhs, rhs.length - 3 + ellipsisRank) : [...rhs];
  } else {
    const counts = new Map<string, number>();
    for (const l of inputs.flat()) if (!l.startsWith('.')) counts.set(l, (counts.get(l) ?? 0) + 1);
    output = [...ell(ellipsisRank), ...[...counts].filter(([, c]) => c === 1).map(([l]) => l).sort()];
  }
  const sizes = new Map<string, number>();
  inputs.forEach((labels, i) =>
    labels.forEach((l, d) => {
      const size = shapes[i][d];
      const prev = sizes.get(l);
      if (prev === undefined || prev === 1) sizes.set(l, size);
      else if (size !== prev && size !== 1) {
        throw invalidArgument(
          `Expected dimension ${prev} at axis ${d} of the input shaped ${shapeString(shapes[i])} but got dimension ${size}`,
        );
      }
    }),
  );
  for (const l of output) {
    if (!sizes.has(l)) throw invalidArgument(`Output subscript '${l}' does not appear in the input subscripts of '${equation}'`);
  }
  return { inputs, output, sizes };
}

/** Evaluates a parsed einsum with the given array operations. */
function evalEinsum<X>(ops: EinsumArrays<X>, plan: EinsumPlan, operands: X[]): X {
  const { sizes } = plan;
  const unique = (ls: string[]) => [...new Set(ls)];
  // A label repeated in the output (i->ii) is computed once, then spread onto the diagonal.
  const output = unique(plan.output);
  const inflated = (y: X): X => {
    if (output.length === plan.output.length) return y;
    const { map, fullShape } = diagonalMap(plan.output, output, sizes);
    return ops.take(y, fullShape, map);
  };
  const inOutput = (l: string) => output.includes(l);
  // 0. A label repeated within an operand (ii->i, ii->) takes its diagonal.
  const inputs = plan.inputs.map(unique);
  const diag = operands.map((x, i) => (inputs[i].length === plan.inputs[i].length ? x : diagonalOf(ops, x, plan.inputs[i], inputs[i], sizes)));
  // 1. Sum out labels that appear in one operand only and not in the output.
  const labels: string[][] = [];
  const xs = diag.map((x, i) => {
    const mine = inputs[i];
    const others = inputs.filter((_, j) => j !== i).flat();
    const drop = mine.map((l, d) => (!inOutput(l) && !others.includes(l) ? d : -1)).filter((d) => d >= 0);
    labels.push(mine.filter((_, d) => !drop.includes(d)));
    return drop.length ? ops.sum(x, drop) : x;
  });
  const arrange = (x: X, from: string[], to: string[]): X => {
    const perm = to.map((l) => from.indexOf(l));
    return perm.every((p, i) => p === i) ? x : ops.transpose(x, perm);
  };
  const full = (ls: string[]) => ls.map((l) => sizes.get(l)!);
  const prod = (ls: string[]) => ls.reduce((n, l) => n * sizes.get(l)!, 1);
  if (xs.length === 1) return inflated(arrange(xs[0], labels[0], output));
  // 2. Classify the labels of the two operands and contract with one batched matmul.
  const [la, lb] = labels;
  const batch = la.filter((l) => lb.includes(l) && inOutput(l));
  const contract = la.filter((l) => lb.includes(l) && !inOutput(l));
  const freeA = la.filter((l) => !lb.includes(l));
  const freeB = lb.filter((l) => !la.includes(l));
  // Each operand as a [batch, rows, cols] matrix; when its labels already lie in the transposed order
  // (contract before freeA, freeB before contract) the product reads it transposed instead of copying it.
  const prepare = (x: X, from: string[], free: string[], contractFirst: boolean): [X, boolean] => {
    const plain = contractFirst ? [...batch, ...contract, ...free] : [...batch, ...free, ...contract];
    const swapped = contractFirst ? [...batch, ...free, ...contract] : [...batch, ...contract, ...free];
    const inPlace = (order: string[]) => order.every((l, i) => from[i] === l) && order.length === from.length;
    const transposed = !inPlace(plain) && inPlace(swapped) && contract.length > 0 && free.length > 0;
    const order = transposed ? swapped : plain;
    const t = arrange(x, from, order);
    const target = full(order);
    const bt = ops.shape(t).every((d, i) => d === target[i]) ? t : ops.broadcastTo(t, target);
    const [first, second] = transposed === contractFirst ? [free, contract] : [contract, free];
    return [ops.reshape(bt, [prod(batch), prod(first), prod(second)]), transposed];
  };
  const [a3, ta] = prepare(xs[0], la, freeA, false);
  const [b3, tb] = prepare(xs[1], lb, freeB, true);
  const product = ops.reshape(ops.matmul(a3, b3, ta, tb), full([...batch, ...freeA, ...freeB]));
  return inflated(arrange(product, [...batch, ...freeA, ...freeB], output));
}

registerKernel({
  op: 'Einsum',
  kernel: (ctx) => {
    const xs = ctx.inputs;
    checkSameDtype('Einsum', xs);
    const dtype = xs[0].dtype;
    checkType('Einsum', dtype, NUMERIC_TYPES);
    const plan = parseEinsum(ctx.attrs.string('equation'), xs.map((x) => x.shape));
    if (tfKind(dtype) === 'float' && xs.every((x) => x.size > 0)) {
      return [runTf(dtype, xs, (...ts) => evalEinsum(tfArrays, plan, ts))];
    }
    return [evalEinsum(hostArrays, plan, [...xs])];
  },
});
