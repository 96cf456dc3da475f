/**
 * MatrixSolveLs (tensorflow/core/kernels/linalg/matrix_solve_ls_op_impl.h):
 * normal equations by Cholesky (fast), minimum-norm solution through the SVD
 * (fast=False; see common.ts).
 */
import { checkCancelled } from '../../cancellation.js';
import { invalidArgument } from '../../errors.js';
import { shapeString, sizeOf } from '../../tensor.js';
import { registerKernel } from '../registry.js';
import { colsOf, matrixAt, outTensor, rowsOf, checkSolverInputs } from './common.js';

import { jacobiSvd } from './svd.js';

// ---------------------------------------------------------------------------
// MatrixSolveLs (matrix_solve_ls_op_impl.h)

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
