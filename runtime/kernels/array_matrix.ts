/**
 * Matrix-structured data movement over the innermost two dimensions:
 * MatrixBandPart, MatrixDiag / V2 / V3, MatrixDiagPart / V2 / V3,
 * MatrixSetDiag / V2 / V3, and the tensor diagonals Diag / DiagPart.
 *
 * Diagonal indexing follows linalg/matrix_diag_op.cc: diagonal d = col - row,
 * bands [k0, k1] stored from k1 down to k0, each diagonal left- or
 * right-aligned per the `align` attr (V3 default RIGHT_LEFT; V1/V2 LEFT_LEFT).
 * Every kernel is an index map (with a fill value), so all dtypes work.
 */
import { invalidArgument } from '../errors.js';
import * as tf from '@tensorflow/tfjs-core';
import { checkTensorSize } from '../limits.js';
import { allocHost, Tensor } from '../tensor.js';
import { copyElements, dbg, elementWidth, onTf, preferTf, readInts, sameShape, takeFlat, takeHost } from './array_util.js';
import { registerKernel, type KernelContext } from './registry.js';

function product(dims: readonly number[]): number {
  let p = 1;
  for (const d of dims) p *= d;
  return p;
}

registerKernel({
  op: 'MatrixBandPart',
  kernel: (ctx) => {
    const [x, lowerT, upperT] = ctx.inputs;
    if (x.rank < 2) throw invalidArgument(`input must be at least 2-dim, received shape: ${dbg(x.shape)}`);
    const rows = x.shape[x.rank - 2];
    const cols = x.shape[x.rank - 1];
    if (lowerT.rank !== 0) throw invalidArgument(`num_lower must be scalar, got shape ${dbg(lowerT.shape)}`);
    const lower = readInts(lowerT, 'num_lower')[0];
    if (lower > rows) {
      throw invalidArgument(`num_lower must be negative or less or equal to number of rows (${rows}) got: ${lower}`);
    }
    if (upperT.rank !== 0) throw invalidArgument(`num_upper must be scalar, got shape ${dbg(upperT.shape)}`);
    const upper = readInts(upperT, 'num_upper')[0];
    if (upper > cols) {
      throw invalidArgument(`num_upper must be negative or less or equal to number of columns (${cols}) got: ${upper}`);
    }
    if (x.size === 0 || ((lower < 0 || lower === rows) && (upper < 0 || upper === cols))) return [x];
    const map = new Int32Array(x.size);
    for (let i = 0; i < x.size; i++) {
      const m = Math.floor(i / cols) % rows;
      const n = i % cols;
      const keep = (lower < 0 || m - n <= lower) && (upper < 0 || n - m <= upper);
      map[i] = keep ? i : -1;
    }
    return [takeFlat(x, x.shape, map)];
  },
});

interface DiagArgs {
  lower: number;
  upper: number;
  leftSuper: boolean;
  leftSub: boolean;
}

/** Reads k (scalar or 1-2 element vector) and the align attr of a V2/V3 op. */
function diagArgs(ctx: KernelContext, kIndex: number, defaultAlign: string): DiagArgs {
  const alignAttr = ctx.attrs.has('align') ? ctx.attrs.string('align') : defaultAlign;
  const leftSuper = alignAttr === 'LEFT_LEFT' || alignAttr === 'LEFT_RIGHT';
  const leftSub = alignAttr === 'LEFT_LEFT' || alignAttr === 'RIGHT_LEFT';
  if (ctx.inputs.length <= kIndex) return { lower: 0, upper: 0, leftSuper, leftSub };
  const kT = ctx.inputs[kIndex];
  if (kT.rank > 1) throw invalidArgument(`diag_index must be a scalar or vector, received shape: ${dbg(kT.shape)}`);
  const k = readInts(kT, 'k');
  if (kT.rank === 1 && !(k.length > 0 && k.length <= 2)) {
    throw invalidArgument(`diag_index must have only one or two elements, received ${k.length} elements.`);
  }
  return { lower: k[0], upper: k.length > 1 ? k[1] : k[0], leftSuper, leftSub };
}

/** Length of diagonal d and where its content starts within max_diag_len. */
function diagLenAndOffset(d: number, maxLen: number, rows: number, cols: number, a: DiagArgs): [number, number] {
  const left = (d >= 0 && a.leftSuper) || (d <= 0 && a.leftSub);
  const len = Math.min(rows + Math.min(0, d), cols - Math.max(0, d));
  return [len, left ? 0 : maxLen - len];
}

function checkBand(a: DiagArgs, rows: number, cols: number): void {
  if (!((-rows < a.lower && a.lower < cols) || a.lower === 0)) {
    throw invalidArgument(`lower_diag_index is out of bound: ${a.lower}. It must be between ${-rows} and ${cols}`);
  }
  if (!((-rows < a.upper && a.upper < cols) || a.upper === 0)) {
    throw invalidArgument(`upper_diag_index is out of bound: ${a.upper} It must be between ${-rows} and ${cols}`);
  }
  if (a.lower > a.upper) {
    throw invalidArgument(`lower_diag_index must not be larger than upper_diag_index: ${a.lower} > ${a.upper}`);
  }
}

/**
 * Map from a [batch, rows, cols] matrix to its diagonal storage
 * [batch, numDiags, maxLen]: mat[i] = diag[map[i]] (-1 off the band).
 */
function matrixToDiagMap(batch: number, rows: number, cols: number, maxLen: number, a: DiagArgs): Int32Array {
  const numDiags = a.upper - a.lower + 1;
  const map = new Int32Array(batch * rows * cols);
  let k = 0;
  for (let b = 0; b < batch; b++) {
    const base = b * numDiags * maxLen;
    for (let i = 0; i < rows; i++) {
      for (let j = 0; j < cols; j++) {
        const d = j - i;
        if (d < a.lower || d > a.upper) {
          map[k++] = -1;
          continue;
        }
        const [, offset] = diagLenAndOffset(d, maxLen, rows, cols, a);
        map[k++] = base + (a.upper - d) * maxLen + j - Math.max(d, 0) + offset;
      }
    }
  }
  return map;
}

function matrixDiag(ctx: KernelContext, defaultAlign: string): Tensor {
  const diagonal = ctx.inputs[0];
  const a = diagArgs(ctx, 1, defaultAlign);
  let numRows = ctx.inputs.length > 2 ? readInts(ctx.inputs[2], 'num_rows')[0] : -1;
  let numCols = ctx.inputs.length > 3 ? readInts(ctx.inputs[3], 'num_cols')[0] : -1;
  const padding = ctx.inputs.length > 4 ? ctx.inputs[4] : undefined;
  const rank = diagonal.rank;
  const numDiags = a.upper - a.lower + 1;
  if (rank < 1) throw invalidArgument(`diagonal must be at least 1-dim, received shape: ${dbg(diagonal.shape)}`);
  if (a.lower > a.upper) {
    throw invalidArgument(`lower_diag_index must not be larger than upper_diag_index: ${a.lower} > ${a.upper}`);
  }
  if (!(a.lower === a.upper || diagonal.shape[rank - 2] === numDiags)) {
    throw invalidArgument(
      'The number of diagonals provided in the input does not match the lower_diag_index and upper_diag_index range.',
    );
  }
  const maxLen = diagonal.shape[rank - 1];
  const minRows = maxLen - Math.min(a.upper, 0);
  const minCols = maxLen + Math.max(a.lower, 0);
  if (!(numRows === -1 || numRows >= minRows)) throw invalidArgument('The number of rows is too small.');
  if (!(numCols === -1 || numCols >= minCols)) throw invalidArgument('The number of columns is too small.');
  if (numRows === -1 && numCols === -1) {
    numRows = Math.max(minRows, minCols);
    numCols = numRows;
  } else if (numRows === -1) {
    numRows = minRows;
  } else if (numCols === -1) {
    numCols = minCols;
  }
  if (!(numRows === minRows || numCols === minCols)) {
    throw invalidArgument(
      'The number of rows or columns is not consistent with the specified d_lower, d_upper, and diagonal.',
    );
  }
  const batchShape = diagonal.shape.slice(0, numDiags === 1 ? rank - 1 : rank - 2);
  const outShape = [...batchShape, numRows, numCols];
  checkTensorSize(outShape, diagonal.dtype);
  const map = matrixToDiagMap(product(batchShape), numRows, numCols, maxLen, a);
  return takeFlat(diagonal, outShape, map, padding);
}

registerKernel({ op: ['MatrixDiag', 'BatchMatrixDiag'], kernel: (ctx) => [matrixDiag(ctx, 'LEFT_LEFT')] });
registerKernel({ op: 'MatrixDiagV2', kernel: (ctx) => [matrixDiag(ctx, 'LEFT_LEFT')] });
registerKernel({ op: 'MatrixDiagV3', kernel: (ctx) => [matrixDiag(ctx, 'RIGHT_LEFT')] });

function matrixDiagPart(ctx: KernelContext, defaultAlign: string): Tensor {
  const x = ctx.inputs[0];
  const a = diagArgs(ctx, 1, defaultAlign);
  const padding = ctx.inputs.length > 2 ? ctx.inputs[2] : undefined;
  if (x.rank < 2) throw invalidArgument(`input must be at least 2-dim, received shape: ${dbg(x.shape)}`);
  const rows = x.shape[x.rank - 2];
  const cols = x.shape[x.rank - 1];
  checkBand(a, rows, cols);
  const numDiags = a.upper - a.lower + 1;
  const maxLen = Math.min(rows + Math.min(a.upper, 0), cols - Math.max(a.lower, 0));
  const batchShape = x.shape.slice(0, -2);
  const outShape = [...batchShape, ...(numDiags > 1 ? [numDiags] : []), maxLen];
  const batch = product(batchShape);
  const map = new Int32Array(batch * numDiags * maxLen).fill(-1);
  for (let b = 0; b < batch; b++) {
    for (let m = 0; m < numDiags; m++) {
      const d = a.upper - m;
      const y0 = Math.max(0, -d);
      const x0 = Math.max(0, d);
      const [len, offset] = diagLenAndOffset(d, maxLen, rows, cols, a);
      const outBase = (b * numDiags + m) * maxLen + offset;
      for (let n = 0; n < len; n++) map[outBase + n] = (b * rows + n + y0) * cols + n + x0;
    }
  }
  return takeFlat(x, outShape, map, padding);
}

registerKernel({ op: ['MatrixDiagPart', 'BatchMatrixDiagPart'], kernel: (ctx) => [matrixDiagPart(ctx, 'LEFT_LEFT')] });
registerKernel({ op: 'MatrixDiagPartV2', kernel: (ctx) => [matrixDiagPart(ctx, 'LEFT_LEFT')] });
registerKernel({ op: 'MatrixDiagPartV3', kernel: (ctx) => [matrixDiagPart(ctx, 'RIGHT_LEFT')] });

function matrixSetDiag(ctx: KernelContext, defaultAlign: string): Tensor {
  const [x, diagonal] = ctx.inputs;
  const a = diagArgs(ctx, 2, defaultAlign);
  if (x.rank < 2) throw invalidArgument(`input must be at least 2-dim, received shape: ${dbg(x.shape)}`);
  const rows = x.shape[x.rank - 2];
  const cols = x.shape[x.rank - 1];
  checkBand(a, rows, cols);
  const numDiags = a.upper - a.lower + 1;
  const maxLen = Math.min(rows + Math.min(a.upper, 0), cols - Math.max(a.lower, 0));
  const batchShape = x.shape.slice(0, -2);
  const expected = [...batchShape, ...(a.lower === a.upper ? [] : [numDiags]), maxLen];
  if (!sameShape(expected, diagonal.shape)) {
    throw invalidArgument(
      `Either first dimensions of diagonal don't match input.shape[:-2], or diagonal.shape[:-1] is not equal to the longests diagonal in range [lower_diag_index:upper_diag_index].\nInput shape: ${dbg(x.shape)}\nDiagonal shape: ${dbg(diagonal.shape)}\nExpected diagonal shape: ${dbg(expected)}`,
    );
  }
  if (x.size === 0) return x;
  // Read from [x.flat, diagonal.flat]: band elements come from the diagonal part.
  const map = matrixToDiagMap(product(batchShape), rows, cols, maxLen, a);
  for (let i = 0; i < map.length; i++) map[i] = map[i] < 0 ? i : x.size + map[i];
  if (preferTf(x, diagonal)) {
    return onTf(x.dtype, [x, diagonal], (m, d) =>
      tf.reshape(tf.gather(tf.concat([tf.reshape(m, [-1]), tf.reshape(d, [-1])]), tf.tensor1d(map, 'int32')), [...x.shape]),
    );
  }
  const w = elementWidth(x.dtype);
  const combined = allocHost(x.dtype, x.size + diagonal.size);
  copyElements(x.values(), 0, combined, 0, x.size, w);
  copyElements(diagonal.values(), 0, combined, x.size, diagonal.size, w);
  return Tensor.fromHost(x.dtype, x.shape, takeHost(x.dtype, combined, map));
}

registerKernel({ op: ['MatrixSetDiag', 'BatchMatrixSetDiag'], kernel: (ctx) => [matrixSetDiag(ctx, 'LEFT_LEFT')] });
registerKernel({ op: 'MatrixSetDiagV2', kernel: (ctx) => [matrixSetDiag(ctx, 'LEFT_LEFT')] });
registerKernel({ op: 'MatrixSetDiagV3', kernel: (ctx) => [matrixSetDiag(ctx, 'RIGHT_LEFT')] });

registerKernel({
  op: 'Diag',
  kernel: (ctx) => {
    const x = ctx.inputs[0];
    if (x.rank < 1) throw invalidArgument(`Input must be at least rank 1, got 0`);
    const n = x.size;
    checkTensorSize([...x.shape, ...x.shape], x.dtype); // n elements in, n^2 out
    const map = new Int32Array(n * n).fill(-1);
    for (let i = 0; i < n; i++) map[i * n + i] = i;
    return [takeFlat(x, [...x.shape, ...x.shape], map)];
  },
});

registerKernel({
  op: 'DiagPart',
  kernel: (ctx) => {
    const x = ctx.inputs[0];
    const rank = x.rank;
    if (rank === 0 || rank % 2 !== 0) {
      throw invalidArgument(
        `The rank of the tensor should be${' '.repeat(42)}even and positive, got shape ${dbg(x.shape)}`,
      );
    }
    const half = rank / 2;
    for (let i = 0; i < half; i++) {
      if (x.shape[i] !== x.shape[i + half]) {
        throw invalidArgument(`Invalid shape ${dbg(x.shape)}: dimensions ${i} and ${i + half} do not match.`);
      }
    }
    const outShape = x.shape.slice(0, half);
    const n = product(outShape);
    const map = new Int32Array(n);
    for (let i = 0; i < n; i++) map[i] = i * n + i;
    return [takeFlat(x, outShape, map)];
  },
});
