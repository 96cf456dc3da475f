/**
 * Gathering by index: GatherV2 (axis, batch_dims), Gather, GatherNd.
 * Indices (int32 or int64, any shape) are validated on the host with
 * gather_op.cc / gather_nd_op.cc wording ("indices[1,0] = 5 is not in
 * [0, 3)"), then rows are copied within the backend's memory for numeric
 * params (dispatch.ts gatherOnBackend), or on the host for every other dtype (strings, int64 beyond
 * int32, float64, resources...).
 */
import { invalidArgument } from '../errors.js';
import { checkTensorSize } from '../limits.js';
import { type HostData, Tensor } from '../tensor.js';
import { dbg, emptyTensor, isIndexType, preferTf, readInts, sliceDebugString, stridesOf, takeFlat } from './array_util.js';
import { gatherOnBackend } from './dispatch.js';
import { registerKernel } from './registry.js';

function product(dims: readonly number[]): number {
  let p = 1;
  for (const d of dims) p *= d;
  return p;
}

/** The raw index element as TF prints it (exact for int64). */
function rawIndex(raw: HostData, i: number): string {
  return String((raw as ArrayLike<number | bigint>)[i]);
}

function gather(params: Tensor, indices: Tensor, axisT: Tensor | undefined, batchDimsAttr: number): Tensor {
  if (params.rank < 1) throw invalidArgument('params must be at least 1 dimensional');
  if (!isIndexType(indices.dtype)) throw invalidArgument('indices must be int32 or int64.');
  let axis = 0;
  const axisIsSet = axisT !== undefined;
  if (axisT) {
    if (axisT.rank !== 0) throw invalidArgument('axis must be scalar');
    if (axisT.dtype !== 'int32' && axisT.dtype !== 'int64') throw invalidArgument('axis must be int32 or int64.');
    axis = readInts(axisT, 'axis')[0];
  }
  const minParamsDim = axis < 0 ? -axis : axis + 1;
  if (params.rank < minParamsDim) {
    throw invalidArgument(`Shape must be at least rank ${minParamsDim} but is rank ${params.rank}`);
  }
  if (axis < 0) axis += params.rank;
  let batchDims = batchDimsAttr;
  if (batchDims !== 0) {
    if (batchDims < -indices.rank || batchDims > indices.rank) {
      throw invalidArgument(`Expected batch_dims in the range [${-indices.rank}, ${indices.rank}], but got ${batchDims}`);
    }
    if (batchDims < 0) batchDims += indices.rank;
    if (!axisIsSet) axis = batchDims;
    if (batchDims >= params.rank) {
      throw invalidArgument(`batch_dims (${batchDims}) must be less than rank(params) (${params.rank}).`);
    }
    if (axis < batchDims) {
      throw invalidArgument(`batch_dims (${batchDims}) must be less than or equal to axis (${axis}).`);
    }
    for (let i = 0; i < batchDims; i++) {
      if (params.shape[i] !== indices.shape[i]) {
        throw invalidArgument(
          `params.shape[${i}]: ${params.shape[i]} should be equal to indices.shape[${i}]: ${indices.shape[i]}`,
        );
      }
    }
  }
  const gatherDim = params.shape[axis];
  const batch = product(params.shape.slice(0, batchDims));
  const outer = product(params.shape.slice(batchDims, axis));
  const inner = product(params.shape.slice(axis + 1));
  const outShape = [
    ...params.shape.slice(0, axis),
    ...indices.shape.slice(batchDims),
    ...params.shape.slice(axis + 1),
  ];
  const n = indices.size;
  checkTensorSize(outShape, params.dtype); // few indices into a wide params make a large output
  if (n === 0 || inner === 0 || product(outShape) === 0) return emptyTensor(params.dtype, outShape);

  const raw = indices.values();
  const idx = readInts(indices, 'indices');
  for (let i = 0; i < n; i++) {
    const v = idx[i];
    if (!(v >= 0 && v < gatherDim)) {
      throw invalidArgument(`indices${sliceDebugString(indices.shape, i)} = ${rawIndex(raw, i)} is not in [0, ${gatherDim})`);
    }
  }

  if (preferTf(params)) {
    return Tensor.fromTf(gatherOnBackend(params.toTf(), Int32Array.from(idx), batch, outer, gatherDim, inner, outShape), params.dtype);
  }
  // Host: out[b, o, j, i] = params[b, o, idx[b, j], i]
  const perBatch = n / batch;
  const map = new Int32Array(product(outShape));
  let k = 0;
  for (let b = 0; b < batch; b++) {
    for (let o = 0; o < outer; o++) {
      const base = (b * outer + o) * gatherDim;
      for (let j = 0; j < perBatch; j++) {
        const start = (base + idx[b * perBatch + j]) * inner;
        for (let e = 0; e < inner; e++) map[k++] = start + e;
      }
    }
  }
  return takeFlat(params, outShape, map);
}

registerKernel({
  op: 'GatherV2',
  kernel: (ctx) => [gather(ctx.inputs[0], ctx.inputs[1], ctx.inputs[2], ctx.attrs.int('batch_dims', 0))],
});

registerKernel({
  op: 'Gather',
  kernel: (ctx) => [gather(ctx.inputs[0], ctx.inputs[1], undefined, 0)],
});

registerKernel({
  op: 'GatherNd',
  kernel: (ctx) => {
    const [params, indices] = ctx.inputs;
    if (params.rank < 1) throw invalidArgument('params must be at least a vector');
    if (indices.rank < 1) throw invalidArgument('indices must be at least a vector');
    if (!isIndexType(indices.dtype)) throw invalidArgument('indices must be int32 or int64.');
    const nd = indices.shape[indices.rank - 1];
    if (nd > params.rank) {
      throw invalidArgument(`index innermost dimension length must be <= params rank; saw: ${nd} vs. ${params.rank}`);
    }
    const prefix = indices.shape.slice(0, -1);
    const outShape = [...prefix, ...params.shape.slice(nd)];
    const nResult = product(prefix);
    const sliceSize = product(params.shape.slice(nd));
    if (nResult > 0 && params.size === 0) {
      throw invalidArgument(`Requested more than 0 entries, but params is empty.  Params shape: ${dbg(params.shape)}`);
    }
    checkTensorSize(outShape, params.dtype);
    if (product(outShape) === 0) return [emptyTensor(params.dtype, outShape)];
    const idx = readInts(indices, 'indices');
    const raw = indices.values();
    const pStrides = stridesOf(params.shape);
    const map = new Int32Array(nResult * sliceSize);
    let k = 0;
    for (let i = 0; i < nResult; i++) {
      let offset = 0;
      for (let j = 0; j < nd; j++) {
        const v = idx[i * nd + j];
        if (!(v >= 0 && v < params.shape[j])) {
          const shown: string[] = [];
          for (let q = 0; q < nd; q++) shown.push(rawIndex(raw, i * nd + q));
          throw invalidArgument(
            `indices${sliceDebugString(prefix, i)} = [${shown.join(', ')}] does not index into param shape ${dbg(params.shape)}, node name: ${ctx.node.name}`,
          );
        }
        offset += v * pStrides[j];
      }
      for (let e = 0; e < sliceSize; e++) map[k++] = offset + e;
    }
    return [takeFlat(params, outShape, map)];
  },
});

