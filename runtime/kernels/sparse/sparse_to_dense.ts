/**
 * SparseToDense (tensorflow/core/kernels/sparse_to_dense_op.cc): a dense
 * tensor of `output_shape` holding `default_value`, with `sparse_values`
 * written at `sparse_indices` (checked in bounds, and with validate_indices
 * sorted and unique, as TF's SparseTensor::IndicesValid words it).
 */
import { invalidArgument } from '../../errors.js';
import { allocHost, sizeOf, Tensor } from '../../tensor.js';
import { makeShape } from '../array_util.js';
import { registerKernel } from '../registry.js';

const dbg = (s: readonly number[]) => `[${s.join(',')}]`;

registerKernel({
  op: 'SparseToDense',
  kernel: (ctx) => {
    const [indicesT, shapeT, valuesT, defaultT] = ctx.inputs;
    if (indicesT.rank > 2) throw invalidArgument(`sparse_indices should be a scalar, vector, or matrix, got shape ${dbg(indicesT.shape)}`);
    if (shapeT.rank !== 1) throw invalidArgument(`output_shape must be rank 1, got shape ${dbg(shapeT.shape)}`);
    if (valuesT.rank > 1) throw invalidArgument(`sparse_values should be a scalar or a vector, got shape ${dbg(valuesT.shape)}`);
    if (defaultT.rank !== 0) throw invalidArgument(`default_value should be a scalar, got shape ${dbg(defaultT.shape)}`);
    const shape = makeShape(shapeT, valuesT.dtype);
    const rank = shape.length;
    const n = indicesT.rank === 0 ? 1 : indicesT.shape[0];
    const perIndex = indicesT.rank === 2 ? indicesT.shape[1] : 1;
    if (perIndex !== rank) {
      throw invalidArgument(`sparse_indices should have ${rank} columns (the rank of output_shape), got ${perIndex}`);
    }
    if (valuesT.rank === 1 && valuesT.size !== n) {
      throw invalidArgument(`sparse_values has incorrect shape ${dbg(valuesT.shape)}, should be [] or [${n}]`);
    }
    const idx = indicesT.numbers();
    const strides = new Array<number>(rank).fill(1);
    for (let d = rank - 2; d >= 0; d--) strides[d] = strides[d + 1] * shape[d + 1];
    const out = allocHost(valuesT.dtype, sizeOf(shape)) as unknown[];
    const def = (defaultT.values() as ArrayLike<unknown>)[0];
    for (let i = 0; i < out.length; i++) out[i] = def;
    const vals = valuesT.values() as ArrayLike<unknown>;
    const validate = ctx.attrs.bool('validate_indices', true);
    let prev = -1;
    for (let i = 0; i < n; i++) {
      const at = idx.slice(i * rank, (i + 1) * rank);
      let flat = 0;
      for (let d = 0; d < rank; d++) {
        if (at[d] < 0 || at[d] >= shape[d]) throw invalidArgument(`indices[${i}] = ${dbg(at)} is out of bounds: need 0 <= index < ${dbg(shape)}`);
        flat += at[d] * strides[d];
      }
      if (validate && i > 0) {
        if (flat < prev) {
          throw invalidArgument(`indices[${i}] = ${dbg(at)} is out of order. Many sparse ops require sorted indices.\n    Use \`tf.sparse.reorder\` to create a correctly ordered copy.\n\n`);
        }
        if (flat === prev) throw invalidArgument(`indices[${i}] = ${dbg(at)} is repeated`);
      }
      prev = flat;
      out[flat] = vals[valuesT.rank === 0 ? 0 : i];
    }
    return [Tensor.fromHost(valuesT.dtype, shape, out as never)];
  },
});
