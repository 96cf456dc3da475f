/**
 * Fast Fourier transforms: FFT, IFFT, FFT2D, IFFT2D, FFT3D, IFFT3D (complex
 * to complex over the innermost 1-3 axes), RFFT*, IRFFT* (real to half
 * spectrum and back, with an fft_length input). FFTND, IFFTND, RFFTND and
 * IRFFTND are left out: TF registers no CPU kernel for them (a model using
 * them fails in TensorFlow too, "No OpKernel was registered").
 *
 * Follows tensorflow/core/kernels/fft_ops.cc (FFTBase and
 * DuccFftImpl) and tensorflow/core/ops/spectral_ops.cc:
 *  - the transform is unnormalised forward, and scaled by 1 / (product of the
 *    transformed output dims) backward;
 *  - RFFT/IRFFT: fft_length must have shape [rank], each entry >= 0; every
 *    transformed input dim must be at least fft_length[i] (at least
 *    fft_length/2 + 1 for IRFFT's innermost dim) unless it is 0, and longer
 *    input dims are cropped (the Python wrappers tf.signal.rfft/irfft
 *    zero-pad shorter inputs before the op runs). RFFT's innermost output dim
 *    is fft_length/2 + 1 (0 when fft_length is 0); IRFFT's output dims are
 *    fft_length;
 *  - IRFFT is the real part of the inverse transform of the Hermitian
 *    extension of its input along the innermost axis (DUCC's c2r): the
 *    imaginary parts of the DC and, for even lengths, Nyquist terms are
 *    ignored; outer axes are inverse complex transforms done first;
 *  - an empty input gives an output of zeros of the output shape.
 * Error texts are TF's. Numerics: every transform runs in float64 (radix-2
 * for powers of two, mixed radix when every prime factor is at most 31,
 * Bluestein's chirp-z otherwise: O(n log n) for any length); complex64 and
 * float32 results are rounded once when stored, so they are at least as
 * accurate as TF's float32 DUCC results.
 */
import { type DType, dtypeToEnum } from '../../dtypes.js';
import { invalidArgument } from '../../errors.js';
import { checkTensorSize } from '../../limits.js';
import { type Shape, Tensor, allocHost, shapeString, sizeOf } from '../../tensor.js';
import { stridesOf, unsupportedDtype } from '../host_math.js';
import { registerKernel } from '../registry.js';
import { complexOf, isComplex } from './complex.js';

// ---------------------------------------------------------------------------
// 1-D transforms in float64 on split re/im arrays (unnormalised)

interface Plan {
  /** In place: forward is exp(-2πi jk/n), inverse exp(+2πi jk/n), both unscaled. */
  run(re: Float64Array, im: Float64Array, inverse: boolean): void;
}

const isPow2 = (n: number) => (n & (n - 1)) === 0;

class Radix2Plan implements Plan {
  private readonly cos: Float64Array;
  private readonly sin: Float64Array;
  private readonly rev: Uint32Array;
  constructor(private readonly n: number) {
    const half = n >> 1;
    this.cos = new Float64Array(half);
    this.sin = new Float64Array(half);
    for (let k = 0; k < half; k++) {
      const a = (2 * Math.PI * k) / n;
      this.cos[k] = Math.cos(a);
      this.sin[k] = Math.sin(a);
    }
    this.rev = new Uint32Array(n);
    let bits = 0;
    while (1 << bits < n) bits++;
    for (let i = 0; i < n; i++) {
      let r = 0;
      for (let b = 0; b < bits; b++) if (i & (1 << b)) r |= 1 << (bits - 1 - b);
      this.rev[i] = r;
    }
  }

  run(re: Float64Array, im: Float64Array, inverse: boolean): void {
    const n = this.n;
    if (n <= 1) return;
    const rev = this.rev;
    for (let i = 0; i < n; i++) {
      const j = rev[i];
      if (j > i) {
        let t = re[i];
        re[i] = re[j];
        re[j] = t;
        t = im[i];
        im[i] = im[j];
        im[j] = t;
      }
    }
    const cos = this.cos;
    const sin = this.sin;
    const sign = inverse ? 1 : -1;
    // Size-2 butterflies (twiddle 1) first, then the general stages.
    for (let a = 0; a < n; a += 2) {
      const xr = re[a + 1];
      const xi = im[a + 1];
      re[a + 1] = re[a] - xr;
      im[a + 1] = im[a] - xi;
      re[a] += xr;
      im[a] += xi;
    }
    for (let size = 4; size <= n; size <<= 1) {
      const half = size >> 1;
      const step = n / size;
      for (let start = 0; start < n; start += size) {
        for (let k = 0, t = 0; k < half; k++, t += step) {
          const wr = cos[t];
          const wi = sign * sin[t];
          const a = start + k;
          const b = a + half;
          const br = re[b];
          const bi = im[b];
          const xr = br * wr - bi * wi;
          const xi = br * wi + bi * wr;
          re[b] = re[a] - xr;
          im[b] = im[a] - xi;
          re[a] += xr;
          im[a] += xi;
        }
      }
    }
  }
}

/** The prime factors of n (fours first) when all are at most MAX_RADIX, else undefined. */
const MAX_RADIX = 31;
function smoothFactors(n: number): number[] | undefined {
  const factors: number[] = [];
  let r = n;
  while (r % 4 === 0) {
    factors.push(4);
    r /= 4;
  }
  for (let p = 2; p <= MAX_RADIX && r > 1; p++) {
    while (r % p === 0) {
      factors.push(p);
      r /= p;
    }
  }
  return r === 1 ? factors : undefined;
}

/**
 * Mixed-radix Cooley-Tukey (decimation in time, recursive) for lengths whose
 * prime factors are all small: each level does p-point DFTs of twiddled
 * sub-transforms.
 */
class MixedRadixPlan implements Plan {
  private readonly cos: Float64Array;
  private readonly sin: Float64Array;
  private readonly outRe: Float64Array;
  private readonly outIm: Float64Array;
  private readonly tr: Float64Array;
  private readonly ti: Float64Array;
  constructor(
    private readonly n: number,
    private readonly factors: number[],
  ) {
    this.cos = new Float64Array(n);
    this.sin = new Float64Array(n);
    for (let e = 0; e < n; e++) {
      const a = (2 * Math.PI * e) / n;
      this.cos[e] = Math.cos(a);
      this.sin[e] = Math.sin(a);
    }
    this.outRe = new Float64Array(n);
    this.outIm = new Float64Array(n);
    const maxP = Math.max(1, ...factors);
    this.tr = new Float64Array(maxP);
    this.ti = new Float64Array(maxP);
  }

  run(re: Float64Array, im: Float64Array, inverse: boolean): void {
    if (this.n <= 1) return;
    this.rec(re, im, 0, 1, 0, this.n, 0, inverse ? 1 : -1);
    re.set(this.outRe);
    im.set(this.outIm);
  }

  /** DFT of the length-n sequence x[xo + j·xs] into out[yo .. yo + n). */
  private rec(xr: Float64Array, xi: Float64Array, xo: number, xs: number, yo: number, n: number, fi: number, sign: number): void {
    const yr = this.outRe;
    const yi = this.outIm;
    if (n === 1) {
      yr[yo] = xr[xo];
      yi[yo] = xi[xo];
      return;
    }
    const p = this.factors[fi];
    const m = n / p;
    for (let q = 0; q < p; q++) this.rec(xr, xi, xo + q * xs, xs * p, yo + q * m, m, fi + 1, sign);
    const N = this.n;
    const cos = this.cos;
    const sin = this.sin;
    const tr = this.tr;
    const ti = this.ti;
    const step = N / n; // W_n^e = W_N^(e·step)
    const pStep = N / p; // W_p^e = W_N^(e·pStep)
    for (let k = 0; k < m; k++) {
      for (let q = 0; q < p; q++) {
        const at = yo + q * m + k;
        const e = (q * k * step) % N;
        if (e === 0) {
          tr[q] = yr[at];
          ti[q] = yi[at];
        } else {
          const wr = cos[e];
          const wi = sign * sin[e];
          tr[q] = yr[at] * wr - yi[at] * wi;
          ti[q] = yr[at] * wi + yi[at] * wr;
        }
      }
      for (let s = 0; s < p; s++) {
        let sr = tr[0];
        let si = ti[0];
        for (let q = 1; q < p; q++) {
          const e = ((q * s) % p) * pStep;
          if (e === 0) {
            sr += tr[q];
            si += ti[q];
          } else {
            const wr = cos[e];
            const wi = sign * sin[e];
            sr += tr[q] * wr - ti[q] * wi;
            si += tr[q] * wi + ti[q] * wr;
          }
        }
        // Written in place: row k of every q block is read above before any is written.
        yr[yo + s * m + k] = sr;
        yi[yo + s * m + k] = si;
      }
    }
  }
}

/** Bluestein's algorithm: a length-n DFT as a convolution done with power-of-two FFTs. */
class BluesteinPlan implements Plan {
  private readonly m: number;
  private readonly inner: Radix2Plan;
  /** exp(-πi k²/n) */
  private readonly wr: Float64Array;
  private readonly wi: Float64Array;
  /** FFT of the conjugate chirp, wrapped. */
  private readonly br: Float64Array;
  private readonly bi: Float64Array;
  constructor(private readonly n: number) {
    let m = 1;
    while (m < 2 * n - 1) m <<= 1;
    // Scratch of up to 4n complex values per line: bounded like any tensor.
    checkTensorSize([2 * m], 'float64');
    this.m = m;
    this.inner = planFor(m) as Radix2Plan;
    this.wr = new Float64Array(n);
    this.wi = new Float64Array(n);
    const twoN = 2 * n;
    for (let k = 0; k < n; k++) {
      // k² mod 2n keeps the angle small (exact below 2^53).
      const a = (Math.PI * ((k * k) % twoN)) / n;
      this.wr[k] = Math.cos(a);
      this.wi[k] = -Math.sin(a);
    }
    this.br = new Float64Array(m);
    this.bi = new Float64Array(m);
    this.br[0] = this.wr[0];
    this.bi[0] = -this.wi[0];
    for (let k = 1; k < n; k++) {
      this.br[k] = this.br[m - k] = this.wr[k];
      this.bi[k] = this.bi[m - k] = -this.wi[k];
    }
    this.inner.run(this.br, this.bi, false);
  }

  run(re: Float64Array, im: Float64Array, inverse: boolean): void {
    const { n, m, wr, wi, br, bi } = this;
    // The inverse transform is conj(DFT(conj(x))).
    const s = inverse ? -1 : 1;
    const ar = new Float64Array(m);
    const ai = new Float64Array(m);
    for (let k = 0; k < n; k++) {
      const xr = re[k];
      const xi = s * im[k];
      ar[k] = xr * wr[k] - xi * wi[k];
      ai[k] = xr * wi[k] + xi * wr[k];
    }
    this.inner.run(ar, ai, false);
    for (let k = 0; k < m; k++) {
      const r = ar[k] * br[k] - ai[k] * bi[k];
      ai[k] = ar[k] * bi[k] + ai[k] * br[k];
      ar[k] = r;
    }
    this.inner.run(ar, ai, true);
    for (let k = 0; k < n; k++) {
      const cr = ar[k] / m;
      const ci = ai[k] / m;
      re[k] = cr * wr[k] - ci * wi[k];
      im[k] = s * (cr * wi[k] + ci * wr[k]);
    }
  }
}

/** Plans for recent lengths (tables and chirps); long ones are not kept. */
const plans = new Map<number, Plan>();
const CACHED_PLAN_MAX = 1 << 16;

function planFor(n: number): Plan {
  let p = plans.get(n);
  if (!p) {
    const factors = isPow2(n) ? undefined : smoothFactors(n);
    p = isPow2(n) ? new Radix2Plan(n) : factors ? new MixedRadixPlan(n, factors) : new BluesteinPlan(n);
    if (n <= CACHED_PLAN_MAX) {
      if (plans.size >= 64) plans.clear();
      plans.set(n, p);
    }
  }
  return p;
}

/** Transforms every line of `re`/`im` (row-major `shape`) along `axis`, in place. */
function transformAxis(re: Float64Array, im: Float64Array, shape: Shape, axis: number, inverse: boolean): void {
  const len = shape[axis];
  if (len <= 1) return;
  const stride = stridesOf(shape)[axis];
  const outer = sizeOf(shape) / (len * stride);
  const plan = planFor(len);
  const lr = new Float64Array(len);
  const li = new Float64Array(len);
  for (let o = 0; o < outer; o++) {
    for (let s = 0; s < stride; s++) {
      const base = o * len * stride + s;
      for (let j = 0; j < len; j++) {
        lr[j] = re[base + j * stride];
        li[j] = im[base + j * stride];
      }
      plan.run(lr, li, inverse);
      for (let j = 0; j < len; j++) {
        re[base + j * stride] = lr[j];
        im[base + j * stride] = li[j];
      }
    }
  }
}

/** The elements of `src` (row-major `from`) cropped or zero-padded to `to` (same rank). */
function resize(src: Float64Array, from: Shape, to: Shape): Float64Array {
  const out = new Float64Array(sizeOf(to));
  if (out.length === 0 || src.length === 0) return out;
  const rank = to.length;
  if (rank === 0) {
    out[0] = src[0];
    return out;
  }
  const inStrides = stridesOf(from);
  const lastIn = from[rank - 1];
  const lastOut = to[rank - 1];
  const copy = Math.min(lastIn, lastOut);
  const rows = out.length / lastOut;
  // One row (innermost axis) at a time; `idx` walks the leading dims of `to`.
  const idx = new Array<number>(rank - 1).fill(0);
  for (let r = 0; r < rows; r++) {
    let s = 0;
    let inside = true;
    for (let d = 0; d < rank - 1; d++) {
      if (idx[d] >= from[d]) {
        inside = false;
        break;
      }
      s += idx[d] * inStrides[d];
    }
    if (inside) out.set(src.subarray(s, s + copy), r * lastOut);
    for (let d = rank - 2; d >= 0; d--) {
      if (++idx[d] < to[d]) break;
      idx[d] = 0;
    }
  }
  return out;
}

function splitParts(t: Tensor): [Float64Array, Float64Array] {
  const v = t.values() as Float32Array | Float64Array;
  const re = new Float64Array(t.size);
  const im = new Float64Array(t.size);
  if (isComplex(t.dtype)) {
    for (let k = 0; k < t.size; k++) {
      re[k] = v[2 * k];
      im[k] = v[2 * k + 1];
    }
  } else re.set(v);
  return [re, im];
}

function complexResult(dtype: DType, shape: Shape, re: Float64Array, im: Float64Array, scale: number): Tensor {
  const n = sizeOf(shape);
  const out = allocHost(dtype, n) as Float32Array | Float64Array;
  for (let k = 0; k < n; k++) {
    out[2 * k] = re[k] * scale;
    out[2 * k + 1] = im[k] * scale;
  }
  return Tensor.fromHost(dtype, shape, out);
}

function zeros(dtype: DType, shape: Shape): Tensor {
  return Tensor.fromHost(dtype, shape, allocHost(dtype, checkTensorSize(shape, dtype)));
}

// ---------------------------------------------------------------------------
// The transforms, over the innermost `rank` axes

type Kind = { forward: boolean; real: boolean };

function typeError(kind: Kind, inType: DType, outType: DType): never {
  const what = kind.real ? (kind.forward ? 'forward real FFT' : 'backward real FFT') : 'FFT';
  throw invalidArgument(`Wrong types for ${what}: in=${dtypeToEnum(inType)} out=${dtypeToEnum(outType)}`);
}

/** Checks fft_length and returns its values and the output shape (FFTBase's rules). */
function realLengths(input: Tensor, fftLength: Tensor, rank: number, forward: boolean): { lengths: number[]; outShape: number[] } {
  if (fftLength.rank !== 1 || fftLength.shape[0] !== rank) {
    throw invalidArgument(`fft_length must have shape [${rank}]`);
  }
  if (fftLength.dtype !== 'int32') throw unsupportedDtype('fft_length', fftLength.dtype);
  const lengths = fftLength.numbers();
  const outShape = [...input.shape];
  for (let i = 0; i < rank; i++) {
    const n = lengths[i];
    if (n < 0) throw invalidArgument(`fft_length[${i}] must >= 0, but got: ${n}`);
    const inner = i === rank - 1;
    const min = !forward && inner ? Math.floor(n / 2) + 1 : n;
    const index = input.rank - rank + i;
    const have = input.shape[index];
    if (have !== 0 && have < min) {
      throw invalidArgument(`Input dimension ${index} must have length of at least ${min} but got: ${have}`);
    }
    outShape[index] = forward && inner && n !== 0 ? Math.floor(n / 2) + 1 : n;
  }
  return { lengths, outShape };
}

function checkRank(input: Tensor, rank: number): void {
  if (input.rank < rank) throw invalidArgument(`Input must have rank of at least ${rank} but got: ${shapeString(input.shape)}`);
}

/** Complex to complex over the innermost `rank` axes. */
function c2c(input: Tensor, rank: number, forward: boolean): Tensor {
  if (!isComplex(input.dtype)) typeError({ forward, real: false }, input.dtype, input.dtype);
  const lead = input.rank - rank;
  const outShape = [...input.shape];
  if (input.size === 0) return zeros(input.dtype, outShape);
  const [re, im] = splitParts(input);
  let count = 1;
  for (let i = 0; i < rank; i++) {
    transformAxis(re, im, outShape, lead + i, !forward);
    count *= outShape[lead + i];
  }
  return complexResult(input.dtype, outShape, re, im, forward ? 1 : 1 / count);
}

/** Real to half spectrum over the innermost `rank` axes. */
function r2c(input: Tensor, fftLength: Tensor, rank: number, outType: DType): Tensor {
  const { lengths, outShape } = realLengths(input, fftLength, rank, true);
  if (!((input.dtype === 'float32' && outType === 'complex64') || (input.dtype === 'float64' && outType === 'complex128'))) {
    typeError({ forward: true, real: true }, input.dtype, outType);
  }
  checkTensorSize(outShape, outType);
  if (input.size === 0 || sizeOf(outShape) === 0) return zeros(outType, outShape);
  const lead = input.rank - rank;
  const full = [...input.shape];
  for (let i = 0; i < rank; i++) full[lead + i] = lengths[i];
  checkTensorSize(full, outType);
  const [re0] = splitParts(input);
  const re = resize(re0, input.shape, full);
  const im = new Float64Array(re.length);
  for (let i = 0; i < rank; i++) transformAxis(re, im, full, lead + i, false);
  return complexResult(outType, outShape, resize(re, full, outShape), resize(im, full, outShape), 1);
}

/** Half spectrum to real over the innermost `rank` axes (DUCC's c2r). */
function c2r(input: Tensor, fftLength: Tensor, rank: number, outType: DType): Tensor {
  const { lengths, outShape } = realLengths(input, fftLength, rank, false);
  if (!((input.dtype === 'complex64' && outType === 'float32') || (input.dtype === 'complex128' && outType === 'float64'))) {
    typeError({ forward: false, real: true }, input.dtype, outType);
  }
  checkTensorSize(outShape, outType);
  if (input.size === 0 || sizeOf(outShape) === 0) return zeros(outType, outShape);
  const lead = input.rank - rank;
  const n = lengths[rank - 1];
  const h = Math.floor(n / 2) + 1;
  const halfShape = [...outShape];
  halfShape[halfShape.length - 1] = h;
  checkTensorSize(halfShape, input.dtype);
  const [re0, im0] = splitParts(input);
  const re = resize(re0, input.shape, halfShape);
  const im = resize(im0, input.shape, halfShape);
  for (let i = 0; i < rank - 1; i++) transformAxis(re, im, halfShape, lead + i, true);
  let count = n;
  for (let i = 0; i < rank - 1; i++) count *= lengths[i];
  const scale = 1 / count;
  const lines = re.length / h;
  const out = allocHost(outType, lines * n) as Float32Array | Float64Array;
  const lr = new Float64Array(n);
  const li = new Float64Array(n);
  const plan = planFor(n);
  for (let l = 0; l < lines; l++) {
    const base = l * h;
    lr[0] = re[base];
    li[0] = 0;
    for (let k = 1; k < h; k++) {
      lr[k] = re[base + k];
      li[k] = im[base + k];
      lr[n - k] = re[base + k];
      li[n - k] = -im[base + k];
    }
    if (n % 2 === 0 && n > 0) li[n / 2] = 0;
    plan.run(lr, li, true);
    for (let j = 0; j < n; j++) out[l * n + j] = lr[j] * scale;
  }
  return Tensor.fromHost(outType, outShape, out);
}

const RANKS = [1, 2, 3] as const;
const SUFFIX = ['', '2D', '3D'];

for (const rank of RANKS) {
  const sfx = SUFFIX[rank - 1];
  registerKernel({
    op: `FFT${sfx}`,
    kernel: ({ inputs: [x] }) => {
      checkRank(x, rank);
      return [c2c(x, rank, true)];
    },
  });
  registerKernel({
    op: `IFFT${sfx}`,
    kernel: ({ inputs: [x] }) => {
      checkRank(x, rank);
      return [c2c(x, rank, false)];
    },
  });
  registerKernel({
    op: `RFFT${sfx}`,
    kernel: ({ inputs: [x, len], attrs }) => {
      checkRank(x, rank);
      return [r2c(x, len, rank, attrs.type('Tcomplex', complexOf(x.dtype)))];
    },
  });
  registerKernel({
    op: `IRFFT${sfx}`,
    kernel: ({ inputs: [x, len], attrs }) => {
      checkRank(x, rank);
      return [c2r(x, len, rank, attrs.type('Treal', x.dtype === 'complex128' ? 'float64' : 'float32'))];
    },
  });
}

/**
 * A forward transform of real length-n frames (for spectrogram kernels): the
 * returned function transforms `frame` and gives views of the real and
 * imaginary parts of bins 0..n-1 (reused between calls).
 */
export function realSpectrumPlan(n: number): (frame: Float64Array) => [Float64Array, Float64Array] {
  const plan = planFor(n);
  const re = new Float64Array(n);
  const im = new Float64Array(n);
  return (frame) => {
    re.set(frame.subarray(0, n));
    im.fill(0);
    plan.run(re, im, false);
    return [re, im];
  };
}
