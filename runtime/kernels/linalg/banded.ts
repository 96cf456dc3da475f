/**
 * BandedTriangularSolve (tensorflow/core/kernels/linalg/banded_triangular_solve_op.cc):
 * a triangular solve whose matrix is given by its K bands, [..., K, M].
 * Lower: band k (row k) is the k-th subdiagonal, right-aligned (A[i][i-k] =
 * bands[k][i]); upper: row K-1-d is the d-th superdiagonal, left-aligned
 * (A[i][i+d] = bands[K-1-d][i]). Batch dims broadcast; the invertibility
 * check reads the first matrix's diagonal, as TF's does.
 */
import type { DType } from '../../dtypes.js';
import { checkCancelled } from '../../cancellation.js';
import { invalidArgument } from '../../errors.js';
import { Tensor, shapeString, sizeOf } from '../../tensor.js';
import { broadcastIndex, broadcastShapes, unsupportedDtype } from '../host_math.js';
import { registerKernel } from '../registry.js';
import { checkReal, colsOf, matrixAt, outTensor, rowsOf } from './common.js';

const typeName = (d: DType) => (d === 'float64' ? 'double' : d === 'float32' ? 'float' : d);

registerKernel({
  op: 'BandedTriangularSolve',
  kernel: (ctx) => {
    const [bands, rhs] = ctx.inputs;
    const lower = ctx.attrs.bool('lower', true);
    const adjoint = ctx.attrs.bool('adjoint', false);
    if (bands.rank < 2) throw invalidArgument(`In[0] ndims must be >= 2: ${bands.rank}`);
    if (rhs.rank < 2) throw invalidArgument(`In[1] ndims must be >= 2: ${rhs.rank}`);
    const empty = (t: Tensor) => `Tensor<type: ${typeName(t.dtype)} shape: ${shapeString(t.shape)} values: >`;
    if (bands.size === 0) throw invalidArgument(`In[0] must not be an empty tensor: ${empty(bands)}`);
    if (rhs.size === 0) throw invalidArgument(`In[1] must not be an empty tensor: ${empty(rhs)}`);
    checkReal('BandedTriangularSolve', bands);
    if (rhs.dtype !== bands.dtype) throw unsupportedDtype('BandedTriangularSolve', rhs.dtype);
    const aBatch = bands.shape.slice(0, -2);
    const bBatch = rhs.shape.slice(0, -2);
    const batchShape = broadcastShapes(aBatch, bBatch);
    if (!batchShape) {
      throw invalidArgument(
        `In[0] and In[1] must have compatible batch dimensions: ${shapeString(bands.shape)} vs. ${shapeString(rhs.shape)}`,
      );
    }
    const K = rowsOf(bands);
    const M = colsOf(bands);
    if (M !== rowsOf(rhs)) {
      throw invalidArgument(
        `In[0] mismatch In[1] shape: ${M} vs. ${rowsOf(rhs)}: ${shapeString(bands.shape)} ${shapeString(rhs.shape)} ${lower ? 1 : 0} ${adjoint ? 1 : 0}`,
      );
    }
    const k = colsOf(rhs);
    const { data, done } = outTensor(bands.dtype, [...batchShape, M, k]);
    if (data.length === 0) return [done()];
    const bv = bands.values();
    const first = matrixAt(bv, 0, K, M);
    const diagRow = lower ? 0 : K - 1;
    let minPivot = Infinity;
    for (let i = 0; i < M; i++) minPivot = Math.min(minPivot, Math.abs(first[diagRow * M + i]));
    if (!(minPivot > 0)) throw invalidArgument('Input matrix is not invertible.');
    const ai = broadcastIndex(aBatch, batchShape);
    const bi = broadcastIndex(bBatch, batchShape);
    const rv = rhs.values();
    const batches = sizeOf(batchShape);
    for (let b = 0; b < batches; b++) {
      checkCancelled();
      const m = matrixAt(bv, ai ? ai[b] : b, K, M);
      const x = matrixAt(rv, bi ? bi[b] : b, M, k);
      const at = (r: number, c: number) => m[r * M + c];
      // A[i][j] for the (possibly adjoint) matrix, 0 outside the band.
      const coef = (i: number, j: number): number => {
        const [r, c] = adjoint ? [j, i] : [i, j];
        if (lower) return r - c >= 0 && r - c < K ? at(r - c, r) : 0;
        return c - r >= 0 && c - r < K ? at(K - 1 - (c - r), r) : 0;
      };
      const forward = lower !== adjoint; // lower-triangular system after the adjoint
      const order = forward ? Array.from({ length: M }, (_, i) => i) : Array.from({ length: M }, (_, i) => M - 1 - i);
      for (const i of order) {
        const lo = forward ? Math.max(0, i - (K - 1)) : i + 1;
        const hi = forward ? i : Math.min(M, i + K);
        for (let j = lo; j < hi; j++) {
          const c = coef(i, j);
          if (c !== 0) for (let q = 0; q < k; q++) x[i * k + q] -= c * x[j * k + q];
        }
        const d = coef(i, i);
        for (let q = 0; q < k; q++) x[i * k + q] /= d;
      }
      data.set(x, b * M * k);
    }
    return [done()];
  },
});
