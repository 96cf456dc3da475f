/**
 * Dense linear algebra over the innermost two dimensions, batched over the
 * rest: Cholesky, MatrixInverse, MatrixDeterminant, LogMatrixDeterminant,
 * MatrixSolve, MatrixTriangularSolve, Qr, SelfAdjointEigV2, Svd, Lu,
 * MatrixSolveLs, TridiagonalSolve, TridiagonalMatMul (and the TF1 Batch*
 * aliases).
 *
 * Follows tensorflow/core/kernels/linalg/ (linalg_ops_common.cc for the
 * shared validation and error texts; cholesky_op.cc, matrix_inverse_op.cc,
 * determinant_op.cc, matrix_solve_op.cc, matrix_triangular_solve_op_impl.h,
 * qr_op_impl.h, self_adjoint_eig_v2_op_impl.h, svd_op_impl.h) and the Eigen
 * decompositions they call:
 *  - LU with partial pivoting (largest |pivot| in the column, first on ties),
 *    as Eigen::PartialPivLU: MatrixInverse and MatrixSolve refuse an exact
 *    zero pivot; the determinant is sign(P)·Πsign(u_ii) · exp(Σ log|u_ii|),
 *    so a singular matrix gives (±)0 and log|det| = -inf;
 *  - Cholesky as Eigen::LLT, reading the lower triangle only; when a pivot
 *    is <= 0 the lower triangle is filled with NaN (TF 2.21 no longer fails;
 *    its upper triangle is then unspecified, here 0);
 *  - Householder QR as Eigen::HouseholderQR: each reflector maps the column
 *    to beta·e1 with beta = -sign(a_kk)·norm, so R's diagonal may be
 *    negative and Q, R equal TF's up to rounding;
 *  - symmetric eigen: Eigen::SelfAdjointEigenSolver's own steps (Householder
 *    tridiagonalization of the lower triangle, implicit QR with Wilkinson
 *    shift, selection sort), so eigenvalues come out ascending and the
 *    eigenvector signs are TF's;
 *  - SVD: below 16 columns TF's Eigen::BDCSVD runs JacobiSVD with a
 *    column-pivoting QR preconditioner; that is reproduced step by step, so
 *    singular values descend and U/V carry TF's signs. From 16 columns TF runs
 *    divide and conquer; here a one-sided Jacobi gives the same values and
 *    subspaces, but vector signs may differ from TF's there.
 *  - MatrixSolveLs: fast=True solves the (regularized) normal equations by
 *    Cholesky like TF; fast=False gives the minimum-norm least-squares
 *    solution (through the SVD here, Eigen's complete orthogonal
 *    decomposition in TF: equal for inputs that are not near rank-deficient).
 * Everything is computed on the host in float64 and rounded to the output
 * dtype (float32/float16/bfloat16 results are float64 results rounded, well
 * within TF's float32 error for well-conditioned inputs). Complex dtypes are
 * not supported. Output sizes go through checkTensorSize; the loops check
 * for cancellation per matrix and per Jacobi sweep, so a huge matrix a
 * request sends stops at its deadline.
 */
import type { DType } from '../../dtypes.js';
import { checkCancelled } from '../../cancellation.js';
import { invalidArgument } from '../../errors.js';
import { checkTensorSize } from '../../limits.js';
import { type HostData, Tensor, allocHost, shapeString, sizeOf } from '../../tensor.js';
import { broadcastIndex, broadcastShapes, unsupportedDtype } from '../host_math.js';
import { registerKernel } from '../registry.js';

const REAL: readonly DType[] = ['float32', 'float64', 'float16', 'bfloat16'];

function checkReal(op: string, t: Tensor): void {
  if (!REAL.includes(t.dtype)) throw unsupportedDtype(op, t.dtype);
}

/** TF's LinearAlgebraOp::AnalyzeInputs rank check. */
function checkRank(t: Tensor, index = 0): void {
  if (t.rank < 2) throw invalidArgument(`Input tensor ${index} must have rank >= 2, got ${t.rank}`);
}

function rowsOf(t: Tensor): number {
  return t.shape[t.rank - 2];
}
function colsOf(t: Tensor): number {
  return t.shape[t.rank - 1];
}

/** Validates a batch of square matrices: rank >= 2, real dtype, square. */
function squareInput(op: string, t: Tensor): number {
  checkRank(t);
  checkReal(op, t);
  if (rowsOf(t) !== colsOf(t)) throw invalidArgument('Input matrix must be square.');
  return rowsOf(t);
}

/** Matrix `b` of a batch, as a float64 row-major copy. */
function matrixAt(src: HostData, b: number, rows: number, cols: number): Float64Array {
  const n = rows * cols;
  const out = new Float64Array(n);
  const v = src as ArrayLike<number>;
  for (let i = 0, o = b * n; i < n; i++) out[i] = v[o + i];
  return out;
}

function outTensor(dtype: DType, shape: number[]): { data: Float64Array | Float32Array; done: () => Tensor } {
  checkTensorSize(shape, dtype);
  const data = allocHost(dtype, sizeOf(shape)) as Float64Array | Float32Array;
  return { data, done: () => Tensor.fromHost(dtype, shape, data) };
}

// ---------------------------------------------------------------------------
// LU with partial pivoting (Eigen::PartialPivLU)

interface LU {
  /** Combined L (unit lower, below the diagonal) and U (upper), row-major n×n. */
  lu: Float64Array;
  /** perm[i] = the original row now at row i. */
  perm: Int32Array;
  /** Determinant of the permutation: ±1. */
  permSign: number;
}

function luDecompose(a: Float64Array, n: number): LU {
  const lu = a;
  const perm = new Int32Array(n);
  for (let i = 0; i < n; i++) perm[i] = i;
  let permSign = 1;
  for (let k = 0; k < n; k++) {
    if ((k & 15) === 15) checkCancelled();
    let p = k;
    let best = Math.abs(lu[k * n + k]);
    for (let i = k + 1; i < n; i++) {
      const v = Math.abs(lu[i * n + k]);
      if (v > best) {
        best = v;
        p = i;
      }
    }
    if (p !== k) {
      for (let j = 0; j < n; j++) {
        const t = lu[k * n + j];
        lu[k * n + j] = lu[p * n + j];
        lu[p * n + j] = t;
      }
      const t = perm[k];
      perm[k] = perm[p];
      perm[p] = t;
      permSign = -permSign;
    }
    const pivot = lu[k * n + k];
    if (pivot === 0) continue; // Eigen leaves the column below a zero pivot as is
    for (let i = k + 1; i < n; i++) {
      const f = (lu[i * n + k] /= pivot);
      if (f === 0) continue;
      for (let j = k + 1; j < n; j++) lu[i * n + j] -= f * lu[k * n + j];
    }
  }
  return { lu, perm, permSign };
}

/** The smallest |u_ii| (NaN when a pivot is NaN, which TF's check refuses too). */
function minAbsPivot(d: LU, n: number): number {
  let m = Infinity;
  for (let i = 0; i < n; i++) {
    const v = Math.abs(d.lu[i * n + i]);
    if (v !== v) return NaN;
    if (v < m) m = v;
  }
  return m;
}

/** Solves (LU) x = P b for `k` right-hand sides in `b` (n×k row-major), in place. */
function luSolve(d: LU, n: number, b: Float64Array, k: number): Float64Array {
  const x = new Float64Array(n * k);
  for (let i = 0; i < n; i++) for (let j = 0; j < k; j++) x[i * k + j] = b[d.perm[i] * k + j];
  for (let i = 0; i < n; i++) {
    for (let p = 0; p < i; p++) {
      const f = d.lu[i * n + p];
      if (f !== 0) for (let j = 0; j < k; j++) x[i * k + j] -= f * x[p * k + j];
    }
  }
  for (let i = n - 1; i >= 0; i--) {
    for (let p = i + 1; p < n; p++) {
      const f = d.lu[i * n + p];
      if (f !== 0) for (let j = 0; j < k; j++) x[i * k + j] -= f * x[p * k + j];
    }
    const piv = d.lu[i * n + i];
    for (let j = 0; j < k; j++) x[i * k + j] /= piv;
  }
  return x;
}

function transposeSquare(a: Float64Array, n: number): Float64Array {
  const t = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) t[j * n + i] = a[i * n + j];
  return t;
}

function identity(n: number): Float64Array {
  const e = new Float64Array(n * n);
  for (let i = 0; i < n; i++) e[i * n + i] = 1;
  return e;
}

const mathSign = (v: number): number => (v > 0 ? 1 : v < 0 ? -1 : v === 0 ? 0 : NaN);

/** [sign, log|det|] as determinant_op.cc's SLogDet. */
function slogdet(a: Float64Array, n: number): [number, number] {
  if (n === 0) return [1, 0];
  const d = luDecompose(a, n);
  let sign = d.permSign;
  let logAbs = 0;
  for (let i = 0; i < n; i++) {
    const u = d.lu[i * n + i];
    logAbs += Math.log(Math.abs(u));
    sign *= mathSign(u);
  }
  return [sign, logAbs];
}

// ---------------------------------------------------------------------------
// Kernels

registerKernel({
  op: ['Cholesky', 'BatchCholesky'],
  kernel: (ctx) => {
    const x = ctx.inputs[0];
    const n = squareInput(ctx.node.op, x);
    const { data, done } = outTensor(x.dtype, [...x.shape]);
    const src = x.values();
    const batches = n === 0 ? 0 : x.size / (n * n);
    for (let b = 0; b < batches; b++) {
      checkCancelled();
      const a = matrixAt(src, b, n, n);
      const l = new Float64Array(n * n);
      let ok = true;
      for (let j = 0; j < n && ok; j++) {
        if ((j & 15) === 15) checkCancelled();
        let s = a[j * n + j];
        for (let p = 0; p < j; p++) s -= l[j * n + p] * l[j * n + p];
        if (s <= 0) {
          ok = false;
          break;
        }
        const d = Math.sqrt(s);
        l[j * n + j] = d;
        for (let i = j + 1; i < n; i++) {
          let t = a[i * n + j]; // lower triangle only
          for (let p = 0; p < j; p++) t -= l[i * n + p] * l[j * n + p];
          l[i * n + j] = t / d;
        }
      }
      const o = b * n * n;
      if (!ok) {
        for (let i = 0; i < n; i++) for (let j = 0; j <= i; j++) data[o + i * n + j] = NaN;
      } else {
        data.set(l, o);
      }
    }
    return [done()];
  },
});

registerKernel({
  op: ['MatrixInverse', 'BatchMatrixInverse'],
  kernel: (ctx) => {
    const x = ctx.inputs[0];
    const n = squareInput(ctx.node.op, x);
    const adjoint = ctx.attrs.bool('adjoint', false);
    const { data, done } = outTensor(x.dtype, [...x.shape]);
    const src = x.values();
    const batches = n === 0 ? 0 : x.size / (n * n);
    for (let b = 0; b < batches; b++) {
      checkCancelled();
      let a = matrixAt(src, b, n, n);
      if (adjoint) a = transposeSquare(a, n);
      const d = luDecompose(a, n);
      if (!(minAbsPivot(d, n) > 0)) throw invalidArgument('Input is not invertible.');
      data.set(luSolve(d, n, identity(n), n), b * n * n);
    }
    return [done()];
  },
});

registerKernel({
  op: ['MatrixDeterminant', 'BatchMatrixDeterminant'],
  kernel: (ctx) => {
    const x = ctx.inputs[0];
    const n = squareInput(ctx.node.op, x);
    const batchShape = x.shape.slice(0, -2);
    const { data, done } = outTensor(x.dtype, batchShape);
    const src = x.values();
    for (let b = 0; b < data.length; b++) {
      checkCancelled();
      const [sign, logAbs] = slogdet(matrixAt(src, b, n, n), n);
      data[b] = sign * Math.exp(logAbs);
    }
    return [done()];
  },
});

registerKernel({
  op: 'LogMatrixDeterminant',
  kernel: (ctx) => {
    const x = ctx.inputs[0];
    const n = squareInput(ctx.node.op, x);
    const batchShape = x.shape.slice(0, -2);
    const signOut = outTensor(x.dtype, batchShape);
    const logOut = outTensor(x.dtype, batchShape);
    const src = x.values();
    for (let b = 0; b < signOut.data.length; b++) {
      checkCancelled();
      const [sign, logAbs] = slogdet(matrixAt(src, b, n, n), n);
      signOut.data[b] = sign;
      logOut.data[b] = logAbs;
    }
    return [signOut.done(), logOut.done()];
  },
});

/** LinearAlgebraOp's checks for two-input ops: same rank, same batch dims. */
function checkSolverInputs(op: string, a: Tensor, rhs: Tensor): void {
  checkRank(a, 0);
  if (rhs.rank !== a.rank) throw invalidArgument('All input tensors must have the same rank.');
  for (let d = 0; d < a.rank - 2; d++) {
    if (a.shape[d] !== rhs.shape[d]) throw invalidArgument('All input tensors must have the same outer dimensions.');
  }
  checkReal(op, a);
  if (rhs.dtype !== a.dtype) {
    throw invalidArgument(`cannot compute ${op} as input #1(zero-based) was expected to be a ${a.dtype} tensor but is a ${rhs.dtype} tensor`);
  }
}

registerKernel({
  op: ['MatrixSolve', 'BatchMatrixSolve'],
  kernel: (ctx) => {
    const [a, rhs] = ctx.inputs;
    checkSolverInputs(ctx.node.op, a, rhs);
    if (rowsOf(a) !== colsOf(a)) throw invalidArgument('First input (lhs) must be a square matrix.');
    const n = rowsOf(a);
    if (rowsOf(rhs) !== n) throw invalidArgument('Input matrix and rhs are incompatible.');
    const k = colsOf(rhs);
    const adjoint = ctx.attrs.bool('adjoint', false);
    const { data, done } = outTensor(a.dtype, [...rhs.shape]);
    const batches = sizeOf(a.shape.slice(0, -2));
    if (n === 0 || k === 0) return [done()];
    const av = a.values();
    const bv = rhs.values();
    for (let b = 0; b < batches; b++) {
      checkCancelled();
      let m = matrixAt(av, b, n, n);
      if (adjoint) m = transposeSquare(m, n);
      const d = luDecompose(m, n);
      if (!(minAbsPivot(d, n) > 0)) throw invalidArgument('Input matrix is not invertible.');
      data.set(luSolve(d, n, matrixAt(bv, b, n, k), k), b * n * k);
    }
    return [done()];
  },
});

registerKernel({
  op: ['MatrixTriangularSolve', 'BatchMatrixTriangularSolve'],
  kernel: (ctx) => {
    const [a, rhs] = ctx.inputs;
    if (a.rank < 2) throw invalidArgument(`In[0] ndims must be >= 2: ${a.rank}`);
    if (rhs.rank < 2) throw invalidArgument(`In[1] ndims must be >= 2: ${rhs.rank}`);
    checkReal(ctx.node.op, a);
    if (rhs.dtype !== a.dtype) throw unsupportedDtype(ctx.node.op, rhs.dtype);
    const lower = ctx.attrs.bool('lower', true);
    const adjoint = ctx.attrs.bool('adjoint', false);
    const n = rowsOf(a);
    if (colsOf(a) !== n) {
      throw invalidArgument(`In[0] matrices in the last dimensions must be square (${colsOf(a)} =/= ${n})`);
    }
    const aBatch = a.shape.slice(0, -2);
    const bBatch = rhs.shape.slice(0, -2);
    const batchShape = broadcastShapes(aBatch, bBatch);
    if (!batchShape) {
      throw invalidArgument(
        `In[0] and In[1] must have compatible batch dimensions: ${shapeString(a.shape)} vs. ${shapeString(rhs.shape)}`,
      );
    }
    if (n !== rowsOf(rhs)) {
      throw invalidArgument(
        `In[0] mismatch In[1] shape: ${n} vs. ${rowsOf(rhs)}: ${shapeString(a.shape)} ${shapeString(rhs.shape)} ${lower ? 1 : 0} ${adjoint ? 1 : 0}`,
      );
    }
    const k = colsOf(rhs);
    const outShape = [...batchShape, n, k];
    const { data, done } = outTensor(a.dtype, outShape);
    if (data.length === 0) return [done()];
    const batches = sizeOf(batchShape);
    const ai = broadcastIndex(aBatch, batchShape);
    const bi = broadcastIndex(bBatch, batchShape);
    const av = a.values();
    const bv = rhs.values();
    for (let b = 0; b < batches; b++) {
      checkCancelled();
      let m = matrixAt(av, ai ? ai[b] : b, n, n);
      let low = lower;
      if (adjoint) {
        m = transposeSquare(m, n);
        low = !low;
      }
      const x = matrixAt(bv, bi ? bi[b] : b, n, k);
      if (low) {
        for (let i = 0; i < n; i++) {
          for (let p = 0; p < i; p++) {
            const f = m[i * n + p];
            if (f !== 0) for (let j = 0; j < k; j++) x[i * k + j] -= f * x[p * k + j];
          }
          for (let j = 0; j < k; j++) x[i * k + j] /= m[i * n + i];
        }
      } else {
        for (let i = n - 1; i >= 0; i--) {
          for (let p = i + 1; p < n; p++) {
            const f = m[i * n + p];
            if (f !== 0) for (let j = 0; j < k; j++) x[i * k + j] -= f * x[p * k + j];
          }
          for (let j = 0; j < k; j++) x[i * k + j] /= m[i * n + i];
        }
      }
      data.set(x, b * n * k);
    }
    return [done()];
  },
});

// ---------------------------------------------------------------------------
// Householder QR (Eigen::HouseholderQR)

registerKernel({
  op: 'Qr',
  kernel: (ctx) => {
    const x = ctx.inputs[0];
    checkRank(x);
    checkReal('Qr', x);
    const full = ctx.attrs.bool('full_matrices', false);
    const m = rowsOf(x);
    const n = colsOf(x);
    const p = Math.min(m, n);
    const batchShape = x.shape.slice(0, -2);
    const qCols = full ? m : p;
    const rRows = full ? m : p;
    const qOut = outTensor(x.dtype, [...batchShape, m, qCols]);
    const rOut = outTensor(x.dtype, [...batchShape, rRows, n]);
    const batches = sizeOf(batchShape);
    const src = x.values();
    if (m * n > 0) {
      for (let b = 0; b < batches; b++) {
        checkCancelled();
        const a = matrixAt(src, b, m, n);
        const vs: Float64Array[] = [];
        const taus: number[] = [];
        for (let k = 0; k < p; k++) {
          if ((k & 15) === 15) checkCancelled();
          // Reflector for column k, rows k..m-1: H = I - tau v v^T with v[0] = 1.
          const c0 = a[k * n + k];
          let tail = 0;
          for (let i = k + 1; i < m; i++) tail += a[i * n + k] * a[i * n + k];
          const v = new Float64Array(m - k);
          v[0] = 1;
          let tau = 0;
          let beta = c0;
          if (tail > Number.MIN_VALUE) {
            beta = Math.sqrt(c0 * c0 + tail);
            if (c0 >= 0) beta = -beta;
            for (let i = k + 1; i < m; i++) v[i - k] = a[i * n + k] / (c0 - beta);
            tau = (beta - c0) / beta;
          }
          vs.push(v);
          taus.push(tau);
          a[k * n + k] = beta;
          for (let i = k + 1; i < m; i++) a[i * n + k] = 0;
          if (tau !== 0) {
            for (let j = k + 1; j < n; j++) {
              let dot = 0;
              for (let i = k; i < m; i++) dot += v[i - k] * a[i * n + j];
              dot *= tau;
              for (let i = k; i < m; i++) a[i * n + j] -= dot * v[i - k];
            }
          }
        }
        // R: the first rRows rows of the reduced matrix (zero below the diagonal).
        const r = rOut.data;
        const ro = b * rRows * n;
        for (let i = 0; i < rRows; i++) for (let j = 0; j < n; j++) r[ro + i * n + j] = j >= i && i < m ? a[i * n + j] : 0;
        // Q = H_0 ... H_{p-1} applied to the first qCols columns of I.
        const q = new Float64Array(m * qCols);
        for (let i = 0; i < Math.min(m, qCols); i++) q[i * qCols + i] = 1;
        for (let k = p - 1; k >= 0; k--) {
          const v = vs[k];
          const tau = taus[k];
          if (tau === 0) continue;
          for (let j = 0; j < qCols; j++) {
            let dot = 0;
            for (let i = k; i < m; i++) dot += v[i - k] * q[i * qCols + j];
            dot *= tau;
            for (let i = k; i < m; i++) q[i * qCols + j] -= dot * v[i - k];
          }
        }
        qOut.data.set(q, b * m * qCols);
      }
    } else if (full) {
      // Q of an m×0 matrix is the identity.
      for (let b = 0; b < batches; b++) for (let i = 0; i < m; i++) qOut.data[b * m * m + i * m + i] = 1;
    }
    return [qOut.done(), rOut.done()];
  },
});

// ---------------------------------------------------------------------------
// Symmetric eigendecomposition as Eigen::SelfAdjointEigenSolver computes it

const MIN_NORMAL = 2.2250738585072014e-308;
const EPS = 2.220446049250313e-16;

/** Eigen's makeGivens for reals: [c s; -s c]ᵀ [p; q] = [r; 0]. */
function makeGivens(p: number, q: number): [number, number] {
  if (q === 0) return [p < 0 ? -1 : 1, 0];
  if (p === 0) return [0, q < 0 ? 1 : -1];
  if (Math.abs(p) > Math.abs(q)) {
    const t = q / p;
    let u = Math.sqrt(1 + t * t);
    if (p < 0) u = -u;
    const c = 1 / u;
    return [c, -t * c];
  }
  const t = p / q;
  let u = Math.sqrt(1 + t * t);
  if (q < 0) u = -u;
  const s = -1 / u;
  return [-t * s, s];
}

/**
 * Eigenvalues (ascending) and eigenvectors (columns of v, n×n row-major) of
 * the symmetric matrix whose lower triangle is in `a`, following Eigen's
 * SelfAdjointEigenSolver step by step (scale to [-1, 1], Householder
 * tridiagonalization, implicit symmetric QR steps with Wilkinson shift from
 * the bottom, selection sort), so eigenvector signs come out as TF's.
 * Returns undefined when it does not converge (Eigen's NoConvergence).
 */
function symmetricEigen(a: Float64Array, n: number, wantV: boolean, single: boolean): { e: Float64Array; v: Float64Array } | undefined {
  // The deflation test uses the input type's epsilon, as Eigen's float instantiation does, so
  // the same QR steps run (an extra step can flip an eigenvector's sign).
  const eps = single ? 1.1920928955078125e-7 : EPS;
  const tiny = single ? 1.1754943508222875e-38 : MIN_NORMAL;
  let scale = 0;
  for (let i = 0; i < n; i++) for (let j = 0; j <= i; j++) scale = Math.max(scale, Math.abs(a[i * n + j]));
  if (!Number.isFinite(scale)) return undefined;
  if (scale === 0) scale = 1;
  const m = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j <= i; j++) {
      m[i * n + j] = a[i * n + j] / scale;
      m[j * n + i] = m[i * n + j];
    }
  }
  const diag = new Float64Array(n);
  const sub = new Float64Array(Math.max(n - 1, 0));
  const q = new Float64Array(wantV ? n * n : 0);
  if (n === 1) {
    diag[0] = m[0];
    if (wantV) q[0] = 1;
    diag[0] *= scale;
    return { e: diag, v: q };
  }
  // Householder tridiagonalization: H_i zeroes column i below row i+1.
  const vs: Float64Array[] = [];
  const hs: number[] = [];
  for (let i = 0; i < n - 1; i++) {
    const rs = n - i - 1;
    const c0 = m[(i + 1) * n + i];
    let tail = 0;
    for (let r = i + 2; r < n; r++) tail += m[r * n + i] * m[r * n + i];
    const v = new Float64Array(rs);
    v[0] = 1;
    let h = 0;
    let beta = c0;
    if (tail > MIN_NORMAL) {
      beta = Math.sqrt(c0 * c0 + tail);
      if (c0 >= 0) beta = -beta;
      for (let r = 1; r < rs; r++) v[r] = m[(i + 1 + r) * n + i] / (c0 - beta);
      h = (beta - c0) / beta;
    }
    if (h !== 0) {
      // w = h·B·v, w += (-h/2)(w·v)·v, B -= v wᵀ + w vᵀ (B = trailing block)
      const w = new Float64Array(rs);
      for (let r = 0; r < rs; r++) {
        let s = 0;
        for (let c = 0; c < rs; c++) s += m[(i + 1 + r) * n + i + 1 + c] * v[c];
        w[r] = h * s;
      }
      let dot = 0;
      for (let r = 0; r < rs; r++) dot += w[r] * v[r];
      const alpha = -0.5 * h * dot;
      for (let r = 0; r < rs; r++) w[r] += alpha * v[r];
      for (let r = 0; r < rs; r++) {
        for (let c = 0; c < rs; c++) m[(i + 1 + r) * n + i + 1 + c] -= v[r] * w[c] + w[r] * v[c];
      }
    }
    sub[i] = beta;
    vs.push(v);
    hs.push(h);
  }
  for (let i = 0; i < n; i++) diag[i] = m[i * n + i];
  if (wantV) {
    // Q = H_0 H_1 ... H_{n-2}
    for (let i = 0; i < n; i++) q[i * n + i] = 1;
    for (let i = n - 2; i >= 0; i--) {
      const h = hs[i];
      if (h === 0) continue;
      const v = vs[i];
      const off = i + 1;
      for (let c = 0; c < n; c++) {
        let s = 0;
        for (let r = 0; r < v.length; r++) s += v[r] * q[(off + r) * n + c];
        s *= h;
        if (s !== 0) for (let r = 0; r < v.length; r++) q[(off + r) * n + c] -= s * v[r];
      }
    }
  }
  // Implicit symmetric QR with Wilkinson shift (Golub & Van Loan 8.3.2), as Eigen.
  let end = n - 1;
  let start = 0;
  let iter = 0;
  const maxIter = 30 * n;
  while (end > 0) {
    for (let i = start; i < end; i++) {
      const abs = Math.abs(sub[i]);
      if (abs < tiny) sub[i] = 0;
      else {
        const scaled = sub[i] / eps;
        if (scaled * scaled <= Math.abs(diag[i]) + Math.abs(diag[i + 1])) sub[i] = 0;
      }
    }
    while (end > 0 && sub[end - 1] === 0) end--;
    if (end <= 0) break;
    iter++;
    if (iter > maxIter) return undefined;
    if ((iter & 63) === 0) checkCancelled();
    start = end - 1;
    while (start > 0 && sub[start - 1] !== 0) start--;
    // One QR step on [start, end].
    const td = (diag[end - 1] - diag[end]) * 0.5;
    const e = sub[end - 1];
    let mu = diag[end];
    if (td === 0) mu -= Math.abs(e);
    else if (e !== 0) {
      const e2 = e * e;
      const hh = Math.hypot(td, e);
      if (e2 === 0) mu -= e / ((td + (td > 0 ? hh : -hh)) / e);
      else mu -= e2 / (td + (td > 0 ? hh : -hh));
    }
    let x = diag[start] - mu;
    let z = sub[start];
    for (let k = start; k < end && z !== 0; k++) {
      const [c, s] = makeGivens(x, z);
      const sdk = s * diag[k] + c * sub[k];
      const dkp1 = s * sub[k] + c * diag[k + 1];
      diag[k] = c * (c * diag[k] - s * sub[k]) - s * (c * sub[k] - s * diag[k + 1]);
      diag[k + 1] = s * sdk + c * dkp1;
      sub[k] = c * sdk - s * dkp1;
      if (k > start) sub[k - 1] = c * sub[k - 1] - s * z;
      x = sub[k];
      if (k < end - 1) {
        z = -s * sub[k + 1];
        sub[k + 1] = c * sub[k + 1];
      }
      if (wantV) {
        // Q = Q·G on columns k, k+1 (Eigen's applyOnTheRight with the rotation (c, s))
        for (let r = 0; r < n; r++) {
          const qa = q[r * n + k];
          const qb = q[r * n + k + 1];
          q[r * n + k] = c * qa - s * qb;
          q[r * n + k + 1] = s * qa + c * qb;
        }
      }
    }
  }
  // Selection sort, ascending, swapping eigenvector columns.
  for (let i = 0; i < n - 1; i++) {
    let k = i;
    for (let j = i + 1; j < n; j++) if (diag[j] < diag[k]) k = j;
    if (k !== i) {
      const t = diag[i];
      diag[i] = diag[k];
      diag[k] = t;
      if (wantV) {
        for (let r = 0; r < n; r++) {
          const u = q[r * n + i];
          q[r * n + i] = q[r * n + k];
          q[r * n + k] = u;
        }
      }
    }
  }
  for (let i = 0; i < n; i++) diag[i] *= scale;
  return { e: diag, v: q };
}

registerKernel({
  op: 'SelfAdjointEigV2',
  kernel: (ctx) => {
    const x = ctx.inputs[0];
    const n = squareInput('SelfAdjointEigV2', x);
    const computeV = ctx.attrs.bool('compute_v', true);
    const batchShape = x.shape.slice(0, -2);
    const eOut = outTensor(x.dtype, [...batchShape, n]);
    const vOut = outTensor(x.dtype, computeV ? [...x.shape] : [0]);
    const batches = n === 0 ? 0 : sizeOf(batchShape);
    const src = x.values();
    for (let b = 0; b < batches; b++) {
      checkCancelled();
      const a = matrixAt(src, b, n, n);
      const r = symmetricEigen(a, n, computeV, x.dtype !== 'float64'); // reads the lower triangle
      if (!r) throw invalidArgument('Self-adjoint eigen decomposition was not successful. The input might not be valid.');
      const { e, v } = r;
      eOut.data.set(e, b * n);
      if (computeV) vOut.data.set(v, b * n * n);
    }
    return [eOut.done(), vOut.done()];
  },
});

// ---------------------------------------------------------------------------
// SVD (Eigen's JacobiSVD below 16 columns; one-sided Jacobi above)

/**
 * Completes the first `have` orthonormal columns of `u` (rows×cols, row-major)
 * to `cols` orthonormal columns (Gram-Schmidt against unit vectors).
 */
function completeBasis(u: Float64Array, rows: number, cols: number, have: number): void {
  let next = 0;
  for (let c = have; c < cols; c++) {
    for (; next < rows; next++) {
      const w = new Float64Array(rows);
      w[next] = 1;
      for (let pass = 0; pass < 2; pass++) {
        for (let q = 0; q < c; q++) {
          let dot = 0;
          for (let i = 0; i < rows; i++) dot += u[i * cols + q] * w[i];
          for (let i = 0; i < rows; i++) w[i] -= dot * u[i * cols + q];
        }
      }
      let norm = 0;
      for (let i = 0; i < rows; i++) norm += w[i] * w[i];
      norm = Math.sqrt(norm);
      if (norm > 1e-8) {
        for (let i = 0; i < rows; i++) u[i * cols + c] = w[i] / norm;
        next++;
        break;
      }
    }
  }
}

/**
 * SVD of a (m×n, m >= n): s (n, descending), u (m×uCols), v (n×n).
 * uCols is n (thin) or m (full).
 */
function jacobiSvd(a: Float64Array, m: number, n: number, uCols: number, wantUV: boolean) {
  const v = identity(n);
  for (let sweep = 0; sweep < 100; sweep++) {
    checkCancelled();
    let rotated = false;
    for (let p = 0; p < n - 1; p++) {
      if ((p & 15) === 15) checkCancelled();
      for (let q = p + 1; q < n; q++) {
        let alpha = 0;
        let beta = 0;
        let gamma = 0;
        for (let i = 0; i < m; i++) {
          const ap = a[i * n + p];
          const aq = a[i * n + q];
          alpha += ap * ap;
          beta += aq * aq;
          gamma += ap * aq;
        }
        if (gamma === 0 || Math.abs(gamma) <= 1e-15 * Math.sqrt(alpha * beta)) continue;
        rotated = true;
        const zeta = (beta - alpha) / (2 * gamma);
        const t = (zeta >= 0 ? 1 : -1) / (Math.abs(zeta) + Math.sqrt(1 + zeta * zeta));
        const c = 1 / Math.sqrt(1 + t * t);
        const s = c * t;
        for (let i = 0; i < m; i++) {
          const ap = a[i * n + p];
          const aq = a[i * n + q];
          a[i * n + p] = c * ap - s * aq;
          a[i * n + q] = s * ap + c * aq;
        }
        for (let i = 0; i < n; i++) {
          const vp = v[i * n + p];
          const vq = v[i * n + q];
          v[i * n + p] = c * vp - s * vq;
          v[i * n + q] = s * vp + c * vq;
        }
      }
    }
    if (!rotated) break;
  }
  const norms = new Float64Array(n);
  for (let j = 0; j < n; j++) {
    let s = 0;
    for (let i = 0; i < m; i++) s += a[i * n + j] * a[i * n + j];
    norms[j] = Math.sqrt(s);
  }
  const order = Array.from({ length: n }, (_, i) => i).sort((i, j) => norms[j] - norms[i]);
  const s = new Float64Array(n);
  const u = new Float64Array(wantUV ? m * uCols : 0);
  const vs = new Float64Array(wantUV ? n * n : 0);
  let have = 0;
  order.forEach((src, dst) => {
    s[dst] = norms[src];
    if (!wantUV) return;
    for (let i = 0; i < n; i++) vs[i * n + dst] = v[i * n + src];
    if (norms[src] > 0 && norms[src] > 1e-300) {
      for (let i = 0; i < m; i++) u[i * uCols + dst] = a[i * n + src] / norms[src];
      if (have === dst) have++;
    }
  });
  if (wantUV && have < uCols) completeBasis(u, m, uCols, have);
  return { s, u, v: vs };
}

/**
 * Householder QR with column pivoting as Eigen::ColPivHouseholderQR (largest
 * updated column norm first, LAPACK's norm downdate): a (rows×cols,
 * row-major) is overwritten with R above the diagonal; returns the reflectors
 * and the column order (a[:, perm[k]] is the k-th column of A·P).
 */
function colPivQr(a: Float64Array, rows: number, cols: number, eps: number) {
  const size = Math.min(rows, cols);
  const perm = Array.from({ length: cols }, (_, i) => i);
  const normsUpd = new Float64Array(cols);
  const normsDir = new Float64Array(cols);
  for (let j = 0; j < cols; j++) {
    let s = 0;
    for (let i = 0; i < rows; i++) s += a[i * cols + j] * a[i * cols + j];
    normsUpd[j] = normsDir[j] = Math.sqrt(s);
  }
  const downdateThreshold = Math.sqrt(eps);
  const vs: Float64Array[] = [];
  const taus: number[] = [];
  for (let k = 0; k < size; k++) {
    let best = k;
    for (let j = k + 1; j < cols; j++) if (normsUpd[j] > normsUpd[best]) best = j;
    if (best !== k) {
      for (let i = 0; i < rows; i++) {
        const t = a[i * cols + k];
        a[i * cols + k] = a[i * cols + best];
        a[i * cols + best] = t;
      }
      [normsUpd[k], normsUpd[best]] = [normsUpd[best], normsUpd[k]];
      [normsDir[k], normsDir[best]] = [normsDir[best], normsDir[k]];
      [perm[k], perm[best]] = [perm[best], perm[k]];
    }
    const c0 = a[k * cols + k];
    let tail = 0;
    for (let i = k + 1; i < rows; i++) tail += a[i * cols + k] * a[i * cols + k];
    const v = new Float64Array(rows - k);
    v[0] = 1;
    let tau = 0;
    let beta = c0;
    if (tail > MIN_NORMAL) {
      beta = Math.sqrt(c0 * c0 + tail);
      if (c0 >= 0) beta = -beta;
      for (let i = k + 1; i < rows; i++) v[i - k] = a[i * cols + k] / (c0 - beta);
      tau = (beta - c0) / beta;
    }
    a[k * cols + k] = beta;
    for (let i = k + 1; i < rows; i++) a[i * cols + k] = 0;
    if (tau !== 0) {
      for (let j = k + 1; j < cols; j++) {
        let dot = 0;
        for (let i = k; i < rows; i++) dot += v[i - k] * a[i * cols + j];
        dot *= tau;
        for (let i = k; i < rows; i++) a[i * cols + j] -= dot * v[i - k];
      }
    }
    vs.push(v);
    taus.push(tau);
    for (let j = k + 1; j < cols; j++) {
      if (normsUpd[j] === 0) continue;
      let t = Math.abs(a[k * cols + j]) / normsUpd[j];
      t = (1 + t) * (1 - t);
      if (t < 0) t = 0;
      const r = normsUpd[j] / normsDir[j];
      if (t * r * r <= downdateThreshold) {
        let s = 0;
        for (let i = k + 1; i < rows; i++) s += a[i * cols + j] * a[i * cols + j];
        normsDir[j] = normsUpd[j] = Math.sqrt(s);
      } else {
        normsUpd[j] *= Math.sqrt(t);
      }
    }
  }
  return { vs, taus, perm };
}

/** The first `qCols` columns of Q = H_0 ... H_{k-1} (rows×qCols, row-major). */
function householderQ(vs: Float64Array[], taus: number[], rows: number, qCols: number): Float64Array {
  const q = new Float64Array(rows * qCols);
  for (let i = 0; i < Math.min(rows, qCols); i++) q[i * qCols + i] = 1;
  for (let k = vs.length - 1; k >= 0; k--) {
    const tau = taus[k];
    if (tau === 0) continue;
    const v = vs[k];
    for (let j = 0; j < qCols; j++) {
      let dot = 0;
      for (let i = k; i < rows; i++) dot += v[i - k] * q[i * qCols + j];
      dot *= tau;
      for (let i = k; i < rows; i++) q[i * qCols + j] -= dot * v[i - k];
    }
  }
  return q;
}

/**
 * SVD as Eigen::JacobiSVD with its ColPivHouseholderQR preconditioner (what
 * TF's BDCSVD runs for matrices with fewer than 16 columns): the same QR
 * reduction, two-sided 2×2 Jacobi sweeps, sign fix and sort, so U and V
 * carry TF's signs. Returns s (p), u (m×uc) and v (n×vc), row-major.
 */
function eigenJacobiSvd(a: Float64Array, m: number, n: number, full: boolean, wantUV: boolean, single: boolean) {
  const eps = single ? 1.1920928955078125e-7 : EPS;
  const tiny = single ? 1.1754943508222875e-38 : MIN_NORMAL;
  const p = Math.min(m, n);
  const uc = full ? m : p;
  const vc = full ? n : p;
  let scale = 0;
  for (let i = 0; i < a.length; i++) scale = Math.max(scale, Math.abs(a[i]));
  if (scale === 0) scale = 1;
  const scaled = a.map((x) => x / scale);
  const w = new Float64Array(p * p);
  let u: Float64Array;
  let v: Float64Array;
  if (m > n) {
    const { vs, taus, perm } = colPivQr(scaled, m, n, eps);
    for (let i = 0; i < n; i++) for (let j = i; j < n; j++) w[i * n + j] = scaled[i * n + j];
    u = householderQ(vs, taus, m, uc);
    v = new Float64Array(n * vc);
    for (let k = 0; k < n; k++) v[perm[k] * vc + k] = 1;
  } else if (n > m) {
    const t = new Float64Array(n * m);
    for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) t[j * m + i] = scaled[i * n + j];
    const { vs, taus, perm } = colPivQr(t, n, m, eps);
    for (let i = 0; i < m; i++) for (let j = i; j < m; j++) w[j * m + i] = t[i * m + j]; // Rᵀ
    v = householderQ(vs, taus, n, vc);
    u = new Float64Array(m * uc);
    for (let k = 0; k < m; k++) u[perm[k] * uc + k] = 1;
  } else {
    w.set(scaled);
    u = new Float64Array(m * uc);
    v = new Float64Array(n * vc);
    for (let i = 0; i < p; i++) {
      u[i * uc + i] = 1;
      v[i * vc + i] = 1;
    }
  }
  const precision = 2 * eps;
  let maxDiag = 0;
  for (let i = 0; i < p; i++) maxDiag = Math.max(maxDiag, Math.abs(w[i * p + i]));
  let finished = false;
  let sweeps = 0;
  while (!finished) {
    finished = true;
    if (++sweeps > 1000) break;
    checkCancelled();
    for (let pp = 1; pp < p; pp++) {
      for (let q = 0; q < pp; q++) {
        const threshold = Math.max(tiny, precision * maxDiag);
        if (!(Math.abs(w[pp * p + q]) > threshold || Math.abs(w[q * p + pp]) > threshold)) continue;
        finished = false;
        // real_2x2_jacobi_svd on rows/cols (pp, q)
        let m00 = w[pp * p + pp];
        let m01 = w[pp * p + q];
        let m10 = w[q * p + pp];
        let m11 = w[q * p + q];
        let c1 = 1;
        let s1 = 0;
        const t = m00 + m11;
        const d = m10 - m01;
        if (Math.abs(d) >= tiny) {
          const uu = t / d;
          const tmp = Math.sqrt(1 + uu * uu);
          s1 = 1 / tmp;
          c1 = uu / tmp;
        }
        // m.applyOnTheLeft(0, 1, rot1): rows 0, 1 of the 2×2 block
        [m00, m10] = [c1 * m00 + s1 * m10, -s1 * m00 + c1 * m10];
        [m01, m11] = [c1 * m01 + s1 * m11, -s1 * m01 + c1 * m11];
        // j_right = makeJacobi(m00, m01, m11)
        let cr = 1;
        let sr = 0;
        if (m01 !== 0) {
          const tau = (m00 - m11) / (2 * Math.abs(m01));
          const ww = Math.sqrt(tau * tau + 1);
          const tt = tau > 0 ? 1 / (tau + ww) : 1 / (tau - ww);
          const signT = tt > 0 ? 1 : -1;
          const nn = 1 / Math.sqrt(tt * tt + 1);
          sr = -signT * (m01 / Math.abs(m01)) * Math.abs(tt) * nn;
          cr = nn;
        }
        // j_left = rot1 * j_right.transpose()  (transpose: (c, -s))
        const cl = c1 * cr + s1 * sr;
        const sl = c1 * -sr + s1 * cr;
        // work.applyOnTheLeft(pp, q, j_left): rows pp (x) and q (y)
        for (let j = 0; j < p; j++) {
          const x = w[pp * p + j];
          const y = w[q * p + j];
          w[pp * p + j] = cl * x + sl * y;
          w[q * p + j] = -sl * x + cl * y;
        }
        // U.applyOnTheRight(pp, q, j_left.transpose()) -> rotation (cl, -sl), applied transposed: (cl, sl)
        if (wantUV) {
          for (let i = 0; i < m; i++) {
            const x = u[i * uc + pp];
            const y = u[i * uc + q];
            u[i * uc + pp] = cl * x + sl * y;
            u[i * uc + q] = -sl * x + cl * y;
          }
        }
        // work.applyOnTheRight(pp, q, j_right): columns, rotation transposed (cr, -sr)
        for (let i = 0; i < p; i++) {
          const x = w[i * p + pp];
          const y = w[i * p + q];
          w[i * p + pp] = cr * x - sr * y;
          w[i * p + q] = sr * x + cr * y;
        }
        if (wantUV) {
          for (let i = 0; i < n; i++) {
            const x = v[i * vc + pp];
            const y = v[i * vc + q];
            v[i * vc + pp] = cr * x - sr * y;
            v[i * vc + q] = sr * x + cr * y;
          }
        }
        maxDiag = Math.max(maxDiag, Math.abs(w[pp * p + pp]), Math.abs(w[q * p + q]));
      }
    }
  }
  const s = new Float64Array(p);
  for (let i = 0; i < p; i++) {
    const d = w[i * p + i];
    s[i] = Math.abs(d);
    if (wantUV && d < 0) for (let r = 0; r < m; r++) u[r * uc + i] = -u[r * uc + i];
  }
  for (let i = 0; i < p; i++) s[i] *= scale;
  for (let i = 0; i < p; i++) {
    let pos = i;
    for (let j = i + 1; j < p; j++) if (s[j] > s[pos]) pos = j;
    if (s[pos] === 0) break;
    if (pos !== i) {
      [s[i], s[pos]] = [s[pos], s[i]];
      if (wantUV) {
        for (let r = 0; r < m; r++) [u[r * uc + i], u[r * uc + pos]] = [u[r * uc + pos], u[r * uc + i]];
        for (let r = 0; r < n; r++) [v[r * vc + i], v[r * vc + pos]] = [v[r * vc + pos], v[r * vc + i]];
      }
    }
  }
  return { s, u, v };
}

registerKernel({
  op: ['Svd', 'BatchSvd'],
  kernel: (ctx) => {
    const x = ctx.inputs[0];
    checkRank(x);
    checkReal(ctx.node.op, x);
    const computeUV = ctx.attrs.bool('compute_uv', true);
    const full = ctx.attrs.bool('full_matrices', false);
    const m = rowsOf(x);
    const n = colsOf(x);
    const p = Math.min(m, n);
    const batchShape = x.shape.slice(0, -2);
    const sOut = outTensor(x.dtype, [...batchShape, p]);
    const uShape = computeUV ? [...batchShape, m, full ? m : p] : [0];
    const vShape = computeUV ? [...batchShape, n, full ? n : p] : [0];
    const uOut = outTensor(x.dtype, uShape);
    const vOut = outTensor(x.dtype, vShape);
    const batches = sizeOf(batchShape);
    const src = x.values();
    const uc = full ? m : p;
    const vc = full ? n : p;
    for (let b = 0; b < batches; b++) {
      checkCancelled();
      if (p === 0) {
        if (computeUV && full) {
          for (let i = 0; i < m; i++) uOut.data[b * m * m + i * m + i] = 1;
          for (let i = 0; i < n; i++) vOut.data[b * n * n + i * n + i] = 1;
        }
        continue;
      }
      const a = matrixAt(src, b, m, n);
      let nan = false;
      for (let i = 0; i < a.length; i++) if (!Number.isFinite(a[i])) nan = true;
      if (nan) {
        // Eigen's SVD of a matrix with NaN/Inf entries gives NaN everywhere.
        sOut.data.fill(NaN, b * p, (b + 1) * p);
        if (computeUV) {
          uOut.data.fill(NaN, b * m * uc, (b + 1) * m * uc);
          vOut.data.fill(NaN, b * n * vc, (b + 1) * n * vc);
        }
        continue;
      }
      if (n < 16) {
        // TF's BDCSVD hands matrices with fewer than 16 columns to JacobiSVD.
        const r = eigenJacobiSvd(a, m, n, full, computeUV, x.dtype !== 'float64');
        sOut.data.set(r.s, b * p);
        if (computeUV) {
          uOut.data.set(r.u, b * m * uc);
          vOut.data.set(r.v, b * n * vc);
        }
        continue;
      }
      // Larger: one-sided Jacobi on the tall orientation (A^T = V S U^T for m < n).
      const tall = m >= n;
      const rows = tall ? m : n;
      const cols = tall ? n : m;
      const w = tall ? a : (() => {
        const t = new Float64Array(m * n);
        for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) t[j * m + i] = a[i * n + j];
        return t;
      })();
      const leftCols = full ? rows : cols; // columns of the left factor of the tall problem
      const r = jacobiSvd(w, rows, cols, leftCols, computeUV);
      sOut.data.set(r.s, b * p);
      if (!computeUV) continue;
      // Tall problem: left (rows×leftCols) and right (cols×cols).
      const [uMat, vMat] = tall ? [r.u, r.v] : [r.v, r.u];
      const [uMatCols, vMatCols] = tall ? [leftCols, cols] : [cols, leftCols];
      // Pack into outputs with uc / vc columns.
      for (let i = 0; i < m; i++) for (let j = 0; j < uc; j++) uOut.data[b * m * uc + i * uc + j] = uMat[i * uMatCols + j];
      for (let i = 0; i < n; i++) for (let j = 0; j < vc; j++) vOut.data[b * n * vc + i * vc + j] = vMat[i * vMatCols + j];
    }
    return [sOut.done(), uOut.done(), vOut.done()];
  },
});


// ---------------------------------------------------------------------------
// Lu (lu_op.cc) and MatrixSolveLs (matrix_solve_ls_op_impl.h)

registerKernel({
  op: 'Lu',
  kernel: (ctx) => {
    const x = ctx.inputs[0];
    if (x.rank < 2) throw invalidArgument(`Input tensor must have rank >= 2, got ${x.rank}`);
    checkReal('Lu', x);
    const n = rowsOf(x);
    if (colsOf(x) !== n) throw invalidArgument('Input matrix must be square.');
    const idxType = ctx.attrs.has('output_idx_type') ? ctx.attrs.type('output_idx_type') : 'int32';
    const batchShape = x.shape.slice(0, -2);
    const luOut = outTensor(x.dtype, [...x.shape]);
    const perms = new Array<number>(sizeOf([...batchShape, n]));
    const batches = n === 0 ? 0 : sizeOf(batchShape);
    const src = x.values();
    for (let b = 0; b < batches; b++) {
      checkCancelled();
      const d = luDecompose(matrixAt(src, b, n, n), n);
      if (!(minAbsPivot(d, n) > 0)) throw invalidArgument('Input is not invertible.');
      luOut.data.set(d.lu, b * n * n);
      for (let i = 0; i < n; i++) perms[b * n + i] = d.perm[i];
    }
    return [luOut.done(), Tensor.from(idxType, [...batchShape, n], perms)];
  },
});

/** Solves the SPD system g x = r (g n×n, lower triangle used; r n×k) by Cholesky; undefined when a pivot is <= 0. */
function choleskySolve(g: Float64Array, n: number, r: Float64Array, k: number): Float64Array | undefined {
  const l = new Float64Array(n * n);
  for (let j = 0; j < n; j++) {
    let s = g[j * n + j];
    for (let p = 0; p < j; p++) s -= l[j * n + p] * l[j * n + p];
    if (!(s > 0)) return undefined;
    const d = Math.sqrt(s);
    l[j * n + j] = d;
    for (let i = j + 1; i < n; i++) {
      let t = g[i * n + j];
      for (let p = 0; p < j; p++) t -= l[i * n + p] * l[j * n + p];
      l[i * n + j] = t / d;
    }
  }
  const x = r.slice();
  for (let i = 0; i < n; i++) {
    for (let p = 0; p < i; p++) for (let j = 0; j < k; j++) x[i * k + j] -= l[i * n + p] * x[p * k + j];
    for (let j = 0; j < k; j++) x[i * k + j] /= l[i * n + i];
  }
  for (let i = n - 1; i >= 0; i--) {
    for (let p = i + 1; p < n; p++) for (let j = 0; j < k; j++) x[i * k + j] -= l[p * n + i] * x[p * k + j];
    for (let j = 0; j < k; j++) x[i * k + j] /= l[i * n + i];
  }
  return x;
}

/** a (m×k)ᵀ-or-not times b: c = op(a) · b with op(a) p×q. */
function matmulHost(a: Float64Array, b: Float64Array, p: number, q: number, k: number, transA: boolean, aCols: number): Float64Array {
  const c = new Float64Array(p * k);
  for (let i = 0; i < p; i++) {
    for (let t = 0; t < q; t++) {
      const v = transA ? a[t * aCols + i] : a[i * aCols + t];
      if (v === 0) continue;
      for (let j = 0; j < k; j++) c[i * k + j] += v * b[t * k + j];
    }
  }
  return c;
}

registerKernel({
  op: 'MatrixSolveLs',
  kernel: (ctx) => {
    const [a, rhs, l2T] = ctx.inputs;
    checkSolverInputs('MatrixSolveLs', a, rhs);
    const m = rowsOf(a);
    const n = colsOf(a);
    if (rowsOf(rhs) !== m) throw invalidArgument('Input matrix and rhs are incompatible.');
    const k = colsOf(rhs);
    const fast = ctx.attrs.bool('fast', true);
    const batchShape = a.shape.slice(0, -2);
    const { data, done } = outTensor(a.dtype, [...batchShape, n, k]);
    const batches = sizeOf(batchShape);
    if (batches === 0) return [done()];
    if (l2T.rank !== 0) throw invalidArgument(`l2_regularizer must be scalar, got shape ${shapeString(l2T.shape)}`);
    const l2 = Number((l2T.values() as ArrayLike<number>)[0]);
    if (!(l2 >= 0)) throw invalidArgument('l2_regularizer must be >= 0.');
    if (m === 0 || n === 0 || k === 0) return [done()];
    const av = a.values();
    const bv = rhs.values();
    for (let b = 0; b < batches; b++) {
      checkCancelled();
      const A = matrixAt(av, b, m, n);
      const B = matrixAt(bv, b, m, k);
      let x: Float64Array | undefined;
      if (fast) {
        if (m >= n) {
          // (AᵀA + l2 I) X = Aᵀ B
          const g = matmulHost(A, A, n, m, n, true, n);
          if (l2 > 0) for (let i = 0; i < n; i++) g[i * n + i] += l2;
          x = choleskySolve(g, n, matmulHost(A, B, n, m, k, true, n), k);
          if (!x) {
            throw invalidArgument(
              'Input matrix was rank deficient or ill-conditioned. Try setting fast=False or provide a larger l2_regularizer > 0.',
            );
          }
        } else {
          // (AAᵀ + l2 I) Z = B, X = Aᵀ Z
          const at = new Float64Array(n * m);
          for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) at[j * m + i] = A[i * n + j];
          const g = matmulHost(A, at, m, n, m, false, n);
          if (l2 > 0) for (let i = 0; i < m; i++) g[i * m + i] += l2;
          const z = choleskySolve(g, m, B, k);
          if (!z) {
            throw invalidArgument(
              'Input matrix was rank deficient or ill-conditioned. Try setting fast=False or provide an l2_regularizer > 0.',
            );
          }
          x = matmulHost(A, z, n, m, k, true, n);
        }
      } else {
        // Minimum-norm least squares through the SVD (what Eigen's complete
        // orthogonal decomposition computes; rank cut at max(m,n)·eps·s_max).
        const tall = m >= n;
        const w = tall ? A.slice() : (() => {
          const t = new Float64Array(n * m);
          for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) t[j * m + i] = A[i * n + j];
          return t;
        })();
        const rows = tall ? m : n;
        const cols = tall ? n : m;
        const r = jacobiSvd(w, rows, cols, cols, true);
        // A = U S Vᵀ (tall) or Aᵀ = U S Vᵀ (wide, so A = V S Uᵀ).
        const [uMat, uCols, vMat, vCols] = tall ? [r.u, cols, r.v, cols] : [r.v, cols, r.u, cols];
        const p = cols;
        const cut = Math.max(m, n) * 2.220446049250313e-16 * (r.s[0] || 0);
        x = new Float64Array(n * k);
        for (let q = 0; q < p; q++) {
          if (!(r.s[q] > cut)) continue;
          // coefficient row: (u_qᵀ B) / s_q, added along v_q
          for (let j = 0; j < k; j++) {
            let dot = 0;
            for (let i = 0; i < m; i++) dot += uMat[i * uCols + q] * B[i * k + j];
            dot /= r.s[q];
            for (let i = 0; i < n; i++) x[i * k + j] += vMat[i * vCols + q] * dot;
          }
        }
      }
      data.set(x, b * n * k);
    }
    return [done()];
  },
});

// ---------------------------------------------------------------------------
// TridiagonalSolve (tridiagonal_solve_op.cc) and TridiagonalMatMul

/**
 * One tridiagonal system, rows of `sup` (last ignored), `dia`, `sub` (first
 * ignored), k right-hand sides in `b` (n×k). NaN everywhere when singular, as TF.
 */
function tridiagonalSolve(sup: Float64Array, dia: Float64Array, sub: Float64Array, b: Float64Array, n: number, k: number, pivoting: boolean, perturb: boolean, eps: number): Float64Array {
  const x = new Float64Array(n * k);
  const nan = () => x.fill(NaN);
  const row = (dst: Float64Array, di: number, src: Float64Array, si: number) => {
    for (let j = 0; j < k; j++) dst[di * k + j] = src[si * k + j];
  };
  if (n === 1) {
    if (perturb) {
      const r = b.slice(0, k);
      const denom = perturbPivot(eps * Math.abs(dia[0]), dia[0], r, eps);
      for (let j = 0; j < k; j++) x[j] = r[j] * (1 / denom);
      return x;
    }
    if (dia[0] === 0) return nan();
    for (let j = 0; j < k; j++) x[j] = b[j] / dia[0];
    return x;
  }
  if (!pivoting) {
    // Thomas algorithm
    const u = new Float64Array(n);
    if (dia[0] === 0) return nan();
    u[0] = sup[0] / dia[0];
    for (let j = 0; j < k; j++) x[j] = b[j] / dia[0];
    for (let i = 1; i < n; i++) {
      const denom = dia[i] - sub[i] * u[i - 1];
      if (denom === 0) return nan();
      u[i] = sup[i] / denom;
      for (let j = 0; j < k; j++) x[i * k + j] = (b[i * k + j] - sub[i] * x[(i - 1) * k + j]) / denom;
    }
    for (let i = n - 2; i >= 0; i--) for (let j = 0; j < k; j++) x[i * k + j] -= u[i] * x[(i + 1) * k + j];
    return x;
  }
  // Gaussian elimination with partial pivoting (LAPACK xGTSV; with
  // perturb_singular, xLAGTF/xLAGTS-style scaled pivots and perturbed tiny pivots).
  const u0 = new Float64Array(n);
  const u1 = new Float64Array(n);
  const u2 = new Float64Array(n);
  u0[0] = dia[0];
  u1[0] = sup[0];
  row(x, 0, b, 0);
  let maxAbsU = Math.max(Math.abs(u0[0]), Math.abs(u1[0]));
  let scale1 = Math.abs(u0[0]) + Math.abs(u1[0]);
  for (let i = 0; i < n - 1; i++) {
    let swap: boolean;
    let scale2 = 0;
    if (perturb) {
      scale2 = Math.abs(sub[i + 1]) + Math.abs(dia[i + 1]) + (i < n - 2 ? Math.abs(sup[i + 1]) : 0);
      if (sub[i + 1] === 0) {
        scale1 = scale2;
        u0[i + 1] = dia[i + 1];
        u1[i + 1] = sup[i + 1];
        u2[i] = 0;
        row(x, i + 1, b, i + 1);
        if (i < n - 2) maxAbsU = Math.max(maxAbsU, Math.abs(u0[i]), Math.abs(u1[i]), Math.abs(u2[i]));
        continue;
      }
      const piv1 = u0[i] === 0 ? 0 : Math.abs(u0[i]) / scale1;
      const piv2 = Math.abs(sub[i + 1]) / scale2;
      swap = !(piv2 <= piv1);
    } else {
      swap = !(Math.abs(u0[i]) >= Math.abs(sub[i + 1]));
    }
    if (!swap) {
      if (!perturb && u0[i] === 0) return nan();
      if (perturb) scale1 = scale2;
      const f = sub[i + 1] / u0[i];
      u0[i + 1] = dia[i + 1] - f * u1[i];
      for (let j = 0; j < k; j++) x[(i + 1) * k + j] = b[(i + 1) * k + j] - f * x[i * k + j];
      if (perturb || i !== n - 2) {
        u1[i + 1] = sup[i + 1];
        u2[i] = 0;
      }
    } else {
      const f = u0[i] / sub[i + 1];
      u0[i] = sub[i + 1];
      u0[i + 1] = u1[i] - f * dia[i + 1];
      u1[i] = dia[i + 1];
      for (let j = 0; j < k; j++) {
        const xi = x[i * k + j];
        x[(i + 1) * k + j] = xi - f * b[(i + 1) * k + j];
        x[i * k + j] = b[(i + 1) * k + j];
      }
      if (i !== n - 2) {
        u2[i] = sup[i + 1];
        u1[i + 1] = -f * sup[i + 1];
      }
    }
    if (perturb && i < n - 2) maxAbsU = Math.max(maxAbsU, Math.abs(u0[i]), Math.abs(u1[i]), Math.abs(u2[i]));
  }
  if (!perturb) {
    if (u0[n - 1] === 0) return nan();
    for (let j = 0; j < k; j++) x[(n - 1) * k + j] /= u0[n - 1];
    for (let i = n - 2; i >= 0; i--) {
      for (let j = 0; j < k; j++) {
        let v = x[i * k + j] - u1[i] * x[(i + 1) * k + j];
        if (i < n - 2) v -= u2[i] * x[(i + 2) * k + j];
        x[i * k + j] = v / u0[i];
      }
    }
    return x;
  }
  maxAbsU = Math.max(maxAbsU, Math.abs(u0[n - 1]));
  const tol = eps * maxAbsU;
  for (let i = n - 1; i >= 0; i--) {
    const r = new Float64Array(k);
    for (let j = 0; j < k; j++) {
      let v = x[i * k + j];
      if (i < n - 1) v -= u1[i] * x[(i + 1) * k + j];
      if (i < n - 2) v -= u2[i] * x[(i + 2) * k + j];
      r[j] = v;
    }
    const denom = perturbPivot(i === n - 1 ? tol : Math.sign(u0[i]) < 0 ? -tol : tol, u0[i], r, eps);
    for (let j = 0; j < k; j++) x[i * k + j] = r[j] * (1 / denom);
  }
  return x;
}

/** LAPACK xLAGTS's guard: nudges a tiny pivot (or scales the row) so that row / pivot cannot overflow. */
function perturbPivot(perturb: number, pivot: number, r: Float64Array, eps: number): number {
  const single = eps > 1e-10;
  const safemin = single ? 1.1754943508222875e-38 : 2.2250738585072014e-308;
  const bignum = 1 / safemin;
  let abs = Math.abs(pivot);
  if (abs >= 1) return pivot;
  let p = Math.max(Math.abs(perturb), safemin);
  if (pivot < 0 || Object.is(pivot, -0)) p = -p;
  let maxFactor = 0;
  for (let j = 0; j < r.length; j++) maxFactor = Math.max(maxFactor, Math.abs(r[j]));
  let stop = false;
  while (abs < 1 && !stop) {
    if (abs < safemin) {
      if (abs === 0 || maxFactor * safemin > abs) {
        pivot += p;
        p *= 2;
      } else {
        pivot *= bignum;
        for (let j = 0; j < r.length; j++) r[j] *= bignum;
        stop = true;
      }
    } else if (maxFactor > abs * bignum) {
      pivot += p;
      p *= 2;
    } else {
      stop = true;
    }
    abs = Math.abs(pivot);
  }
  return pivot;
}

registerKernel({
  op: 'TridiagonalSolve',
  kernel: (ctx) => {
    const [d, rhs] = ctx.inputs;
    const pivoting = ctx.attrs.bool('partial_pivoting', true);
    const perturb = ctx.attrs.has('perturb_singular') ? ctx.attrs.bool('perturb_singular') : false;
    if (!pivoting && perturb) throw invalidArgument('Setting perturb_singular requires also setting partial_pivoting.');
    checkRank(d, 0);
    if (rhs.rank !== d.rank) throw invalidArgument('All input tensors must have the same rank.');
    for (let i = 0; i < d.rank - 2; i++) {
      if (d.shape[i] !== rhs.shape[i]) throw invalidArgument('All input tensors must have the same outer dimensions.');
    }
    checkReal('TridiagonalSolve', d);
    if (rhs.dtype !== d.dtype) throw unsupportedDtype('TridiagonalSolve', rhs.dtype);
    if (rowsOf(d) !== 3) throw invalidArgument(`Expected diagonals to be provided as a matrix with 3 rows, got ${rowsOf(d)} rows.`);
    const n = colsOf(d);
    if (rowsOf(rhs) !== n) {
      throw invalidArgument(`Expected the same number of left-hand sides and right-hand sides, got ${n} and ${rowsOf(rhs)}.`);
    }
    const k = colsOf(rhs);
    const { data, done } = outTensor(d.dtype, [...rhs.shape]);
    if (n === 0 || k === 0) return [done()];
    const batches = sizeOf(d.shape.slice(0, -2));
    const eps = d.dtype === 'float64' ? 2.220446049250313e-16 : 1.1920928955078125e-7;
    const dv = d.values();
    const bv = rhs.values();
    for (let b = 0; b < batches; b++) {
      checkCancelled();
      const diags = matrixAt(dv, b, 3, n);
      const x = tridiagonalSolve(diags.subarray(0, n), diags.subarray(n, 2 * n), diags.subarray(2 * n), matrixAt(bv, b, n, k), n, k, pivoting, perturb, eps);
      data.set(x, b * n * k);
    }
    return [done()];
  },
});

registerKernel({
  op: 'TridiagonalMatMul',
  kernel: (ctx) => {
    const [sup, main, sub, rhs] = ctx.inputs;
    // LinearAlgebraOp's checks over the four inputs, then the diagonals' [1, M] shapes.
    checkRank(sup, 0);
    for (const t of [main, sub, rhs]) {
      if (t.rank !== sup.rank) throw invalidArgument('All input tensors must have the same rank.');
      for (let i = 0; i < sup.rank - 2; i++) {
        if (t.shape[i] !== sup.shape[i]) throw invalidArgument('All input tensors must have the same outer dimensions.');
      }
    }
    checkReal('TridiagonalMatMul', rhs);
    const n = rowsOf(rhs);
    const k = colsOf(rhs);
    const want = [...rhs.shape.slice(0, -2), 1, n];
    const same = (t: Tensor) => t.rank === want.length && t.shape.every((v, i) => v === want[i]);
    if (!same(sup)) throw invalidArgument('Invalid superdiagonal shape.');
    if (!same(main)) throw invalidArgument('Invalid main diagonal shape.');
    if (!same(sub)) throw invalidArgument('Invalid subdiagonal shape.');
    for (const t of [sup, main, sub]) if (t.dtype !== rhs.dtype) throw unsupportedDtype('TridiagonalMatMul', t.dtype);
    const { data, done } = outTensor(rhs.dtype, [...rhs.shape]);
    const batches = sizeOf(rhs.shape.slice(0, -2));
    const [sv, mv, bv, rv] = [sup, main, sub, rhs].map((t) => t.values() as ArrayLike<number>);
    for (let b = 0; b < batches; b++) {
      const o = b * n * k;
      for (let i = 0; i < n; i++) {
        const d = b * n + i;
        for (let j = 0; j < k; j++) {
          let v = mv[d] * rv[o + i * k + j];
          if (i > 0) v += bv[d] * rv[o + (i - 1) * k + j];
          if (i < n - 1) v += sv[d] * rv[o + (i + 1) * k + j];
          data[o + i * k + j] = v;
        }
      }
    }
    return [done()];
  },
});
