/**
 * LU-based and triangular kernels: Cholesky, MatrixInverse,
 * MatrixDeterminant, LogMatrixDeterminant, MatrixSolve, MatrixTriangularSolve,
 * Lu (tensorflow/core/kernels/linalg/cholesky_op.cc, matrix_inverse_op.cc,
 * determinant_op.cc, matrix_solve_op.cc, matrix_triangular_solve_op_impl.h,
 * lu_op.cc). Semantics and numerics: see common.ts.
 */
import { checkCancelled } from '../../cancellation.js';
import { invalidArgument } from '../../errors.js';
import { Tensor, shapeString, sizeOf } from '../../tensor.js';
import { broadcastIndex, broadcastShapes, unsupportedDtype } from '../host_math.js';
import { registerKernel } from '../registry.js';
import { checkReal, colsOf, matrixAt, outTensor, rowsOf, squareInput, checkSolverInputs, identity, transposeSquare } from './common.js';

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
