/**
 * Counting kernels (tensorflow/core/kernels/bincount_op.cc, bucketize_op.cc):
 * Bincount, DenseBincount, RaggedBincount, SparseBincount and Bucketize, on
 * the host. Keras' CategoryEncoding, StringLookup/IntegerLookup multi-hot,
 * count and tf-idf modes and TextVectorization's row lengths run through them.
 * Counts accumulate in the output dtype's precision (float32 rounded after
 * every addition, as TF's CPU kernel does).
 */
import type { DType } from '../dtypes.js';
import { invalidArgument } from '../errors.js';
import { allocHost, Tensor } from '../tensor.js';
import { registerKernel } from './registry.js';

/** Output cells that counts (or weights) are added into, in the output dtype. */
class Bins {
  readonly data: Float32Array | Float64Array | Int32Array | BigInt64Array;
  constructor(
    readonly dtype: DType,
    readonly size: number,
  ) {
    this.data = allocHost(dtype, size) as Bins['data'];
  }
  add(cell: number, w: number | bigint): void {
    const d = this.data;
    if (d instanceof BigInt64Array) d[cell] += BigInt(w);
    else d[cell] += Number(w);
  }
  set(cell: number): void {
    const d = this.data;
    if (d instanceof BigInt64Array) d[cell] = 1n;
    else d[cell] = 1;
  }
  tensor(shape: number[]): Tensor {
    return Tensor.fromHost(this.dtype, shape, this.data);
  }
}

function binCount(size: Tensor): number {
  if (size.rank !== 0) throw invalidArgument(`Shape must be rank 0 but is rank ${size.rank}`);
  const n = size.numbers()[0];
  if (n < 0) throw invalidArgument(`size (${n}) must be non-negative`);
  return n;
}

/**
 * Adds each value of `values` (row `rowOf(i)`) into `bins` ([rows, size]),
 * skipping values >= size; weights (same count as values) or 1.
 */
function accumulate(bins: Bins, size: number, values: number[], rowOf: (i: number) => number, weights: Tensor, binary: boolean, negative: string): void {
  const w = weights.size > 0 ? (weights.values() as ArrayLike<number | bigint>) : undefined;
  if (w && weights.size !== values.length) throw invalidArgument('Input indices and weights must have the same size.');
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (v < 0) throw invalidArgument(negative);
    if (v >= size) continue;
    const cell = rowOf(i) * size + v;
    if (binary) bins.set(cell);
    else bins.add(cell, w ? w[i] : 1);
  }
}

registerKernel({
  op: 'Bincount',
  kernel: (ctx) => {
    const [arr, sizeT, weights] = ctx.inputs;
    const size = binCount(sizeT);
    const bins = new Bins(ctx.attrs.type('T'), size);
    accumulate(bins, size, arr.numbers(), () => 0, weights, false, 'Input arr must be non-negative!');
    return [bins.tensor([size])];
  },
});

registerKernel({
  op: 'DenseBincount',
  kernel: (ctx) => {
    const [data, sizeT, weights] = ctx.inputs;
    if (data.rank > 2) throw invalidArgument(`Shape must be at most rank 2 but is rank ${data.rank}`);
    const size = binCount(sizeT);
    const binary = ctx.attrs.bool('binary_output', false);
    const rows = data.rank === 2 ? data.shape[0] : 1;
    const cols = data.rank === 2 ? data.shape[1] : data.size;
    const bins = new Bins(ctx.attrs.type('T'), rows * size);
    accumulate(bins, size, data.numbers(), (i) => Math.floor(i / cols), weights, binary, 'Input arr must be non-negative!');
    return [bins.tensor(data.rank === 2 ? [rows, size] : [size])];
  },
});

registerKernel({
  op: 'RaggedBincount',
  kernel: (ctx) => {
    const [splitsT, valuesT, sizeT, weights] = ctx.inputs;
    const size = binCount(sizeT);
    const splits = splitsT.numbers();
    const values = valuesT.numbers();
    const rows = splits.length - 1;
    if (splits[0] !== 0) throw invalidArgument(`Splits must start with 0, not with ${splits[0]}`);
    if (splits[rows] !== values.length) {
      throw invalidArgument(`Splits must end with the number of values, got ${splits[rows]} instead of ${values.length}`);
    }
    const rowOf = new Int32Array(values.length);
    for (let r = 0; r < rows; r++) {
      if (splits[r + 1] < splits[r]) throw invalidArgument('Splits must be non-decreasing');
      rowOf.fill(r, splits[r], splits[r + 1]);
    }
    const bins = new Bins(ctx.attrs.type('T'), rows * size);
    accumulate(bins, size, values, (i) => rowOf[i], weights, ctx.attrs.bool('binary_output', false), 'Input must be non-negative');
    return [bins.tensor([rows, size])];
  },
});

registerKernel({
  op: 'SparseBincount',
  kernel: (ctx) => {
    const [indices, valuesT, denseShape, sizeT, weights] = ctx.inputs;
    const size = binCount(sizeT);
    const binary = ctx.attrs.bool('binary_output', false);
    const values = valuesT.numbers();
    if (denseShape.size === 1) {
      const bins = new Bins(ctx.attrs.type('T'), size);
      accumulate(bins, size, values, () => 0, weights, binary, 'Input arr must be non-negative!');
      return [bins.tensor([size])];
    }
    const rows = denseShape.numbers()[0];
    const idx = indices.numbers();
    const rank = indices.shape[1];
    const rowOf = (i: number) => {
      const batch = idx[i * rank];
      if (batch >= rows || batch < 0) throw invalidArgument(`Index out of bound. \`batch\` (${batch}) must be less than the dimension size (${rows}).`);
      return batch;
    };
    const bins = new Bins(ctx.attrs.type('T'), rows * size);
    accumulate(bins, size, values, rowOf, weights, binary, 'Input arr must be non-negative!');
    return [bins.tensor([rows, size])];
  },
});

registerKernel({
  op: 'Bucketize',
  kernel: (ctx) => {
    const input = ctx.inputs[0];
    const boundaries = ctx.attrs.floats('boundaries', []).map(Math.fround);
    for (let i = 1; i < boundaries.length; i++) {
      if (!(boundaries[i - 1] <= boundaries[i])) throw invalidArgument('Expected sorted boundaries');
    }
    const x = input.numbers();
    const out = allocHost('int32', x.length) as Int32Array;
    for (let i = 0; i < x.length; i++) {
      // upper_bound: the number of boundaries <= x.
      let lo = 0;
      let hi = boundaries.length;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if (x[i] < boundaries[mid]) hi = mid;
        else lo = mid + 1;
      }
      out[i] = lo;
    }
    return [Tensor.fromHost('int32', input.shape, out)];
  },
});
