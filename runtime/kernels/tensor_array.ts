/**
 * TensorArrayV3 and its ops (tensorflow/core/kernels/tensor_array_ops.cc), as
 * TF1 graphs use them (dynamic_rnn, while loops that collect per-step
 * results). A TensorArray is a resource holding one tensor per index,
 * written in place; the float "flow" tensors the ops pass along only order
 * them. Elements live for the run that created the array.
 */
import type { DType } from '../dtypes.js';
import { dtypeShortName } from '../dtypes.js';
import { invalidArgument } from '../errors.js';
import type { TensorShape } from '../graph/types.js';
import { allocHost, shapeString, sizeOf, Tensor } from '../tensor.js';
import { retainBeyondIteration } from './loop_scope.js';
import { registerKernel, type KernelContext } from './registry.js';

class TensorArray {
  readonly items: (Tensor | undefined)[];
  private readonly cleared = new Set<number>();
  closed = false;

  constructor(
    readonly dtype: DType,
    size: number,
    readonly dynamic: boolean,
    readonly clearAfterRead: boolean,
    /** Declared element shape; undefined when unknown. */
    readonly elementShape: readonly number[] | undefined,
  ) {
    this.items = new Array(size).fill(undefined);
  }

  write(index: number, value: Tensor): void {
    if (value.dtype !== this.dtype) {
      throw invalidArgument(`TensorArray dtype is ${dtypeShortName(this.dtype)} but Op is trying to write dtype ${dtypeShortName(value.dtype)}.`);
    }
    if (index < 0) throw invalidArgument(`Tried to write to index ${index} but array size is: ${this.items.length}`);
    if (index >= this.items.length) {
      if (!this.dynamic) throw invalidArgument(`Tried to write to index ${index} but array is not resizeable and size is: ${this.items.length}`);
      while (this.items.length <= index) this.items.push(undefined);
    }
    if (this.items[index] !== undefined || this.cleared.has(index)) {
      throw invalidArgument(`Could not write to TensorArray index ${index} because it has already been written to.`);
    }
    if (this.elementShape && !compatible(this.elementShape, value.shape)) {
      throw invalidArgument(
        `Could not write to TensorArray index ${index} because the value shape is ${shapeString(value.shape)} which is incompatible with the TensorArray's inferred element shape: ${shapeString(this.elementShape)} (consider setting infer_shape=False).`,
      );
    }
    this.items[index] = value;
    retainBeyondIteration(value);
  }

  read(index: number): Tensor {
    if (index < 0 || index >= this.items.length) throw invalidArgument(`Tried to read from index ${index} but array size is: ${this.items.length}`);
    const t = this.items[index];
    if (t === undefined) {
      if (this.cleared.has(index)) {
        throw invalidArgument(`Could not read index ${index} twice because it was cleared after a previous read (perhaps try setting clear_after_read = false?)`);
      }
      // An unwritten element of a fully known shape reads as zeros, as in TF.
      if (this.elementShape && this.elementShape.every((d) => d >= 0)) return Tensor.fromHost(this.dtype, this.elementShape, allocHost(this.dtype, sizeOf(this.elementShape)));
      throw invalidArgument(`Could not read from TensorArray index ${index} because it has not yet been written to.`);
    }
    if (this.clearAfterRead) {
      this.items[index] = undefined;
      this.cleared.add(index);
    }
    return t;
  }
}

const compatible = (declared: readonly number[], actual: readonly number[]) =>
  declared.length === actual.length && declared.every((d, i) => d < 0 || d === actual[i]);

function knownShape(s: TensorShape): readonly number[] | undefined {
  return s.unknownRank ? undefined : s.dims;
}

function arrayOf(ctx: KernelContext): TensorArray {
  const h = ctx.inputs[0];
  const ta = h.dtype === 'resource' ? (h.values() as unknown[])[0] : undefined;
  if (!(ta instanceof TensorArray)) throw invalidArgument(`${ctx.node.op} expects a TensorArray handle`);
  if (ta.closed) throw invalidArgument(`TensorArray ${ctx.node.input[0]} has already been closed.`);
  return ta;
}

const FLOW = () => Tensor.scalar('float32', 0);

/** Elements stacked (along a new axis 0) or concatenated (along axis 0) into one host tensor. */
function join(dtype: DType, parts: Tensor[], outShape: number[]): Tensor {
  const out = allocHost(dtype, sizeOf(outShape)) as unknown[];
  let o = 0;
  for (const p of parts) {
    const v = p.values() as ArrayLike<unknown>;
    for (let i = 0; i < p.size; i++) out[o++] = v[i];
  }
  return Tensor.fromHost(dtype, outShape, out as never);
}

function checkSameShapes(parts: Tensor[], from: number, what: string): void {
  for (let i = 1; i < parts.length; i++) {
    const a = parts[0].shape.slice(from);
    const b = parts[i].shape.slice(from);
    if (!compatible(a, b)) {
      throw invalidArgument(`TensorArray has inconsistent shapes.  Index 0 has ${what} shape: ${shapeString(a)} but index ${i} has ${what} shape: ${shapeString(b)}`);
    }
  }
}

registerKernel({
  op: 'TensorArrayV3',
  stateful: true,
  outputs: [{ name: 'handle' }, { name: 'flow' }],
  kernel: (ctx) => {
    const size = ctx.inputs[0].numbers()[0];
    if (size < 0) throw invalidArgument(`Size should be >= 0.`);
    const ta = new TensorArray(
      ctx.attrs.type('dtype'),
      size,
      ctx.attrs.bool('dynamic_size', false),
      ctx.attrs.bool('clear_after_read', true),
      knownShape(ctx.attrs.shape('element_shape', { unknownRank: true, dims: [] })),
    );
    return [Tensor.scalar('resource', ta), FLOW()];
  },
});

registerKernel({
  op: 'TensorArrayWriteV3',
  stateful: true,
  kernel: (ctx) => {
    arrayOf(ctx).write(ctx.inputs[1].numbers()[0], ctx.inputs[2]);
    return [FLOW()];
  },
});

registerKernel({ op: 'TensorArrayReadV3', stateful: true, kernel: (ctx) => [arrayOf(ctx).read(ctx.inputs[1].numbers()[0])] });

registerKernel({ op: 'TensorArraySizeV3', stateful: true, kernel: (ctx) => [Tensor.scalar('int32', arrayOf(ctx).items.length)] });

registerKernel({
  op: 'TensorArrayCloseV3',
  stateful: true,
  kernel: (ctx) => {
    arrayOf(ctx).closed = true;
    return [];
  },
});

registerKernel({
  op: 'TensorArrayGatherV3',
  stateful: true,
  kernel: (ctx) => {
    const ta = arrayOf(ctx);
    const parts = ctx.inputs[1].numbers().map((i) => ta.read(i));
    const declared = knownShape(ctx.attrs.shape('element_shape', { unknownRank: true, dims: [] })) ?? ta.elementShape;
    if (parts.length === 0) {
      if (!declared || declared.some((d) => d < 0)) {
        throw invalidArgument('TensorArray has size zero, but element shape <unknown> is not fully defined. Currently only static shapes are supported when packing zero-size TensorArrays.');
      }
      return [Tensor.fromHost(ta.dtype, [0, ...declared], allocHost(ta.dtype, 0))];
    }
    checkSameShapes(parts, 0, 'element');
    return [join(ta.dtype, parts, [parts.length, ...parts[0].shape])];
  },
});

registerKernel({
  op: 'TensorArrayScatterV3',
  stateful: true,
  kernel: (ctx) => {
    const ta = arrayOf(ctx);
    const indices = ctx.inputs[1].numbers();
    const value = ctx.inputs[2];
    if (value.rank === 0 || value.shape[0] !== indices.length) {
      throw invalidArgument(`Expected len(indices) == values.shape[0], but saw: ${indices.length} vs. ${value.rank === 0 ? 0 : value.shape[0]}`);
    }
    const inner = value.shape.slice(1);
    const n = sizeOf(inner);
    const v = value.values() as ArrayLike<unknown>;
    indices.forEach((index, k) => {
      const data = allocHost(value.dtype, n) as unknown[];
      for (let i = 0; i < n; i++) data[i] = v[k * n + i];
      ta.write(index, Tensor.fromHost(value.dtype, inner, data as never));
    });
    return [FLOW()];
  },
});

registerKernel({
  op: 'TensorArrayConcatV3',
  stateful: true,
  outputs: [{ name: 'value' }, { name: 'lengths' }],
  kernel: (ctx) => {
    const ta = arrayOf(ctx);
    const parts = ta.items.map((_, i) => ta.read(i));
    const lengths = BigInt64Array.from(parts, (p) => {
      if (p.rank === 0) throw invalidArgument('Concat saw a scalar shape at index 0 but requires at least vectors.');
      return BigInt(p.shape[0]);
    });
    const rest = parts.length > 0 ? parts[0].shape.slice(1) : knownShape(ctx.attrs.shape('element_shape_except0', { unknownRank: true, dims: [] })) ?? [];
    checkSameShapes(parts, 1, 'element');
    const total = parts.reduce((n, p) => n + p.shape[0], 0);
    return [join(ta.dtype, parts, [total, ...rest]), Tensor.fromHost('int64', [parts.length], lengths)];
  },
});

registerKernel({
  op: 'TensorArraySplitV3',
  stateful: true,
  kernel: (ctx) => {
    const ta = arrayOf(ctx);
    const value = ctx.inputs[1];
    const lengths = ctx.inputs[2].numbers();
    if (value.rank === 0) throw invalidArgument('Expected value to be at least a vector, but received shape: []');
    const total = lengths.reduce((a, b) => a + b, 0);
    if (total !== value.shape[0]) {
      throw invalidArgument(`Expected sum of lengths to be equal to values.shape[0], but sum of lengths is ${total} and value's shape is: ${shapeString(value.shape)}`);
    }
    const inner = value.shape.slice(1);
    const n = sizeOf(inner);
    const v = value.values() as ArrayLike<unknown>;
    let row = 0;
    lengths.forEach((len, k) => {
      const data = allocHost(value.dtype, len * n) as unknown[];
      for (let i = 0; i < len * n; i++) data[i] = v[row * n + i];
      row += len;
      ta.write(k, Tensor.fromHost(value.dtype, [len, ...inner], data as never));
    });
    return [FLOW()];
  },
});
