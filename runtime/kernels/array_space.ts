/**
 * Block and sequence rearrangements: SpaceToBatchND, BatchToSpaceND,
 * DepthToSpace, SpaceToDepth (NHWC), ReverseSequence and Roll.
 * Semantics and error texts follow spacetobatch_op.cc, batchtospace_op.cc,
 * depthtospace_op.cc, spacetodepth_op.cc, reverse_sequence_op.cc and
 * roll_op.cc. Each kernel computes an index map, so every dtype works and
 * backend tensors stay on the backend (one gather).
 */
import { invalidArgument, unimplemented } from '../errors.js';
import { checkTensorSize } from '../limits.js';
import { sizeOf, type Tensor, type Shape } from '../tensor.js';
import { composeMap, dbg, emptyTensor, readInts, stridesOf, takeFlat } from './array_util.js';
import { registerKernel, type KernelContext } from './registry.js';

/** Index map over `outShape` where fn(multiIndex) gives the source flat index (-1: zero fill). */
function mapFromIndex(outShape: Shape, fn: (idx: number[]) => number): Int32Array {
  const n = sizeOf(outShape);
  const map = new Int32Array(n);
  const idx = new Array<number>(outShape.length).fill(0);
  for (let k = 0; k < n; k++) {
    map[k] = fn(idx);
    for (let d = outShape.length - 1; d >= 0; d--) {
      if (++idx[d] < outShape[d]) break;
      idx[d] = 0;
    }
  }
  return map;
}

interface BlockSpec {
  block: number[];
  pads: number[]; // [start0, end0, start1, end1, ...]
}

function readBlockSpec(x: Tensor, blockT: Tensor, padT: Tensor, padName: 'paddings' | 'crops'): BlockSpec {
  if (blockT.rank !== 1) throw invalidArgument(`block_shape rank should be 1 instead of ${blockT.rank}`);
  const m = blockT.shape[0];
  if (x.rank < 1 + m) throw invalidArgument(`input rank should be >= ${1 + m} instead of ${x.rank}`);
  if (!(padT.rank === 2 && padT.shape[0] === m && padT.shape[1] === 2)) {
    throw invalidArgument(`${padName} should have shape [${m}, 2] instead of ${dbg(padT.shape)}`);
  }
  const block = readInts(blockT, 'block_shape');
  block.forEach((b, i) => {
    if (b < 1) throw invalidArgument(`All values in block_shape must be positive, got value, ${b} at index ${i}.`);
  });
  return { block, pads: readInts(padT, padName) };
}

registerKernel({
  op: 'SpaceToBatchND',
  kernel: (ctx) => {
    const [x, blockT, padT] = ctx.inputs;
    const { block, pads } = readBlockSpec(x, blockT, padT, 'paddings');
    const m = block.length;
    const blocks = block.reduce((a, b) => a * b, 1);
    const batch = x.shape[0];
    const outShape = [batch * blocks];
    for (let k = 0; k < m; k++) {
      const [ps, pe] = [pads[2 * k], pads[2 * k + 1]];
      if (ps < 0 || pe < 0) throw invalidArgument('Paddings must be non-negative');
      const padded = x.shape[k + 1] + ps + pe;
      if (padded % block[k] !== 0) {
        throw invalidArgument(`padded_shape[${k}]=${padded} is not divisible by block_shape[${k}]=${block[k]}`);
      }
      outShape.push(padded / block[k]);
    }
    outShape.push(...x.shape.slice(m + 1));
    checkTensorSize(outShape, x.dtype);
    if (sizeOf(outShape) === 0) return [emptyTensor(x.dtype, outShape)];
    const st = stridesOf(x.shape);
    const map = mapFromIndex(outShape, (idx) => {
      // out batch = (block offsets, major) * batch + n
      let ob = idx[0];
      const n = ob % batch;
      ob = Math.floor(ob / batch);
      let src = n * st[0];
      for (let k = m - 1; k >= 0; k--) {
        const off = ob % block[k];
        ob = Math.floor(ob / block[k]);
        const s = idx[k + 1] * block[k] + off - pads[2 * k];
        if (s < 0 || s >= x.shape[k + 1]) return -1;
        src += s * st[k + 1];
      }
      for (let d = m + 1; d < x.rank; d++) src += idx[d] * st[d];
      return src;
    });
    return [takeFlat(x, outShape, map)];
  },
});

registerKernel({
  op: 'BatchToSpaceND',
  kernel: (ctx) => {
    const [x, blockT, cropT] = ctx.inputs;
    const { block, pads: crops } = readBlockSpec(x, blockT, cropT, 'crops');
    const m = block.length;
    const blocks = block.reduce((a, b) => a * b, 1);
    if (x.shape[0] % blocks !== 0) {
      throw invalidArgument(
        `Input batch dimension (${x.shape[0]}) is not divisible by product of block sizes (${blocks})`,
      );
    }
    const batch = x.shape[0] / blocks;
    const outShape = [batch];
    for (let k = 0; k < m; k++) {
      const [cs, ce] = [crops[2 * k], crops[2 * k + 1]];
      if (cs < 0 || ce < 0) throw invalidArgument('Crops must be non-negative');
      const size = x.shape[k + 1] * block[k] - cs - ce;
      if (size < 0) throw invalidArgument(`cropped_shape[${k}]=${size} must be non-negative`);
      outShape.push(size);
    }
    outShape.push(...x.shape.slice(m + 1));
    checkTensorSize(outShape, x.dtype);
    if (sizeOf(outShape) === 0) return [emptyTensor(x.dtype, outShape)];
    const st = stridesOf(x.shape);
    const map = mapFromIndex(outShape, (idx) => {
      let blockIndex = 0;
      let src = 0;
      for (let k = 0; k < m; k++) {
        const p = idx[k + 1] + crops[2 * k];
        blockIndex = blockIndex * block[k] + (p % block[k]);
        src += Math.floor(p / block[k]) * st[k + 1];
      }
      src += (blockIndex * batch + idx[0]) * st[0];
      for (let d = m + 1; d < x.rank; d++) src += idx[d] * st[d];
      return src;
    });
    return [takeFlat(x, outShape, map)];
  },
});

function checkNhwc(ctx: KernelContext, op: string): void {
  const format = ctx.attrs.string('data_format', 'NHWC');
  if (format !== 'NHWC') throw unimplemented(`${op} supports data_format NHWC only, got ${format}`);
}

registerKernel({
  op: 'DepthToSpace',
  kernel: (ctx) => {
    const x = ctx.inputs[0];
    checkNhwc(ctx, 'DepthToSpace');
    const bs = ctx.attrs.int('block_size');
    if (x.rank !== 4) throw invalidArgument(`Input rank should be: 4 instead of: ${x.rank}`);
    const [b, h, w, c] = x.shape;
    if (c % (bs * bs) !== 0) throw invalidArgument(`Input depth dimension ${c} should be divisible by: ${bs * bs}`);
    const oc = c / (bs * bs);
    const outShape = [b, h * bs, w * bs, oc];
    checkTensorSize(outShape, x.dtype);
    if (sizeOf(outShape) === 0) return [emptyTensor(x.dtype, outShape)];
    const st = stridesOf(x.shape);
    const map = mapFromIndex(outShape, ([n, y, xx, ch]) => {
      const dh = y % bs;
      const dw = xx % bs;
      return n * st[0] + Math.floor(y / bs) * st[1] + Math.floor(xx / bs) * st[2] + (dh * bs + dw) * oc + ch;
    });
    return [takeFlat(x, outShape, map)];
  },
});

registerKernel({
  op: 'SpaceToDepth',
  kernel: (ctx) => {
    const x = ctx.inputs[0];
    checkNhwc(ctx, 'SpaceToDepth');
    const bs = ctx.attrs.int('block_size');
    if (x.rank !== 4) throw invalidArgument(`Input rank should be 4 instead of ${x.rank}`);
    const [b, h, w, c] = x.shape;
    if (w % bs !== 0 || h % bs !== 0) {
      throw invalidArgument(`Image width ${w} and height ${h} should be divisible by block_size: ${bs}`);
    }
    const outShape = [b, h / bs, w / bs, c * bs * bs];
    checkTensorSize(outShape, x.dtype);
    if (sizeOf(outShape) === 0) return [emptyTensor(x.dtype, outShape)];
    const st = stridesOf(x.shape);
    const map = mapFromIndex(outShape, ([n, y, xx, ch]) => {
      const block = Math.floor(ch / c);
      const dh = Math.floor(block / bs);
      const dw = block % bs;
      return n * st[0] + (y * bs + dh) * st[1] + (xx * bs + dw) * st[2] + (ch % c);
    });
    return [takeFlat(x, outShape, map)];
  },
});

registerKernel({
  op: 'ReverseSequence',
  kernel: (ctx) => {
    const [x, lensT] = ctx.inputs;
    const seqDim = ctx.attrs.int('seq_dim');
    const batchDim = ctx.attrs.int('batch_dim', 0);
    if (batchDim === seqDim) throw invalidArgument(`batch_dim == seq_dim == ${seqDim}`);
    if (seqDim >= x.rank) throw invalidArgument(`seq_dim must be < input rank ( ${seqDim} vs. ${x.rank})`);
    if (batchDim >= x.rank) throw invalidArgument(`batch_dim must be < input rank ( ${batchDim} vs. ${x.rank})`);
    const lens = readInts(lensT, 'seq_lengths');
    if (lens.length !== x.shape[batchDim]) {
      throw invalidArgument(
        `Length of seq_lengths != input.dims(${batchDim}), (${lens.length} vs. ${x.shape[batchDim]})`,
      );
    }
    lens.forEach((l, d) => {
      if (l < 0) throw invalidArgument(`seq_lens(${d}) < 0`);
      if (l > x.shape[seqDim]) throw invalidArgument(`seq_lens(${d}) > input.dims(${seqDim})`);
    });
    if (x.size === 0) return [x];
    const st = stridesOf(x.shape);
    const map = mapFromIndex(x.shape, (idx) => {
      let src = 0;
      const len = lens[idx[batchDim]];
      for (let d = 0; d < idx.length; d++) {
        const i = d === seqDim && idx[d] < len ? len - 1 - idx[d] : idx[d];
        src += i * st[d];
      }
      return src;
    });
    return [takeFlat(x, x.shape, map)];
  },
});

registerKernel({
  op: 'Roll',
  kernel: (ctx) => {
    const [x, shiftT, axisT] = ctx.inputs;
    if (x.rank < 1) throw invalidArgument('input must be 1-D or higher');
    if (shiftT.rank > 1) throw invalidArgument(`shift must be a scalar or a 1-D vector. Found: ${dbg(shiftT.shape)}`);
    if (axisT.rank > 1) throw invalidArgument(`axis must be a scalar or a 1-D vector. Found: ${dbg(axisT.shape)}`);
    if (shiftT.rank !== axisT.rank || shiftT.size !== axisT.size) {
      throw invalidArgument('shift and axis must have the same size');
    }
    const shifts = readInts(shiftT, 'shift');
    const axes = readInts(axisT, 'axis');
    const total = new Array<number>(x.rank).fill(0);
    axes.forEach((a, i) => {
      const axis = a < 0 ? a + x.rank : a;
      if (!(axis >= 0 && axis < x.rank)) throw invalidArgument(`axis ${a} is out of range`);
      total[axis] += shifts[i];
    });
    if (x.size === 0 || total.every((s, d) => s % x.shape[d] === 0)) return [x];
    const st = stridesOf(x.shape);
    const offsets = x.shape.map((len, d) => {
      const o = new Int32Array(len);
      const s = ((total[d] % len) + len) % len;
      for (let i = 0; i < len; i++) o[i] = ((i - s + len) % len) * st[d];
      return o;
    });
    return [takeFlat(x, x.shape, composeMap(x.shape, offsets))];
  },
});
