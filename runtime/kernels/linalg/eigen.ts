/**
 * SelfAdjointEigV2 (tensorflow/core/kernels/linalg/self_adjoint_eig_v2_op_impl.h)
 * following Eigen::SelfAdjointEigenSolver step by step (see common.ts).
 */
import { checkCancelled } from '../../cancellation.js';
import { invalidArgument } from '../../errors.js';
import { sizeOf } from '../../tensor.js';
import { registerKernel } from '../registry.js';
import { EPS, matrixAt, MIN_NORMAL, outTensor, squareInput } from './common.js';

// ---------------------------------------------------------------------------
// Symmetric eigendecomposition as Eigen::SelfAdjointEigenSolver computes it


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
