import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../../runtime/backend.js';
import type { DType } from '../../../runtime/dtypes.js';
import { StatusError } from '../../../runtime/errors.js';
import type { AttrValue } from '../../../runtime/graph/types.js';
import { Attrs } from '../../../runtime/kernels/attrs.js';
import '../../../runtime/kernels/linalg/solve.js';
import '../../../runtime/kernels/linalg/qr.js';
import '../../../runtime/kernels/linalg/eigen.js';
import '../../../runtime/kernels/linalg/svd.js';
import '../../../runtime/kernels/linalg/least_squares.js';
import '../../../runtime/kernels/linalg/tridiagonal.js';
import '../../../runtime/kernels/linalg/banded.js';
import '../../../runtime/kernels/linalg/vector_ops.js';
import { type KernelContext, kernelFor } from '../../../runtime/kernels/registry.js';
import { Tensor } from '../../../runtime/tensor.js';

beforeAll(async () => {
  await initBackend();
});

function run(op: string, inputs: Tensor[], attr: Record<string, AttrValue> = {}): Tensor[] {
  const def = kernelFor(op);
  if (!def) throw new Error(`no kernel for ${op}`);
  const ctx: KernelContext = {
    node: { name: `test_${op}`, op, input: [], device: '', attr },
    attrs: new Attrs(attr, `test_${op}`, op),
    inputs,
    resources: undefined as never,
    functions: undefined as never,
  };
  return def.kernel(ctx);
}
const b = (v: boolean): AttrValue => ({ kind: 'b', b: v });
const T = (dtype: DType, shape: number[], values: ArrayLike<number>) => Tensor.from(dtype, shape, values);
const vals = (t: Tensor) => Array.from(t.values() as ArrayLike<number>);

function expectStatus(fn: () => unknown, code: string, message: string | RegExp): void {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(StatusError);
    expect((e as StatusError).code).toBe(code);
    if (typeof message === 'string') expect((e as StatusError).message).toBe(message);
    else expect((e as StatusError).message).toMatch(message);
    return;
  }
  throw new Error('expected an error');
}

/** Deterministic pseudo-random values in [-1, 1). */
function rnd(n: number, seed: number): number[] {
  let s = seed * 2654435761;
  return Array.from({ length: n }, () => {
    s = (s * 1103515245 + 12345) % 2147483648;
    return (s / 1073741824) - 1;
  });
}

/** a (m×k) · b (k×n), row-major, with optional transposes. */
function mm(a: number[], b2: number[], m: number, k: number, n: number, ta = false, tb = false): number[] {
  const out = new Array<number>(m * n).fill(0);
  for (let i = 0; i < m; i++)
    for (let j = 0; j < n; j++)
      for (let p = 0; p < k; p++) out[i * n + j] += (ta ? a[p * m + i] : a[i * k + p]) * (tb ? b2[j * k + p] : b2[p * n + j]);
  return out;
}
const close = (x: number[], y: number[], tol: number) => x.forEach((v, i) => expect(Math.abs(v - y[i])).toBeLessThanOrEqual(tol));
const eye = (n: number) => Array.from({ length: n * n }, (_, i) => (Math.floor(i / n) === i % n ? 1 : 0));

describe('linear algebra errors', () => {
  const m23 = T('float32', [2, 3], [1, 2, 3, 4, 5, 6]);
  const v = T('float32', [3], [1, 2, 3]);
  it('refuses rank < 2 and non-square inputs with TF wording', () => {
    for (const op of ['Cholesky', 'MatrixInverse', 'MatrixDeterminant', 'LogMatrixDeterminant', 'SelfAdjointEigV2', 'Qr', 'Svd']) {
      expectStatus(() => run(op, [v]), 'INVALID_ARGUMENT', 'Input tensor 0 must have rank >= 2, got 1');
    }
    for (const op of ['Cholesky', 'MatrixInverse', 'MatrixDeterminant', 'LogMatrixDeterminant', 'SelfAdjointEigV2']) {
      expectStatus(() => run(op, [m23]), 'INVALID_ARGUMENT', 'Input matrix must be square.');
    }
  });

  it('refuses singular matrices for inverse and solve', () => {
    const sing = T('float32', [2, 2], [1, 2, 2, 4]);
    expectStatus(() => run('MatrixInverse', [sing]), 'INVALID_ARGUMENT', 'Input is not invertible.');
    expectStatus(() => run('MatrixInverse', [T('float64', [2, 2], [NaN, 0, 0, 1])]), 'INVALID_ARGUMENT', 'Input is not invertible.');
    expectStatus(() => run('MatrixSolve', [sing, T('float32', [2, 1], [1, 1])]), 'INVALID_ARGUMENT', 'Input matrix is not invertible.');
  });

  it('checks solver shapes as TF does', () => {
    const a = T('float32', [2, 2], [1, 0, 0, 1]);
    expectStatus(() => run('MatrixSolve', [m23, T('float32', [2, 1], [1, 1])]), 'INVALID_ARGUMENT', 'First input (lhs) must be a square matrix.');
    expectStatus(() => run('MatrixSolve', [a, T('float32', [3, 1], [1, 1, 1])]), 'INVALID_ARGUMENT', 'Input matrix and rhs are incompatible.');
    expectStatus(() => run('MatrixSolve', [T('float32', [1, 2, 2], [1, 0, 0, 1]), T('float32', [2, 1], [1, 1])]), 'INVALID_ARGUMENT',
      'All input tensors must have the same rank.');
    expectStatus(() => run('MatrixSolve', [T('float32', [1, 2, 2], [1, 0, 0, 1]), T('float32', [3, 2, 1], [1, 1, 1, 1, 1, 1])]),
      'INVALID_ARGUMENT', 'All input tensors must have the same outer dimensions.');
    expectStatus(() => run('MatrixTriangularSolve', [m23, T('float32', [2, 1], [1, 1])]), 'INVALID_ARGUMENT',
      'In[0] matrices in the last dimensions must be square (3 =/= 2)');
    expectStatus(() => run('MatrixTriangularSolve', [a, T('float32', [3, 1], [1, 1, 1])]), 'INVALID_ARGUMENT',
      'In[0] mismatch In[1] shape: 2 vs. 3: [2,2] [3,1] 1 0');
    expectStatus(() => run('MatrixTriangularSolve', [T('float32', [2, 2, 2], new Array(8).fill(1)), T('float32', [3, 2, 1], new Array(6).fill(1))]),
      'INVALID_ARGUMENT', 'In[0] and In[1] must have compatible batch dimensions: [2,2,2] vs. [3,2,1]');
    expectStatus(() => run('MatrixTriangularSolve', [v, v]), 'INVALID_ARGUMENT', 'In[0] ndims must be >= 2: 1');
    expectStatus(() => run('MatrixTriangularSolve', [a, T('float32', [2], [1, 1])]), 'INVALID_ARGUMENT', 'In[1] ndims must be >= 2: 1');
  });

  it('refuses dtypes without a kernel, and NaN for the eigen solver', () => {
    expectStatus(() => run('Cholesky', [T('int32', [1, 1], [1])]), 'INVALID_ARGUMENT', /does not support DT_INT32/);
    expectStatus(() => run('Svd', [Tensor.fromHost('complex64', [1, 1], new Float32Array([1, 0]))]), 'INVALID_ARGUMENT', /does not support DT_COMPLEX64/);
    expectStatus(() => run('SelfAdjointEigV2', [T('float32', [2, 2], [NaN, 0, 0, 1])]), 'INVALID_ARGUMENT',
      'Self-adjoint eigen decomposition was not successful. The input might not be valid.');
  });

  it('refuses absurd output sizes before allocating', () => {
    const tall = T('float32', [100000, 0], []);
    expect(() => run('Svd', [tall], { full_matrices: b(true) })).toThrow(StatusError);
    expect(() => run('Qr', [tall], { full_matrices: b(true) })).toThrow(StatusError);
    const [s, u, vv] = run('Svd', [tall]);
    expect([s.shape, u.shape, vv.shape]).toEqual([[0], [100000, 0], [0, 0]]);
  });
});

describe('linear algebra numerics (float64 at double precision)', () => {
  it('inverts, solves and factors random well-conditioned matrices', () => {
    const n = 7;
    const a = rnd(n * n, 1).map((x, i) => x + (Math.floor(i / n) === i % n ? 4 : 0));
    const A = T('float64', [n, n], a);
    close(mm(vals(run('MatrixInverse', [A])[0]), a, n, n, n), eye(n), 1e-13);
    const rhs = rnd(n * 2, 2);
    close(mm(a, vals(run('MatrixSolve', [A, T('float64', [n, 2], rhs)])[0]), n, n, 2), rhs, 1e-13);
    const xa = vals(run('MatrixSolve', [A, T('float64', [n, 2], rhs)], { adjoint: b(true) })[0]);
    close(mm(a, xa, n, n, 2, true), rhs, 1e-13);
    const spd = mm(a, a, n, n, n, false, true);
    const l = vals(run('Cholesky', [T('float64', [n, n], spd)])[0]);
    close(mm(l, l, n, n, n, false, true), spd, 1e-12);
    const [sign, logAbs] = run('LogMatrixDeterminant', [T('float64', [n, n], spd)]);
    const det = vals(run('MatrixDeterminant', [T('float64', [n, n], spd)])[0])[0];
    expect(vals(sign)[0]).toBe(1);
    expect(Math.abs(Math.exp(vals(logAbs)[0]) - det) / det).toBeLessThan(1e-12);
  });

  it('QR, eigen and SVD reconstruct their input with orthonormal factors', () => {
    for (const [m, n] of [[6, 4], [4, 6], [5, 5]]) {
      const a = rnd(m * n, m * 10 + n);
      const A = T('float64', [m, n], a);
      const p = Math.min(m, n);
      const [q, r] = run('Qr', [A]).map(vals);
      close(mm(q, r, m, p, n), a, 1e-13);
      close(mm(q, q, p, m, p, true), eye(p), 1e-13);
      const [s, u, v2] = run('Svd', [A]).map(vals);
      for (let i = 1; i < p; i++) expect(s[i]).toBeLessThanOrEqual(s[i - 1]);
      const us = u.map((x, i) => x * s[i % p]);
      close(mm(us, v2, m, p, n, false, true), a, 1e-13);
      const [, uf, vf] = run('Svd', [A], { full_matrices: b(true) }).map(vals);
      close(mm(uf, uf, m, m, m, true), eye(m), 1e-13);
      close(mm(vf, vf, n, n, n, true), eye(n), 1e-13);
    }
    const n = 6;
    const a = rnd(n * n, 5);
    const sym = mm(a, a, n, n, n, false, true);
    const [e, v] = run('SelfAdjointEigV2', [T('float64', [n, n], sym)]).map(vals);
    for (let i = 1; i < n; i++) expect(e[i]).toBeGreaterThanOrEqual(e[i - 1]);
    const ve = v.map((x, i) => x * e[i % n]);
    close(mm(ve, v, n, n, n, false, true), sym, 1e-12);
    const [eOnly, vNone] = run('SelfAdjointEigV2', [T('float64', [n, n], sym)], { compute_v: b(false) });
    close(vals(eOnly), e, 1e-12);
    expect(vNone.shape).toEqual([0]);
  });

  it('fills the lower triangle with NaN when Cholesky fails, per batch matrix', () => {
    const r = vals(run('Cholesky', [T('float32', [2, 2, 2], [4, 1, 1, 2, 1, 2, 2, 1])])[0]);
    expect(r.slice(0, 4).map((x) => Number(x.toFixed(5)))).toEqual([2, 0, 0.5, 1.32288]);
    expect(r.slice(4)).toEqual([NaN, 0, NaN, NaN]);
  });

  it('gives a signed zero determinant for singular matrices', () => {
    const [sign, logAbs] = run('LogMatrixDeterminant', [T('float32', [2, 2], [1, 2, 2, 4])]);
    expect(Object.is(vals(sign)[0], -0)).toBe(true);
    expect(vals(logAbs)[0]).toBe(-Infinity);
    expect(vals(run('MatrixDeterminant', [T('float32', [3, 0, 0], [])])[0])).toEqual([1, 1, 1]);
  });
});

describe('Cross', () => {
  it('computes cross products with TF wrapping and errors', () => {
    expect(vals(run('Cross', [T('int32', [3], [1, 2, 3]), T('int32', [3], [4, 5, 6])])[0])).toEqual([-3, 6, -3]);
    expect(vals(run('Cross', [T('float64', [1, 3], [1, 2, 3.5]), T('float64', [1, 3], [4, 5, 6])])[0])).toEqual([-5.5, 8, -3]);
    expect(Array.from(run('Cross', [T('int64', [3], [2 ** 40, 0, 0]), T('int64', [3], [0, 2 ** 30, 0])])[0].values() as BigInt64Array))
      .toEqual([0n, 0n, 0n]); // 2^70 wraps to 0
    expectStatus(() => run('Cross', [T('float32', [2, 3], new Array(6).fill(1)), T('float32', [3], [1, 1, 1])]), 'INVALID_ARGUMENT',
      'Both inputs must be of same shape: [2,3] vs. [3]');
    expectStatus(() => run('Cross', [T('float32', [2], [1, 1]), T('float32', [2], [1, 1])]), 'FAILED_PRECONDITION',
      'Cross-products are only defined for 3-element vectors.');
    expectStatus(() => run('Cross', [T('float32', [], [1]), T('float32', [], [1])]), 'INVALID_ARGUMENT', 'Input must be at least 1D[]');
  });

});

describe('Lu and MatrixSolveLs', () => {
  it('factors with the row permutation TF reports, and refuses singular input', () => {
    const [luT, p] = run('Lu', [T('float64', [3, 3], [1, 2, 3, 4, 5, 6, 7, 8, 10])], { output_idx_type: { kind: 'type', type: 'int64' } });
    expect(Array.from(p.values() as BigInt64Array)).toEqual([2n, 0n, 1n]);
    close(vals(luT), [7, 8, 10, 1 / 7, 6 / 7, 11 / 7, 4 / 7, 0.5, -0.5], 1e-14);
    expectStatus(() => run('Lu', [T('float32', [2, 2], [1, 2, 2, 4])]), 'INVALID_ARGUMENT', 'Input is not invertible.');
    expectStatus(() => run('Lu', [T('float32', [2, 3], [1, 2, 3, 4, 5, 6])]), 'INVALID_ARGUMENT', 'Input matrix must be square.');
    expectStatus(() => run('Lu', [T('float32', [3], [1, 2, 3])]), 'INVALID_ARGUMENT', 'Input tensor must have rank >= 2, got 1');
  });

  it('checks the regularizer and shapes as TF does', () => {
    const a = T('float32', [3, 2], [1, 2, 3, 4, 5, 7]);
    const rhs = T('float32', [3, 1], [1, 2, 3]);
    const l2 = (v: number[], shape: number[] = []) => T('float64', shape, v);
    close(vals(run('MatrixSolveLs', [a, rhs, l2([0])])[0]), [-1 / 14, 0.5], 1e-6);
    close(vals(run('MatrixSolveLs', [a, rhs, l2([0])], { fast: b(false) })[0]), [-1 / 14, 0.5], 1e-6);
    expectStatus(() => run('MatrixSolveLs', [a, rhs, l2([-1])]), 'INVALID_ARGUMENT', 'l2_regularizer must be >= 0.');
    expectStatus(() => run('MatrixSolveLs', [a, rhs, l2([1], [1])]), 'INVALID_ARGUMENT', 'l2_regularizer must be scalar, got shape [1]');
    expectStatus(() => run('MatrixSolveLs', [a, T('float32', [2, 1], [1, 1]), l2([0])]), 'INVALID_ARGUMENT', 'Input matrix and rhs are incompatible.');
    expectStatus(() => run('MatrixSolveLs', [T('float64', [3, 2], [1, 2, 2, 4, 3, 6]), T('float64', [3, 1], [1, 2, 3]), l2([0])]),
      'INVALID_ARGUMENT', /rank deficient or ill-conditioned/);
  });
});

describe('TridiagonalSolve and TridiagonalMatMul', () => {
  const d = T('float64', [3, 3], [1, 2, 0, 4, 5, 6, 0, 7, 8]);
  it('solves with and without pivoting, NaN when singular', () => {
    const rhs = T('float64', [3, 1], [1, 2, 3]);
    const x = vals(run('TridiagonalSolve', [d, rhs])[0]);
    // A = [[4,1,0],[7,5,2],[0,8,6]]
    const a = [4, 1, 0, 7, 5, 2, 0, 8, 6];
    close(mm(a, x, 3, 3, 1), [1, 2, 3], 1e-14);
    close(vals(run('TridiagonalSolve', [d, rhs], { partial_pivoting: b(false) })[0]), x, 1e-14);
    const singular = T('float64', [3, 3], [1, 0, 0, 1, 1, 1, 0, 1, 0]); // [[1,1,0],[1,1,0],[0,0,1]]
    expect(vals(run('TridiagonalSolve', [singular, rhs])[0])).toEqual([NaN, NaN, NaN]);
  });

  it("answers TF's errors", () => {
    const rhs = T('float64', [3, 1], [1, 2, 3]);
    expectStatus(() => run('TridiagonalSolve', [d, rhs], { partial_pivoting: b(false), perturb_singular: b(true) }), 'INVALID_ARGUMENT',
      'Setting perturb_singular requires also setting partial_pivoting.');
    expectStatus(() => run('TridiagonalSolve', [T('float64', [2, 3], new Array(6).fill(1)), rhs]), 'INVALID_ARGUMENT',
      'Expected diagonals to be provided as a matrix with 3 rows, got 2 rows.');
    expectStatus(() => run('TridiagonalSolve', [d, T('float64', [4, 1], [1, 1, 1, 1])]), 'INVALID_ARGUMENT',
      'Expected the same number of left-hand sides and right-hand sides, got 3 and 4.');
    const o = T('float32', [1, 3], [1, 1, 1]);
    const r = T('float32', [3, 2], new Array(6).fill(1));
    expect(vals(run('TridiagonalMatMul', [o, o, o, r])[0])).toEqual([2, 2, 3, 3, 2, 2]);
    expectStatus(() => run('TridiagonalMatMul', [T('float32', [1, 2], [1, 1]), o, o, r]), 'INVALID_ARGUMENT', 'Invalid superdiagonal shape.');
    expectStatus(() => run('TridiagonalMatMul', [o, o, T('float32', [1, 2], [1, 1]), r]), 'INVALID_ARGUMENT', 'Invalid subdiagonal shape.');
    expectStatus(() => run('TridiagonalMatMul', [T('float32', [3], [1, 1, 1]), o, o, r]), 'INVALID_ARGUMENT', 'Input tensor 0 must have rank >= 2, got 1');
  });
});

describe('BandedTriangularSolve', () => {
  it("answers TF's errors", () => {
    const rhs = T('float32', [3, 1], [1, 1, 1]);
    expectStatus(() => run('BandedTriangularSolve', [T('float32', [0, 3], []), rhs]), 'INVALID_ARGUMENT',
      'In[0] must not be an empty tensor: Tensor<type: float shape: [0,3] values: >');
    expectStatus(() => run('BandedTriangularSolve', [T('float32', [2, 3], [1, 0, 1, 1, 1, 1]), rhs]), 'INVALID_ARGUMENT',
      'Input matrix is not invertible.');
    expectStatus(() => run('BandedTriangularSolve', [T('float32', [2, 3], new Array(6).fill(1)), T('float32', [4, 1], [1, 1, 1, 1])]),
      'INVALID_ARGUMENT', 'In[0] mismatch In[1] shape: 3 vs. 4: [2,3] [4,1] 1 0');
  });

  it('solves lower and upper banded systems', () => {
    // lower, K=2: A = [[2,0,0],[1,3,0],[0,4,5]]; bands row0 = diag, row1 = subdiag right-aligned
    const bands = T('float64', [2, 3], [2, 3, 5, 0, 1, 4]);
    const x = vals(run('BandedTriangularSolve', [bands, T('float64', [3, 1], [2, 4, 9])])[0]);
    close(x, [1, 1, 1], 1e-15);
  });
});
