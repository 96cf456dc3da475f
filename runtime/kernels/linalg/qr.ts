/**
 * Qr (tensorflow/core/kernels/linalg/qr_op_impl.h): Householder QR as
 * Eigen::HouseholderQR, so Q and R equal TF's (see common.ts).
 */
import { checkCancelled } from '../../cancellation.js';
import { sizeOf } from '../../tensor.js';
import { registerKernel } from '../registry.js';
import { checkReal, checkRank, colsOf, matrixAt, outTensor, rowsOf } from './common.js';

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
