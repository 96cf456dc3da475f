/**
 * SparseTensor kernels over (indices, values, dense_shape) triples:
 * SparseTensorDenseMatMul, SparseReshape, SparseFillEmptyRows (semantics of
 * tensorflow/core/kernels/sparse_tensor_dense_matmul_op.cc,
 * reshape_util.cc, sparse_fill_empty_rows_op.cc). Host loops.
 */
import { invalidArgument } from '../../errors.js';
import { allocHost, sizeOf, Tensor } from '../../tensor.js';
import { registerKernel } from '../registry.js';

const dbg = (s: readonly number[]) => `[${s.join(',')}]`;
const int64 = (shape: number[], values: number[]) => Tensor.fromHost('int64', shape, BigInt64Array.from(values, (v) => BigInt(v)));

registerKernel({
  op: 'SparseTensorDenseMatMul',
  kernel: (ctx) => {
    const [indicesT, valuesT, shapeT, b] = ctx.inputs;
    const adjA = ctx.attrs.bool('adjoint_a', false);
    const adjB = ctx.attrs.bool('adjoint_b', false);
    if (indicesT.rank !== 2 || indicesT.shape[1] !== 2) throw invalidArgument(`Tensor 'a_indices' is not a matrix with 2 columns: ${dbg(indicesT.shape)}`);
    if (b.rank !== 2) throw invalidArgument(`Tensor 'b' is not a matrix`);
    const [ar, ac] = shapeT.numbers();
    const m = adjA ? ac : ar;
    const k = adjA ? ar : ac;
    const [br, bc] = b.shape;
    const bk = adjB ? bc : br;
    const n = adjB ? br : bc;
    if (k !== bk) throw invalidArgument(`Cannot multiply A and B because inner dimension does not match: ${k} vs. ${bk}.  Did you forget a transpose?  Dimensions of A: [${ar}, ${ac}).  Dimensions of B: ${dbg(b.shape)}`);
    const idx = indicesT.numbers();
    const av = valuesT.values() as ArrayLike<number>;
    const bv = b.values() as ArrayLike<number>;
    const acc = new Float64Array(m * n);
    for (let z = 0; z < valuesT.size; z++) {
      const row = adjA ? idx[2 * z + 1] : idx[2 * z];
      const col = adjA ? idx[2 * z] : idx[2 * z + 1];
      if (row < 0 || row >= m) throw invalidArgument(`k (${m}) from index[${z},${adjA ? 1 : 0}] out of bounds (>=${m})`);
      if (col < 0 || col >= k) throw invalidArgument(`k (${k}) from index[${z},${adjA ? 0 : 1}] out of bounds (>=${k})`);
      const v = av[z];
      for (let j = 0; j < n; j++) acc[row * n + j] += v * bv[adjB ? j * bc + col : col * bc + j];
    }
    const out = allocHost(b.dtype, m * n) as Float32Array;
    out.set(acc);
    return [Tensor.fromHost(b.dtype, [m, n], out)];
  },
});

registerKernel({
  op: 'SparseReshape',
  outputs: [{ name: 'output_indices' }, { name: 'output_shape' }],
  kernel: (ctx) => {
    const [indicesT, shapeT, newShapeT] = ctx.inputs;
    const inShape = shapeT.numbers();
    const requested = newShapeT.numbers();
    const dense = sizeOf(inShape);
    let unknown = -1;
    let product = 1;
    requested.forEach((d, i) => {
      if (d === -1) {
        if (unknown !== -1) throw invalidArgument(`only one output dimension may be -1, not both ${unknown} and ${i}`);
        unknown = i;
      } else if (d < 0) {
        throw invalidArgument(`size ${i} must be non-negative, not ${d}`);
      } else {
        product *= d;
      }
    });
    const outShape = requested.slice();
    if (unknown !== -1) {
      if (product === 0 || dense % product !== 0) {
        throw invalidArgument(`Input to reshape is a SparseTensor with ${dense} dense values, but the requested shape requires a multiple of ${product}. inputs shape: ${dbg(inShape)} output shape: ${dbg(requested)}`);
      }
      outShape[unknown] = dense / product;
    }
    if (sizeOf(outShape) !== dense) {
      throw invalidArgument(`Input to reshape is a tensor with ${dense} dense values, but the requested shape has ${sizeOf(outShape)}. inputs shape: ${dbg(inShape)} output shape: ${dbg(requested)}`);
    }
    const rin = inShape.length;
    const rout = outShape.length;
    const n = indicesT.shape[0];
    const idx = indicesT.numbers();
    const out: number[] = new Array(n * rout);
    for (let z = 0; z < n; z++) {
      let flat = 0;
      for (let d = 0; d < rin; d++) flat = flat * inShape[d] + idx[z * rin + d];
      for (let d = rout - 1; d >= 0; d--) {
        out[z * rout + d] = flat % outShape[d];
        flat = Math.floor(flat / outShape[d]);
      }
    }
    return [int64([n, rout], out), int64([rout], outShape)];
  },
});

registerKernel({
  op: 'SparseFillEmptyRows',
  outputs: [{ name: 'output_indices' }, { name: 'output_values' }, { name: 'empty_row_indicator' }, { name: 'reverse_index_map' }],
  kernel: (ctx) => {
    const [indicesT, valuesT, shapeT, defaultT] = ctx.inputs;
    if (defaultT.rank !== 0) throw invalidArgument(`default_value must be a scalar, saw: ${dbg(defaultT.shape)}`);
    const shape = shapeT.numbers();
    if (shape.length === 0) throw invalidArgument('dense_shape must not be empty');
    const rank = shape.length;
    const rows = shape[0];
    const n = valuesT.size;
    const idx = indicesT.numbers();
    const byRow: number[][] = Array.from({ length: rows }, () => []);
    for (let z = 0; z < n; z++) {
      const r = idx[z * rank];
      if (r < 0 || r >= rows) throw invalidArgument(`indices(${z}, 0) is invalid: ${r} >= ${rows}`);
      byRow[r].push(z);
    }
    const outIdx: number[] = [];
    const src = valuesT.values() as ArrayLike<unknown>;
    const outVals: unknown[] = [];
    const empty = new Uint8Array(rows);
    const reverse: number[] = new Array(n);
    for (let r = 0; r < rows; r++) {
      if (byRow[r].length === 0) {
        empty[r] = 1;
        outIdx.push(r, ...new Array<number>(rank - 1).fill(0));
        outVals.push((defaultT.values() as ArrayLike<unknown>)[0]);
        continue;
      }
      for (const z of byRow[r]) {
        reverse[z] = outVals.length;
        for (let d = 0; d < rank; d++) outIdx.push(idx[z * rank + d]);
        outVals.push(src[z]);
      }
    }
    const values = allocHost(valuesT.dtype, outVals.length) as unknown[];
    outVals.forEach((v, i) => (values[i] = v));
    return [
      int64([outVals.length, rank], outIdx),
      Tensor.fromHost(valuesT.dtype, [outVals.length], values as never),
      Tensor.fromHost('bool', [rows], empty),
      int64([n], reverse),
    ];
  },
});
