/**
 * Svd (tensorflow/core/kernels/linalg/svd_op_impl.h): Eigen's JacobiSVD
 * with the ColPivHouseholderQR preconditioner below 16 columns (what TF's
 * BDCSVD runs there), a one-sided Jacobi above (see common.ts).
 */
import { checkCancelled } from '../../cancellation.js';
import { sizeOf } from '../../tensor.js';
import { registerKernel } from '../registry.js';
import { checkReal, checkRank, colsOf, EPS, matrixAt, MIN_NORMAL, outTensor, rowsOf, identity } from './common.js';

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
export function jacobiSvd(a: Float64Array, m: number, n: number, uCols: number, wantUV: boolean) {
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
