/**
 * RaggedTensorToTensor (tensorflow/core/kernels/ragged_tensor_to_tensor_op.cc):
 * a ragged tensor, given as flat values and row partitions (FIRST_DIM_SIZE,
 * VALUE_ROWIDS or ROW_SPLITS per ragged dimension), padded into a dense one.
 * Output dimensions the `shape` input leaves unknown (-1, or an unknown-rank
 * shape) take the natural size (the longest row); known ones truncate or pad.
 */
import { invalidArgument } from '../../errors.js';
import { allocHost, sizeOf, Tensor } from '../../tensor.js';
import { registerKernel } from '../registry.js';

type PartitionType = 'FIRST_DIM_SIZE' | 'VALUE_ROWIDS' | 'ROW_SPLITS';

/** For each element of a partition level: its row (parent index) and its position in the row. */
interface Level {
  parent: Int32Array;
  position: Int32Array;
  /** Longest row. */
  width: number;
}

function fromSplits(splits: number[], nvals: number): Level {
  const parent = new Int32Array(nvals);
  const position = new Int32Array(nvals);
  let width = 0;
  if (splits.length === 0 || splits[0] !== 0) throw invalidArgument(`Invalid row_splits: must start with 0, got ${splits[0]}`);
  if (splits[splits.length - 1] !== nvals) {
    throw invalidArgument(`Invalid row_splits: last split (${splits[splits.length - 1]}) must equal the number of values (${nvals})`);
  }
  for (let r = 0; r + 1 < splits.length; r++) {
    const a = splits[r];
    const b = splits[r + 1];
    if (b < a) throw invalidArgument('Invalid row_splits: splits must be non-decreasing');
    width = Math.max(width, b - a);
    for (let j = a; j < b; j++) {
      parent[j] = r;
      position[j] = j - a;
    }
  }
  return { parent, position, width };
}

function fromRowIds(rowIds: number[], nrows: number): Level {
  const parent = Int32Array.from(rowIds);
  const position = new Int32Array(rowIds.length);
  let width = 0;
  for (let j = 0; j < rowIds.length; j++) {
    const r = rowIds[j];
    if (r < 0 || r >= nrows) throw invalidArgument(`Invalid value_rowids: ${r} is not in [0, ${nrows})`);
    if (j > 0 && r < rowIds[j - 1]) throw invalidArgument('Invalid value_rowids: must be sorted in ascending order');
    position[j] = j > 0 && rowIds[j - 1] === r ? position[j - 1] + 1 : 0;
    width = Math.max(width, position[j] + 1);
  }
  return { parent, position, width };
}

registerKernel({
  op: 'RaggedTensorToTensor',
  kernel: (ctx) => {
    const types = ctx.attrs.strings('row_partition_types') as PartitionType[];
    const [shapeT, values, defaultValue, ...partitions] = ctx.inputs;
    if (partitions.length !== types.length) throw invalidArgument(`Expected ${types.length} row partition tensors, got ${partitions.length}`);
    let first = 0;
    let nrows: number;
    if (types[0] === 'FIRST_DIM_SIZE') {
      nrows = partitions[0].numbers()[0];
      first = 1;
    } else if (types[0] === 'ROW_SPLITS') {
      nrows = partitions[0].size - 1;
    } else {
      throw invalidArgument(`Invalid first partition type ${types[0]}: expected FIRST_DIM_SIZE or ROW_SPLITS`);
    }
    // Levels from outermost to innermost; each level's elements are the next level's rows.
    const levels: Level[] = [];
    let rows = nrows;
    for (let k = first; k < types.length; k++) {
      const t = types[k];
      const ids = partitions[k].numbers();
      const nvals = k + 1 < types.length ? (types[k + 1] === 'ROW_SPLITS' ? partitions[k + 1].size - 1 : undefined) : values.shape[0];
      let level: Level;
      if (t === 'ROW_SPLITS') {
        if (ids.length !== rows + 1) throw invalidArgument(`Invalid row_splits: expected ${rows + 1} splits, got ${ids.length}`);
        level = fromSplits(ids, nvals ?? ids[ids.length - 1]);
      } else if (t === 'VALUE_ROWIDS') {
        level = fromRowIds(ids, rows);
        if (nvals !== undefined && ids.length !== nvals) throw invalidArgument(`Invalid value_rowids: ${ids.length} ids for ${nvals} values`);
      } else {
        throw invalidArgument(`Invalid partition type ${t} after the first dimension`);
      }
      levels.push(level);
      rows = level.parent.length;
    }
    const innerShape = values.shape.slice(1);
    const natural = [nrows, ...levels.map((l) => l.width), ...innerShape];
    const requested = shapeT.rank === 0 ? undefined : shapeT.numbers();
    if (requested && requested.length !== natural.length) {
      throw invalidArgument(`shape has rank ${requested.length}, but the ragged tensor has rank ${natural.length}`);
    }
    const outShape = natural.map((d, i) => (requested && requested[i] >= 0 ? requested[i] : d));
    for (let i = 1 + levels.length; i < outShape.length; i++) {
      if (outShape[i] !== natural[i]) throw invalidArgument(`shape dimension ${i} (${outShape[i]}) does not match the values' dimension (${natural[i]})`);
    }
    const inner = sizeOf(innerShape);
    const out = allocHost(values.dtype, sizeOf(outShape)) as unknown[];
    // Fill with the default, broadcast over the inner shape.
    const def = defaultValue.values() as ArrayLike<unknown>;
    if (defaultValue.size !== 1 && defaultValue.size !== inner) throw invalidArgument(`default_value of shape [${defaultValue.shape}] does not broadcast to [${innerShape}]`);
    for (let i = 0; i < out.length; i++) out[i] = def[defaultValue.size === 1 ? 0 : i % inner];
    // Output row of every element, level by level (-1: cut off by a smaller requested shape).
    let index = new Int32Array(nrows);
    for (let r = 0; r < nrows; r++) index[r] = r < outShape[0] ? r : -1;
    levels.forEach((level, k) => {
      const dim = outShape[k + 1];
      const next = new Int32Array(level.parent.length);
      for (let j = 0; j < next.length; j++) {
        const p = index[level.parent[j]];
        next[j] = p < 0 || level.position[j] >= dim ? -1 : p * dim + level.position[j];
      }
      index = next;
    });
    const src = values.values() as ArrayLike<unknown>;
    if (index.length !== values.shape[0] && levels.length > 0) throw invalidArgument(`The partitions describe ${index.length} values, but values has ${values.shape[0]}`);
    for (let j = 0; j < index.length; j++) {
      if (index[j] < 0) continue;
      for (let e = 0; e < inner; e++) out[index[j] * inner + e] = src[j * inner + e];
    }
    return [Tensor.fromHost(values.dtype, outShape, out as never)];
  },
});
