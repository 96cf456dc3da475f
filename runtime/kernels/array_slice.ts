/**
 * Slicing: StridedSlice (begin/end/ellipsis/new_axis/shrink_axis masks,
 * negative strides, int32/int64/int16 indices) and Slice.
 *
 * `stridedSliceSpec` is TF's ValidateStridedSliceOp
 * (tensorflow/core/util/strided_slice_op.cc) transcribed: it turns the sparse
 * spec into one dense (begin, end, stride) per input dimension, the
 * "processing" shape the slice produces, and the final shape after new axes
 * are inserted and shrunk axes dropped. Unit-stride slices of backend
 * tensors are copied on the backend (dispatch.sliceOnBackend); everything
 * else is an index map (any dtype).
 */
import { invalidArgument } from '../errors.js';
import { sizeOf, Tensor, type HostData, type Shape } from '../tensor.js';
import { affineOffsets, composeMap, dbg, emptyTensor, preferTf, readInts, takeFlat } from './array_util.js';
import { sliceOnBackend, smallHostMath } from './dispatch.js';
import { registerKernel } from './registry.js';

export interface StridedSliceMasks {
  beginMask: number;
  endMask: number;
  ellipsisMask: number;
  newAxisMask: number;
  shrinkAxisMask: number;
}

export interface StridedSliceSpec {
  /** Dense canonical begin / end / stride per input dimension. */
  begin: number[];
  end: number[];
  strides: number[];
  processingShape: number[];
  finalShape: number[];
  isIdentity: boolean;
  isSimpleSlice: boolean;
}

const NEW_AXIS = -2;
const SHRINK_AXIS = -1;

/** TF's ValidateStridedSliceOp for a fully known input shape. */
export function stridedSliceSpec(
  inputShape: Shape,
  beginT: Tensor,
  endT: Tensor,
  stridesT: Tensor,
  masks: StridedSliceMasks,
): StridedSliceSpec {
  const n = stridesT.size;
  const beginWrong = !(beginT.rank === 1 && beginT.size === n && beginT.size < 32);
  const endWrong = !(endT.rank === 1 && endT.size === n);
  if (beginWrong || endWrong || stridesT.rank !== 1) {
    throw invalidArgument(
      `Expected begin, end, and strides to be 1D equal size tensors, but got shapes ${dbg(beginT.shape)}, ${dbg(endT.shape)}, and ${dbg(stridesT.shape)} instead.`,
    );
  }
  const { ellipsisMask, newAxisMask } = masks;
  if (ellipsisMask && (ellipsisMask & (ellipsisMask - 1)) !== 0) {
    throw invalidArgument('Multiple ellipses in slice spec not allowed');
  }
  const sBegin = readInts(beginT, 'begin');
  const sEnd = readInts(endT, 'end');
  const sStrides = readInts(stridesT, 'strides');

  // Step 1: count new axes after the ellipsis; add an implicit trailing ellipsis.
  let sparseDims = n;
  let sparseEllipsis = ellipsisMask;
  let numAddAxisAfterEllipsis = 0;
  let ellipsisSeen = false;
  for (let i = 0; i < sparseDims; i++) {
    if (ellipsisSeen && ((1 << i) & newAxisMask) !== 0) numAddAxisAfterEllipsis++;
    if ((1 << i) & ellipsisMask) ellipsisSeen = true;
  }
  if (!ellipsisSeen) {
    sparseEllipsis |= 1 << sparseDims;
    sparseDims++;
  }

  // Step 2: sparse spec -> dense spec over the input dimensions.
  const dims = inputShape.length;
  const begin = new Array<number>(dims).fill(0);
  const end = new Array<number>(dims).fill(0);
  const strides = new Array<number>(dims).fill(1);
  let denseBeginMask = 0;
  let denseEndMask = 0;
  let denseShrinkMask = 0;
  const finalGather: number[] = [];
  let full = 0;
  for (let i = 0; i < sparseDims; i++) {
    if ((1 << i) & sparseEllipsis) {
      const next = Math.min(dims - (sparseDims - i) + 1 + numAddAxisAfterEllipsis, dims);
      for (; full < next; full++) {
        begin[full] = 0;
        end[full] = 0;
        strides[full] = 1;
        denseBeginMask |= 1 << full;
        denseEndMask |= 1 << full;
        finalGather.push(full);
      }
    } else if ((1 << i) & newAxisMask) {
      finalGather.push(NEW_AXIS);
    } else {
      if (full === dims) {
        throw invalidArgument(`Index out of range using input dim ${full}; input has only ${dims} dims`);
      }
      begin[full] = sBegin[i];
      end[full] = sEnd[i];
      strides[full] = sStrides[i];
      if (masks.beginMask & (1 << i)) denseBeginMask |= 1 << full;
      if (masks.endMask & (1 << i)) denseEndMask |= 1 << full;
      if (masks.shrinkAxisMask & (1 << i)) {
        finalGather.push(SHRINK_AXIS);
        denseShrinkMask |= 1 << full;
      } else {
        finalGather.push(full);
      }
      full++;
    }
  }

  // Step 3: canonicalize and bounds-check each dimension.
  let isIdentity = true;
  let isSimpleSlice = true;
  const processingShape: number[] = [];
  for (let i = 0; i < dims; i++) {
    const stride = strides[i];
    const dim = inputShape[i];
    if (stride === 0) throw invalidArgument(`strides[${i}] must be non-zero`);
    const shrink = (denseShrinkMask & (1 << i)) !== 0;
    const bMasked = (denseBeginMask & (1 << i)) !== 0;
    const eMasked = (denseEndMask & (1 << i)) !== 0;
    const validRange = [stride > 0 ? 0 : -1, stride > 0 ? dim : dim - 1];
    const canonical = (x: number, c: 0 | 1): number => {
      if (c === 0 ? bMasked : eMasked) return stride > 0 ? validRange[c] : validRange[(c + 1) & 1];
      const fwd = x < 0 ? dim + x : x;
      return fwd < validRange[0] ? validRange[0] : fwd > validRange[1] ? validRange[1] : fwd;
    };
    if (shrink && stride <= 0) throw invalidArgument('only stride 1 allowed on non-range indexing.');
    isSimpleSlice = isSimpleSlice && stride === 1;
    if (shrink) {
      const fwd = begin[i] < 0 ? dim + begin[i] : begin[i];
      begin[i] = fwd;
      end[i] = fwd + 1;
      if (fwd < 0 || fwd >= dim) throw invalidArgument(`slice index ${fwd} of dimension ${i} out of bounds.`);
    } else {
      begin[i] = canonical(begin[i], 0);
      end[i] = canonical(end[i], 1);
    }
    isIdentity = isIdentity && stride === 1 && begin[i] === 0 && end[i] === dim;
    const interval = end[i] - begin[i];
    let size: number;
    if (interval === 0 || interval < 0 !== stride < 0) size = 0;
    else size = Math.trunc(interval / stride) + (interval % stride !== 0 ? 1 : 0);
    processingShape.push(size);
  }

  // Step 4: final shape (new axes add a 1, shrunk axes disappear).
  const finalShape: number[] = [];
  for (const g of finalGather) {
    if (g >= 0) finalShape.push(processingShape[g]);
    else if (g === NEW_AXIS) finalShape.push(1);
  }
  return { begin, end, strides, processingShape, finalShape, isIdentity, isSimpleSlice };
}

/** Extracts the box begin[d] + i*strides[d], i < sizes[d], then reshapes to finalShape. */
function sliceBox(x: Tensor, begin: number[], strides: number[], sizes: number[], finalShape: Shape): Tensor {
  if (sizes.some((s) => s === 0)) return emptyTensor(x.dtype, finalShape);
  if (strides.every((s) => s === 1) && preferTf(x) && !(x.isOnHost && smallHostMath(x.size))) return Tensor.fromTf(sliceOnBackend(x.toTf(), begin, sizes, finalShape), x.dtype);
  const run = strides.every((s) => s === 1) ? contiguousRun(x.shape, begin, sizes) : undefined;
  if (run !== undefined && x.dtype !== 'complex64' && x.dtype !== 'complex128') {
    const v = x.values();
    const n = sizeOf(sizes);
    // One contiguous block of a typed array: a view (tensors are never written in place),
    // or a copy when the view would keep a much larger buffer alive.
    if (!Array.isArray(v)) {
      const block = x.size <= 16384 || x.size <= 4 * n ? (v as Float32Array).subarray(run, run + n) : (v as Float32Array).slice(run, run + n);
      return Tensor.fromHost(x.dtype, finalShape, block as HostData);
    }
  }
  const map = composeMap(sizes, affineOffsets(x.shape, sizes, begin, strides));
  return takeFlat(x, finalShape, map);
}

/** The flat start of a unit-stride box when its elements are one contiguous block of `shape`; else undefined. */
function contiguousRun(shape: Shape, begin: readonly number[], sizes: readonly number[]): number | undefined {
  // Whole trailing dims, then one partial dim, then dims of size 1.
  let d = shape.length - 1;
  while (d > 0 && begin[d] === 0 && sizes[d] === shape[d]) d--;
  for (let i = 0; i < d; i++) if (sizes[i] !== 1) return undefined;
  let start = 0;
  let stride = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    start += begin[i] * stride;
    stride *= shape[i];
  }
  return start;
}

registerKernel({
  op: 'StridedSlice',
  kernel: (ctx) => {
    const [x, beginT, endT, stridesT] = ctx.inputs;
    const masks: StridedSliceMasks = {
      beginMask: ctx.attrs.int('begin_mask', 0),
      endMask: ctx.attrs.int('end_mask', 0),
      ellipsisMask: ctx.attrs.int('ellipsis_mask', 0),
      newAxisMask: ctx.attrs.int('new_axis_mask', 0),
      shrinkAxisMask: ctx.attrs.int('shrink_axis_mask', 0),
    };
    const spec = stridedSliceSpec(x.shape, beginT, endT, stridesT, masks);
    if (spec.isIdentity) return [x.reshape(spec.finalShape)];
    return [sliceBox(x, spec.begin, spec.strides, spec.processingShape, spec.finalShape)];
  },
});

registerKernel({
  op: 'Slice',
  kernel: (ctx) => {
    const [x, beginT, sizeT] = ctx.inputs;
    const rank = x.rank;
    if (!(beginT.rank === 1 && sizeT.rank === 1 && beginT.size === rank && sizeT.size === rank)) {
      throw invalidArgument(
        `Expected begin and size arguments to be 1-D tensors of size ${rank}, but got shapes ${dbg(beginT.shape)} and ${dbg(sizeT.shape)} instead.`,
      );
    }
    const begin = readInts(beginT, 'begin');
    const size = readInts(sizeT, 'size');
    let isIdentity = true;
    for (let i = 0; i < rank; i++) {
      const dim = x.shape[i];
      if (size[i] === -1) size[i] = dim - begin[i];
      const b = begin[i];
      const s = size[i];
      if (dim === 0) {
        if (!(b === 0 && s === 0)) {
          throw invalidArgument(
            `Expected begin[${i}] == 0 (got ${b}) and size[${i}] == 0 (got ${s}) when input.dim_size(${i}) == 0`,
          );
        }
      } else {
        if (!(b >= 0 && b <= dim)) throw invalidArgument(`Expected begin[${i}] in [0, ${dim}], but got ${b}`);
        if (!(s >= 0 && b + s <= dim)) throw invalidArgument(`Expected size[${i}] in [0, ${dim - b}], but got ${s}`);
      }
      isIdentity = isIdentity && b === 0 && s === dim;
    }
    if (isIdentity) return [x];
    return [sliceBox(x, begin, new Array<number>(rank).fill(1), size, size)];
  },
});
