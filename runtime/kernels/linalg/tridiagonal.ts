/**
 * TridiagonalSolve (tensorflow/core/kernels/linalg/tridiagonal_solve_op.cc:
 * partial pivoting as LAPACK xGTSV, the Thomas algorithm, or xLAGTF/xLAGTS
 * with perturbed pivots; NaN when singular) and TridiagonalMatMul.
 */
import { checkCancelled } from '../../cancellation.js';
import { invalidArgument } from '../../errors.js';
import { Tensor, sizeOf } from '../../tensor.js';
import { unsupportedDtype } from '../host_math.js';
import { registerKernel } from '../registry.js';
import { checkReal, checkRank, colsOf, matrixAt, outTensor, rowsOf } from './common.js';

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
