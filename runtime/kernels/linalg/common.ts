/**
 * Shared pieces of the linear algebra kernels (runtime/kernels/linalg/):
 * validation with TF's texts, float64 matrix copies, output allocation.
 *
 * The family: dense linear algebra over the innermost two dimensions, batched over the
 * rest: Cholesky, MatrixInverse, MatrixDeterminant, LogMatrixDeterminant,
 * MatrixSolve, MatrixTriangularSolve, Qr, SelfAdjointEigV2, Svd, Lu,
 * MatrixSolveLs, TridiagonalSolve, TridiagonalMatMul, BandedTriangularSolve
 * (and the TF1 Batch* aliases); Cross in vector_ops.ts.
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
import { invalidArgument } from '../../errors.js';
import { checkTensorSize } from '../../limits.js';
import { type HostData, Tensor, allocHost, sizeOf } from '../../tensor.js';
import { unsupportedDtype } from '../host_math.js';

export const MIN_NORMAL = 2.2250738585072014e-308;
export const EPS = 2.220446049250313e-16;

const REAL: readonly DType[] = ['float32', 'float64', 'float16', 'bfloat16'];

export function checkReal(op: string, t: Tensor): void {
  if (!REAL.includes(t.dtype)) throw unsupportedDtype(op, t.dtype);
}

/** TF's LinearAlgebraOp::AnalyzeInputs rank check. */
export function checkRank(t: Tensor, index = 0): void {
  if (t.rank < 2) throw invalidArgument(`Input tensor ${index} must have rank >= 2, got ${t.rank}`);
}

export function rowsOf(t: Tensor): number {
  return t.shape[t.rank - 2];
}
export function colsOf(t: Tensor): number {
  return t.shape[t.rank - 1];
}

/** Validates a batch of square matrices: rank >= 2, real dtype, square. */
export function squareInput(op: string, t: Tensor): number {
  checkRank(t);
  checkReal(op, t);
  if (rowsOf(t) !== colsOf(t)) throw invalidArgument('Input matrix must be square.');
  return rowsOf(t);
}

/** Matrix `b` of a batch, as a float64 row-major copy. */
export function matrixAt(src: HostData, b: number, rows: number, cols: number): Float64Array {
  const n = rows * cols;
  const out = new Float64Array(n);
  const v = src as ArrayLike<number>;
  for (let i = 0, o = b * n; i < n; i++) out[i] = v[o + i];
  return out;
}

export function outTensor(dtype: DType, shape: number[]): { data: Float64Array | Float32Array; done: () => Tensor } {
  checkTensorSize(shape, dtype);
  const data = allocHost(dtype, sizeOf(shape)) as Float64Array | Float32Array;
  return { data, done: () => Tensor.fromHost(dtype, shape, data) };
}

/** LinearAlgebraOp's checks for two-input ops: same rank, same batch dims. */
export function checkSolverInputs(op: string, a: Tensor, rhs: Tensor): void {
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

export function transposeSquare(a: Float64Array, n: number): Float64Array {
  const t = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) t[j * n + i] = a[i * n + j];
  return t;
}

export function identity(n: number): Float64Array {
  const e = new Float64Array(n * n);
  for (let i = 0; i < n; i++) e[i * n + i] = 1;
  return e;
}
