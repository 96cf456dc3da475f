/**
 * Complex numbers: the ops that build and take apart complex tensors
 * (Complex, Real, Imag, ComplexAbs, Conj, Angle), and complex64/complex128
 * through the elementwise math and reductions TF users apply to them. The
 * math kernels (math.ts, reduction.ts) hand complex operands to
 * `complexBinary`, `complexUnary` and `complexReduce` here.
 *
 * Follows tensorflow/core/ops/math_ops.cc (Complex, Real, Imag, ComplexAbs,
 * Angle, Conj: Tout attrs, broadcasting Complex) and the std::complex
 * semantics of tensorflow/core/kernels/cwise_ops.h: Div is complex division,
 * Sign is x / |x| (0 for 0), Pow is exp(y log x) (0 for x = 0), SquaredDifference is (x - y) * conj(x - y),
 * Equal compares both parts; Abs, comparisons and Maximum/Minimum do not
 * accept complex (TF's op definitions exclude it).
 *
 * Storage is interleaved (re, im) in a Float32Array (complex64) or a
 * Float64Array (complex128). Every value is computed in float64; storing into
 * a Float32Array rounds once, so complex64 results are within an ulp or two
 * of TF's float arithmetic.
 */
import { type DType, dtypeShortName } from '../../dtypes.js';
import { invalidArgument } from '../../errors.js';
import { checkTensorSize } from '../../limits.js';
import { Tensor, allocHost, shapeString, sizeOf } from '../../tensor.js';
import { aroundAxis, broadcastIndex, broadcastShapes, reducedShape, reductionAxes, reductionIndex, unsupportedDtype } from '../host_math.js';
import { registerKernel } from '../registry.js';

export const isComplex = (d: DType): boolean => d === 'complex64' || d === 'complex128';

/** The real dtype of a complex dtype's parts. */
export const partDtype = (d: DType): DType => (d === 'complex128' ? 'float64' : 'float32');

/** The complex dtype whose parts are `d` (float32 → complex64, float64 → complex128). */
export const complexOf = (d: DType): DType => (d === 'float64' ? 'complex128' : 'complex64');

type CArray = Float32Array | Float64Array;

/** A complex result written into out[2i], out[2i+1]. */
type BinaryFn = (ar: number, ai: number, br: number, bi: number, out: CArray, o: number) => void;
type UnaryFn = (r: number, i: number, out: CArray, o: number) => void;

/** Complex division by Smith's method (no overflow for large divisors). */
function cdiv(ar: number, ai: number, br: number, bi: number, out: CArray, o: number): void {
  if (Math.abs(br) >= Math.abs(bi)) {
    if (br === 0 && bi === 0) {
      // x / 0: each part divided by zero, as IEEE division does.
      out[o] = ar / 0;
      out[o + 1] = ai / 0;
      return;
    }
    const r = bi / br;
    const d = br + bi * r;
    out[o] = (ar + ai * r) / d;
    out[o + 1] = (ai - ar * r) / d;
  } else {
    const r = br / bi;
    const d = bi + br * r;
    out[o] = (ar * r + ai) / d;
    out[o + 1] = (ai * r - ar) / d;
  }
}

function csqrt(r: number, i: number, out: CArray, o: number): void {
  if (r === 0 && i === 0) {
    out[o] = 0;
    out[o + 1] = i;
    return;
  }
  const t = Math.sqrt((Math.abs(r) + Math.hypot(r, i)) / 2);
  if (r >= 0) {
    out[o] = t;
    out[o + 1] = i / (2 * t);
  } else {
    out[o] = Math.abs(i) / (2 * t);
    out[o + 1] = i < 0 || Object.is(i, -0) ? -t : t;
  }
}

const tmp = new Float64Array(2);

const BINARY: Record<string, BinaryFn> = {
  Add: (ar, ai, br, bi, out, o) => {
    out[o] = ar + br;
    out[o + 1] = ai + bi;
  },
  Sub: (ar, ai, br, bi, out, o) => {
    out[o] = ar - br;
    out[o + 1] = ai - bi;
  },
  Mul: (ar, ai, br, bi, out, o) => {
    out[o] = ar * br - ai * bi;
    out[o + 1] = ar * bi + ai * br;
  },
  Div: cdiv,
  DivNoNan: (ar, ai, br, bi, out, o) => {
    if (br === 0 && bi === 0) {
      out[o] = 0;
      out[o + 1] = 0;
    } else cdiv(ar, ai, br, bi, out, o);
  },
  MulNoNan: (ar, ai, br, bi, out, o) => {
    if (br === 0 && bi === 0) {
      out[o] = 0;
      out[o + 1] = 0;
    } else {
      out[o] = ar * br - ai * bi;
      out[o + 1] = ar * bi + ai * br;
    }
  },
  Pow: (ar, ai, br, bi, out, o) => {
    // std::pow(x, y) = exp(y log x), and 0 for a zero base.
    if (ar === 0 && ai === 0) {
      out[o] = 0;
      out[o + 1] = 0;
      return;
    }
    const lr = Math.log(Math.hypot(ar, ai));
    const li = Math.atan2(ai, ar);
    const er = br * lr - bi * li;
    const ei = br * li + bi * lr;
    const m = Math.exp(er);
    out[o] = m * Math.cos(ei);
    out[o + 1] = m * Math.sin(ei);
  },
  SquaredDifference: (ar, ai, br, bi, out, o) => {
    const dr = ar - br;
    const di = ai - bi;
    out[o] = dr * dr + di * di;
    out[o + 1] = 0;
  },
};
BINARY.AddV2 = BINARY.AddN = BINARY.Add;
BINARY.RealDiv = BINARY.Div;

const COMPARE: Record<string, (ar: number, ai: number, br: number, bi: number) => boolean> = {
  Equal: (ar, ai, br, bi) => ar === br && ai === bi,
  NotEqual: (ar, ai, br, bi) => !(ar === br && ai === bi),
};

const UNARY: Record<string, UnaryFn> = {
  Neg: (r, i, out, o) => {
    out[o] = -r;
    out[o + 1] = -i;
  },
  Conj: (r, i, out, o) => {
    out[o] = r;
    out[o + 1] = -i;
  },
  Square: (r, i, out, o) => {
    out[o] = r * r - i * i;
    out[o + 1] = 2 * r * i;
  },
  Reciprocal: (r, i, out, o) => cdiv(1, 0, r, i, out, o),
  Sign: (r, i, out, o) => {
    if (r === 0 && i === 0) {
      out[o] = 0;
      out[o + 1] = 0;
      return;
    }
    const m = Math.hypot(r, i);
    out[o] = r / m;
    out[o + 1] = i / m;
  },
  Exp: (r, i, out, o) => {
    const e = Math.exp(r);
    out[o] = i === 0 ? e : e * Math.cos(i);
    out[o + 1] = i === 0 ? i : e * Math.sin(i);
  },
  Expm1: (r, i, out, o) => {
    // exp(z) - 1 with the real part kept accurate near 0: expm1(r)cos(i) - 2 sin²(i/2).
    const s = Math.sin(i / 2);
    out[o] = Math.expm1(r) * Math.cos(i) - 2 * s * s;
    out[o + 1] = Math.exp(r) * Math.sin(i);
  },
  Log: (r, i, out, o) => {
    out[o] = Math.log(Math.hypot(r, i));
    out[o + 1] = Math.atan2(i, r);
  },
  Log1p: (r, i, out, o) => {
    // |1 + z|² = 1 + (2r + r² + i²): log1p keeps small z accurate.
    out[o] = 0.5 * Math.log1p(2 * r + r * r + i * i);
    out[o + 1] = Math.atan2(i, 1 + r);
  },
  Sqrt: csqrt,
  Rsqrt: (r, i, out, o) => {
    csqrt(r, i, tmp, 0);
    cdiv(1, 0, tmp[0], tmp[1], out, o);
  },
  Sin: (r, i, out, o) => {
    out[o] = Math.sin(r) * Math.cosh(i);
    out[o + 1] = Math.cos(r) * Math.sinh(i);
  },
  Cos: (r, i, out, o) => {
    out[o] = Math.cos(r) * Math.cosh(i);
    out[o + 1] = -Math.sin(r) * Math.sinh(i);
  },
  Sinh: (r, i, out, o) => {
    out[o] = Math.sinh(r) * Math.cos(i);
    out[o + 1] = Math.cosh(r) * Math.sin(i);
  },
  Cosh: (r, i, out, o) => {
    out[o] = Math.cosh(r) * Math.cos(i);
    out[o + 1] = Math.sinh(r) * Math.sin(i);
  },
  Tanh: (r, i, out, o) => {
    // tanh(r + ii) = (sinh 2r + i sin 2i) / (cosh 2r + cos 2i); saturates for large |r|.
    if (Math.abs(r) > 20) {
      out[o] = Math.sign(r);
      out[o + 1] = 4 * Math.sin(i) * Math.cos(i) * Math.exp(-2 * Math.abs(r));
      return;
    }
    const d = Math.cosh(2 * r) + Math.cos(2 * i);
    out[o] = Math.sinh(2 * r) / d;
    out[o + 1] = Math.sin(2 * i) / d;
  },
};
UNARY.Inv = UNARY.Reciprocal;

function checkSame(op: string, a: Tensor, b: Tensor): void {
  if (a.dtype !== b.dtype) {
    throw invalidArgument(
      `cannot compute ${op} as input #1(zero-based) was expected to be a ${dtypeShortName(a.dtype)} tensor but is a ${dtypeShortName(b.dtype)} tensor`,
    );
  }
}

/** A binary math op on two complex tensors of one dtype, broadcasting as TF does. */
export function complexBinary(op: string, a: Tensor, b: Tensor, shapeError = true): Tensor {
  checkSame(op, a, b);
  const fn = Object.hasOwn(BINARY, op) ? BINARY[op] : undefined;
  const cmp = Object.hasOwn(COMPARE, op) ? COMPARE[op] : undefined;
  if (!fn && !cmp) throw unsupportedDtype(op, a.dtype);
  const outShape = broadcastShapes(a.shape, b.shape);
  if (!outShape) {
    if (cmp && !shapeError) return Tensor.scalar('bool', op === 'NotEqual');
    throw invalidArgument(`Incompatible shapes: ${shapeString(a.shape)} vs. ${shapeString(b.shape)}`);
  }
  const outDtype: DType = cmp ? 'bool' : a.dtype;
  const n = checkTensorSize(outShape, outDtype);
  const ia = broadcastIndex(a.shape, outShape);
  const ib = broadcastIndex(b.shape, outShape);
  const av = a.values() as CArray;
  const bv = b.values() as CArray;
  if (cmp) {
    const out = allocHost('bool', n) as Uint8Array;
    for (let k = 0; k < n; k++) {
      const x = 2 * (ia ? ia[k] : k);
      const y = 2 * (ib ? ib[k] : k);
      out[k] = cmp(av[x], av[x + 1], bv[y], bv[y + 1]) ? 1 : 0;
    }
    return Tensor.fromHost('bool', outShape, out);
  }
  const out = allocHost(outDtype, n) as CArray;
  for (let k = 0; k < n; k++) {
    const x = 2 * (ia ? ia[k] : k);
    const y = 2 * (ib ? ib[k] : k);
    fn!(av[x], av[x + 1], bv[y], bv[y + 1], out, 2 * k);
  }
  return Tensor.fromHost(outDtype, outShape, out);
}

/** A unary math op on a complex tensor. */
export function complexUnary(op: string, x: Tensor): Tensor {
  const fn = Object.hasOwn(UNARY, op) ? UNARY[op] : undefined;
  if (!fn) throw unsupportedDtype(op, x.dtype);
  const out = allocHost(x.dtype, x.size) as CArray;
  const v = x.values() as CArray;
  for (let k = 0; k < 2 * x.size; k += 2) fn(v[k], v[k + 1], out, k);
  return Tensor.fromHost(x.dtype, x.shape, out);
}

/** Sum, Mean, Prod and EuclideanNorm (sqrt of Σ|x|², imaginary 0) over complex tensors; TF's Max/Min/All/Any refuse complex. */
export function complexReduce(op: string, x: Tensor, axis: Tensor, keepDims: boolean): Tensor {
  if (op !== 'Sum' && op !== 'Mean' && op !== 'Prod' && op !== 'EuclideanNorm') throw unsupportedDtype(op, x.dtype);
  const axes = reductionAxes(axis, x.rank, op);
  if (axes.length === 0) return x;
  const outShape = reducedShape(x.shape, axes, keepDims);
  const { outIndex, outSize, count } = reductionIndex(x.shape, axes);
  const src = x.values() as CArray;
  const acc = new Float64Array(2 * outSize);
  if (op === 'Prod') for (let k = 0; k < outSize; k++) acc[2 * k] = 1;
  for (let k = 0; k < x.size; k++) {
    const o = 2 * outIndex[k];
    const r = src[2 * k];
    const i = src[2 * k + 1];
    if (op === 'EuclideanNorm') {
      acc[o] += r * r + i * i;
    } else if (op === 'Prod') {
      const ar = acc[o];
      const ai = acc[o + 1];
      acc[o] = ar * r - ai * i;
      acc[o + 1] = ar * i + ai * r;
    } else {
      acc[o] += r;
      acc[o + 1] += i;
    }
  }
  if (op === 'Mean') for (let k = 0; k < 2 * outSize; k++) acc[k] /= count;
  if (op === 'EuclideanNorm') for (let k = 0; k < 2 * outSize; k += 2) acc[k] = Math.sqrt(acc[k]);
  const out = allocHost(x.dtype, outSize) as CArray;
  out.set(acc);
  return Tensor.fromHost(x.dtype, outShape, out);
}

/** Cumsum and Cumprod of a complex tensor along `axis` (already checked). */
export function complexScan(op: 'Cumsum' | 'Cumprod', x: Tensor, axis: number, exclusive: boolean, reverse: boolean): Tensor {
  const out = allocHost(x.dtype, x.size) as CArray;
  const src = x.values() as CArray;
  const [outer, dim, inner] = aroundAxis(x.shape, axis);
  const prod = op === 'Cumprod';
  for (let o = 0; o < outer; o++) {
    for (let i = 0; i < inner; i++) {
      let ar = prod ? 1 : 0;
      let ai = 0;
      for (let k = 0; k < dim; k++) {
        const at = 2 * ((o * dim + (reverse ? dim - 1 - k : k)) * inner + i);
        if (exclusive) {
          out[at] = ar;
          out[at + 1] = ai;
        }
        const r = src[at];
        const im = src[at + 1];
        if (prod) {
          const t = ar * r - ai * im;
          ai = ar * im + ai * r;
          ar = t;
        } else {
          ar += r;
          ai += im;
        }
        if (!exclusive) {
          out[at] = ar;
          out[at + 1] = ai;
        }
      }
    }
  }
  return Tensor.fromHost(x.dtype, x.shape, out);
}

/**
 * Batched complex matrix product (shapes already checked by math.ts's
 * batchMatMul): op(A) is A, Aᵀ, or with `adjoint` the conjugate transpose.
 */
export function complexMatMul(a: Tensor, b: Tensor, ta: boolean, tb: boolean, adjoint: boolean, batchShape: number[], m: number, k: number, n: number): Tensor {
  const aRows = a.shape[a.rank - 2];
  const aCols = a.shape[a.rank - 1];
  const bRows = b.shape[b.rank - 2];
  const bCols = b.shape[b.rank - 1];
  const batches = sizeOf(batchShape);
  const ia = broadcastIndex(a.shape.slice(0, -2), batchShape);
  const ib = broadcastIndex(b.shape.slice(0, -2), batchShape);
  const outShape = [...batchShape, m, n];
  const out = allocHost(a.dtype, checkTensorSize(outShape, a.dtype)) as CArray;
  const av = a.values() as CArray;
  const bv = b.values() as CArray;
  const sa = ta && adjoint ? -1 : 1;
  const sb = tb && adjoint ? -1 : 1;
  for (let batch = 0; batch < batches; batch++) {
    const aBase = (ia ? ia[batch] : batch) * aRows * aCols;
    const bBase = (ib ? ib[batch] : batch) * bRows * bCols;
    const oBase = batch * m * n;
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < n; j++) {
        let re = 0;
        let im = 0;
        for (let p = 0; p < k; p++) {
          const x = 2 * (aBase + (ta ? p * aCols + i : i * aCols + p));
          const y = 2 * (bBase + (tb ? j * bCols + p : p * bCols + j));
          const xr = av[x];
          const xi = sa * av[x + 1];
          const yr = bv[y];
          const yi = sb * bv[y + 1];
          re += xr * yr - xi * yi;
          im += xr * yi + xi * yr;
        }
        out[2 * (oBase + i * n + j)] = re;
        out[2 * (oBase + i * n + j) + 1] = im;
      }
    }
  }
  return Tensor.fromHost(a.dtype, outShape, out);
}

// ---------------------------------------------------------------------------
// Complex, Real, Imag, ComplexAbs, Angle, Conj

function checkComplexInput(op: string, x: Tensor): void {
  if (!isComplex(x.dtype)) throw unsupportedDtype(op, x.dtype);
}

/** One real value per element of a complex tensor. */
function partsOf(op: string, x: Tensor, outType: DType, part: (r: number, i: number) => number): Tensor {
  checkComplexInput(op, x);
  const out = allocHost(outType, x.size) as CArray;
  const v = x.values() as CArray;
  for (let k = 0; k < x.size; k++) out[k] = part(v[2 * k], v[2 * k + 1]);
  return Tensor.fromHost(outType, x.shape, out);
}

function checkTout(op: string, x: Tensor, tout: DType): void {
  if (tout !== partDtype(x.dtype)) {
    throw invalidArgument(`${op}: Tout ${dtypeShortName(tout)} does not match the parts of a ${dtypeShortName(x.dtype)} input`);
  }
}

registerKernel({
  op: 'Complex',
  kernel: ({ inputs: [re, im], attrs }) => {
    const tout = attrs.type('Tout', complexOf(re.dtype));
    if (re.dtype !== 'float32' && re.dtype !== 'float64') throw unsupportedDtype('Complex', re.dtype);
    checkSame('Complex', re, im);
    if (tout !== complexOf(re.dtype)) throw invalidArgument(`Complex: Tout ${dtypeShortName(tout)} does not match ${dtypeShortName(re.dtype)} parts`);
    const outShape = broadcastShapes(re.shape, im.shape);
    if (!outShape) throw invalidArgument(`Incompatible shapes: ${shapeString(re.shape)} vs. ${shapeString(im.shape)}`);
    const n = checkTensorSize(outShape, tout);
    const ir = broadcastIndex(re.shape, outShape);
    const ii = broadcastIndex(im.shape, outShape);
    const rv = re.values() as CArray;
    const iv = im.values() as CArray;
    const out = allocHost(tout, n) as CArray;
    for (let k = 0; k < n; k++) {
      out[2 * k] = rv[ir ? ir[k] : k];
      out[2 * k + 1] = iv[ii ? ii[k] : k];
    }
    return [Tensor.fromHost(tout, outShape, out)];
  },
});

function registerPart(op: string, part: (r: number, i: number) => number): void {
  registerKernel({
    op,
    kernel: ({ inputs: [x], attrs }) => {
      checkComplexInput(op, x);
      const tout = attrs.type('Tout', partDtype(x.dtype));
      checkTout(op, x, tout);
      return [partsOf(op, x, tout, part)];
    },
  });
}

registerPart('Real', (r) => r);
registerPart('Imag', (_r, i) => i);
registerPart('ComplexAbs', Math.hypot);
registerPart('Angle', (r, i) => Math.atan2(i, r));

registerKernel({
  op: 'Conj',
  kernel: ({ inputs: [x] }) => {
    checkComplexInput('Conj', x);
    return [complexUnary('Conj', x)];
  },
});
