/**
 * TensorList kernels (the DT_VARIANT lists that tf.map_fn, TensorArray and
 * while_loop accumulators compile to). A list is a scalar variant tensor
 * holding a TensorList value; ops never mutate a list, they return a new one
 * (copy-on-write of the item array), matching TF's value semantics.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { DType } from '../dtypes.js';
import { dtypeShortName } from '../dtypes.js';
import { invalidArgument } from '../errors.js';
import { checkTensorSize } from '../limits.js';
import { allocHost, hasTfStorage, shapeString, Tensor, type HostData } from '../tensor.js';
import { splitOnBackend } from './dispatch.js';
import { retainBeyondIteration } from './loop_scope.js';
import { registerKernel } from './registry.js';

export interface TensorList {
  readonly elementDtype: DType;
  /** Known element shape (-1 for unknown dims), or undefined for unknown rank. */
  readonly elementShape: readonly number[] | undefined;
  readonly items: ReadonlyArray<Tensor | undefined>;
}

function listOf(t: Tensor, op: string): TensorList {
  if (t.dtype !== 'variant') throw invalidArgument(`${op} expects a TensorList (variant), got ${dtypeShortName(t.dtype)}`);
  const l = (t.values() as unknown[])[0] as TensorList | undefined;
  if (!l || !Array.isArray((l as TensorList).items)) throw invalidArgument(`${op}: input is not a TensorList`);
  return l;
}

/**
 * The items of one version of a list. Writing one item of the newest version
 * costs O(1), not a copy: the new version takes the array over and the old
 * one keeps a one-item undo record (Baker's persistent arrays); reading an
 * old version again first moves the array back to it ("rerooting"). A
 * map_fn accumulator is only ever written at its newest version, so n
 * SetItems cost O(n) instead of O(n²).
 */
class Items {
  private arr: (Tensor | undefined)[] | undefined;
  private next: Items | undefined;
  private index = 0;
  private value: Tensor | undefined;

  constructor(arr: (Tensor | undefined)[]) {
    this.arr = arr;
  }

  /** This version's items; read them at once (another version's access may move the array away). */
  get(): ReadonlyArray<Tensor | undefined> {
    if (!this.arr) this.reroot();
    return this.arr!;
  }

  /** A new version with item `index` (in range) set to `value`. */
  set(index: number, value: Tensor): Items {
    const arr = this.get() as (Tensor | undefined)[];
    const next = new Items(arr);
    this.arr = undefined;
    this.next = next;
    this.index = index;
    this.value = arr[index];
    arr[index] = value;
    return next;
  }

  private reroot(): void {
    const path: Items[] = [];
    let root: Items = this;
    while (!root.arr) {
      path.push(root);
      root = root.next!;
    }
    for (let k = path.length - 1; k >= 0; k--) {
      const v = path[k]; // v.next === root
      const arr = root.arr!;
      const old = arr[v.index];
      arr[v.index] = v.value;
      root.arr = undefined;
      root.next = v;
      root.index = v.index;
      root.value = old;
      v.arr = arr;
      v.next = undefined;
      v.value = undefined;
      root = v;
    }
  }
}

class ListValue implements TensorList {
  constructor(
    readonly elementDtype: DType,
    readonly elementShape: readonly number[] | undefined,
    private readonly store: Items,
  ) {}

  get items(): ReadonlyArray<Tensor | undefined> {
    return this.store.get();
  }

  withItem(index: number, value: Tensor): ListValue {
    retainBeyondIteration(value);
    return new ListValue(this.elementDtype, this.elementShape, this.store.set(index, value));
  }
}

/**
 * A list value holding a fresh copy-free `items` array (the caller gives it
 * up). Its items outlive the While iteration that made the list (loop_scope.ts).
 */
function wrap(l: { elementDtype: DType; elementShape: readonly number[] | undefined; items: (Tensor | undefined)[] }): Tensor {
  for (const t of l.items) if (t !== undefined) retainBeyondIteration(t);
  return Tensor.scalar('variant', new ListValue(l.elementDtype, l.elementShape, new Items(l.items)));
}

/** Decodes an element_shape tensor: scalar -1 = unknown rank; -1 entries = unknown dims. */
function shapeFrom(t: Tensor): number[] | undefined {
  if (t.rank === 0) {
    const v = Number((t.values() as ArrayLike<number | bigint>)[0]);
    if (v === -1) return undefined;
    throw invalidArgument(`element_shape must be a vector or the scalar -1, got scalar ${v}`);
  }
  return t.numbers();
}

function mergeShapes(a: readonly number[] | undefined, b: readonly number[] | undefined): number[] | undefined {
  if (!a) return b ? [...b] : undefined;
  if (!b) return [...a];
  if (a.length !== b.length) throw invalidArgument(`Incompatible shapes in TensorList: ${shapeString(a)} vs. ${shapeString(b)}`);
  return a.map((d, i) => (d === -1 ? b[i] : d));
}

function isFullyDefined(s: readonly number[] | undefined): s is number[] {
  return s !== undefined && s.every((d) => d >= 0);
}

function checkIndex(index: number, length: number, op: string): void {
  if (index < 0 || index >= length) {
    throw invalidArgument(`Trying to access element ${index} in a list with ${length} elements.`);
  }
}

function zeros(dtype: DType, shape: readonly number[]): Tensor {
  let size = 1;
  for (const d of shape) size *= d;
  return Tensor.fromHost(dtype, shape, allocHost(dtype, size));
}

/** Stacks equally-shaped tensors along a new leading dimension. */
export function stackTensors(items: readonly Tensor[], dtype: DType, elementShape: readonly number[]): Tensor {
  for (const t of items) {
    if (t.shape.length !== elementShape.length || t.shape.some((d, i) => d !== elementShape[i])) {
      throw invalidArgument(
        `Incompatible shapes in TensorList: all elements must have shape ${shapeString(elementShape)}, got ${shapeString(t.shape)}`,
      );
    }
  }
  const shape = [items.length, ...elementShape];
  checkTensorSize(shape, dtype);
  if (items.length > 0 && hasTfStorage(dtype) && items.every((t) => t.isOnBackend)) {
    return Tensor.fromTf(tf.stack(items.map((t) => t.toTf())), dtype);
  }
  let per = 1;
  for (const d of elementShape) per *= d;
  const out = allocHost(dtype, items.length * per);
  items.forEach((t, i) => copyInto(out, t.values(), i * per));
  return Tensor.fromHost(dtype, shape, out);
}

function copyInto(dst: HostData, src: HostData, offset: number): void {
  if (Array.isArray(dst)) {
    for (let j = 0; j < src.length; j++) dst[offset + j] = (src as unknown[])[j];
  } else {
    (dst as Float64Array).set(src as Float64Array, offset);
  }
}

/** Splits a tensor along dimension 0. */
export function unstackTensor(t: Tensor): Tensor[] {
  if (t.rank === 0) throw invalidArgument('Cannot split a scalar into a TensorList');
  const n = t.shape[0];
  const elementShape = t.shape.slice(1);
  if (t.isOnBackend) return splitOnBackend(t.toTf(), 0, new Array<number>(n).fill(1), true).map((x) => Tensor.fromTf(x, t.dtype));
  // Complex elements take two host values each.
  const per = (t.size / Math.max(n, 1)) * (t.dtype === 'complex64' || t.dtype === 'complex128' ? 2 : 1);
  const v = t.values();
  const out: Tensor[] = [];
  for (let i = 0; i < n; i++) {
    // Typed arrays: views, not copies (tensors are immutable; kernels never write their inputs).
    const part = Array.isArray(v) ? v.slice(i * per, (i + 1) * per) : (v as Float64Array).subarray(i * per, (i + 1) * per);
    out.push(Tensor.fromHost(t.dtype, elementShape, part as HostData));
  }
  return out;
}

registerKernel({
  op: 'TensorListReserve',
  kernel: (ctx) => {
    const [shapeT, numT] = ctx.inputs;
    const n = Number((numT.values() as Int32Array)[0]);
    if (n < 0) throw invalidArgument(`num_elements must be non-negative, got ${n}`);
    checkTensorSize([n], 'variant');
    return [wrap({ elementDtype: ctx.attrs.type('element_dtype'), elementShape: shapeFrom(shapeT), items: new Array(n).fill(undefined) })];
  },
});

registerKernel({
  op: 'EmptyTensorList',
  kernel: (ctx) => [wrap({ elementDtype: ctx.attrs.type('element_dtype'), elementShape: shapeFrom(ctx.inputs[0]), items: [] })],
});

registerKernel({
  op: 'TensorListFromTensor',
  kernel: (ctx) => {
    const [t, shapeT] = ctx.inputs;
    const elementShape = mergeShapes(shapeFrom(shapeT), t.shape.slice(1));
    return [wrap({ elementDtype: t.dtype, elementShape, items: unstackTensor(t) })];
  },
});

registerKernel({
  op: 'TensorListGetItem',
  kernel: (ctx) => {
    const [listT, indexT, shapeT] = ctx.inputs;
    const l = listOf(listT, 'TensorListGetItem');
    const index = Number((indexT.values() as Int32Array)[0]);
    checkIndex(index, l.items.length, 'TensorListGetItem');
    const item = l.items[index];
    if (item) return [item];
    const shape = mergeShapes(l.elementShape, shapeFrom(shapeT));
    if (!isFullyDefined(shape)) {
      throw invalidArgument(
        `Trying to read an uninitialized tensor but element_shape is not fully defined: ${shape ? shapeString(shape) : '<unknown>'}`,
      );
    }
    return [zeros(l.elementDtype, shape)];
  },
});

registerKernel({
  op: 'TensorListSetItem',
  kernel: (ctx) => {
    const [listT, indexT, item] = ctx.inputs;
    const l = listOf(listT, 'TensorListSetItem');
    const index = Number((indexT.values() as Int32Array)[0]);
    const resize = ctx.attrs.bool('resize_if_index_out_of_bounds', false);
    if (item.dtype !== l.elementDtype) {
      throw invalidArgument(
        `Invalid data types; list elements ${dtypeShortName(l.elementDtype)} but tried to append ${dtypeShortName(item.dtype)}`,
      );
    }
    if (l instanceof ListValue && index >= 0 && index < l.items.length) return [Tensor.scalar('variant', l.withItem(index, item))];
    const items = [...l.items];
    if (resize && index >= items.length) items.length = checkTensorSize([index + 1], 'variant');
    else checkIndex(index, items.length, 'TensorListSetItem');
    items[index] = item;
    return [wrap({ ...l, items })];
  },
});

registerKernel({
  op: 'TensorListPushBack',
  kernel: (ctx) => {
    const [listT, item] = ctx.inputs;
    const l = listOf(listT, 'TensorListPushBack');
    return [wrap({ ...l, items: [...l.items, item] })];
  },
});

registerKernel({
  op: 'TensorListPopBack',
  outputs: [{ name: 'output_handle' }, { name: 'tensor' }],
  kernel: (ctx) => {
    const [listT, shapeT] = ctx.inputs;
    const l = listOf(listT, 'TensorListPopBack');
    if (l.items.length === 0) throw invalidArgument('Trying to pop from an empty list.');
    const last = l.items[l.items.length - 1];
    const shape = mergeShapes(l.elementShape, shapeFrom(shapeT));
    const value = last ?? (isFullyDefined(shape) ? zeros(l.elementDtype, shape) : undefined);
    if (!value) throw invalidArgument('Trying to read an uninitialized tensor but element_shape is not fully defined');
    return [wrap({ ...l, items: l.items.slice(0, -1) }), value];
  },
});

registerKernel({
  op: 'TensorListLength',
  kernel: (ctx) => [Tensor.scalar('int32', listOf(ctx.inputs[0], 'TensorListLength').items.length)],
});

registerKernel({
  op: 'TensorListElementShape',
  kernel: (ctx) => {
    const l = listOf(ctx.inputs[0], 'TensorListElementShape');
    const dtype = ctx.attrs.type('shape_type', 'int32');
    if (!l.elementShape) return [Tensor.scalar(dtype, dtype === 'int64' ? -1n : -1)];
    return [Tensor.from(dtype, [l.elementShape.length], l.elementShape.map((d) => (dtype === 'int64' ? BigInt(d) : d)))];
  },
});

registerKernel({
  op: 'TensorListResize',
  kernel: (ctx) => {
    const [listT, sizeT] = ctx.inputs;
    const l = listOf(listT, 'TensorListResize');
    const n = Number((sizeT.values() as Int32Array)[0]);
    if (n < 0) throw invalidArgument(`TensorListSlice expects size to be non-negative. Got: ${n}`);
    checkTensorSize([n], 'variant');
    const items = l.items.slice(0, n);
    while (items.length < n) items.push(undefined);
    return [wrap({ ...l, items })];
  },
});

/** Items with unset entries filled by zeros of the (then required) fully defined element shape. */
function materialize(l: TensorList, shapeHint: number[] | undefined, op: string): { items: Tensor[]; shape: number[] } {
  let shape = mergeShapes(l.elementShape, shapeHint);
  const firstSet = l.items.find((t) => t !== undefined);
  if (firstSet) shape = mergeShapes(shape, firstSet.shape);
  if (!isFullyDefined(shape)) {
    if (l.items.length === 0) {
      throw invalidArgument(
        `Tried to stack elements of an empty list with non-fully-defined element_shape: ${shape ? shapeString(shape) : '<unknown>'}`,
      );
    }
    throw invalidArgument(`${op}: element_shape is not fully defined and some elements are unset`);
  }
  const s = shape;
  // One zero tensor serves every unset item (tensors are immutable).
  let zero: Tensor | undefined;
  return { items: l.items.map((t) => t ?? (zero ??= zeros(l.elementDtype, s))), shape: s };
}

registerKernel({
  op: 'TensorListStack',
  kernel: (ctx) => {
    const [listT, shapeT] = ctx.inputs;
    const l = listOf(listT, 'TensorListStack');
    const dtype = ctx.attrs.type('element_dtype');
    if (dtype !== l.elementDtype) {
      throw invalidArgument(
        `Invalid data types; op elements ${dtypeShortName(dtype)} but list elements ${dtypeShortName(l.elementDtype)}`,
      );
    }
    const expected = ctx.attrs.int('num_elements', -1);
    if (expected !== -1 && expected !== l.items.length) {
      throw invalidArgument(`Operation expected a list with ${expected} elements but got a list with ${l.items.length} elements.`);
    }
    const { items, shape } = materialize(l, shapeFrom(shapeT), 'TensorListStack');
    return [stackTensors(items, dtype, shape)];
  },
});

registerKernel({
  op: 'TensorListGather',
  kernel: (ctx) => {
    const [listT, indicesT, shapeT] = ctx.inputs;
    const l = listOf(listT, 'TensorListGather');
    const { items, shape } = materialize(l, shapeFrom(shapeT), 'TensorListGather');
    const picked = indicesT.numbers().map((i) => {
      checkIndex(i, items.length, 'TensorListGather');
      return items[i];
    });
    return [stackTensors(picked, l.elementDtype, shape)];
  },
});

registerKernel({
  op: ['TensorListScatter', 'TensorListScatterV2'],
  kernel: (ctx) => {
    const [t, indicesT, shapeT, numT] = ctx.inputs;
    const indices = indicesT.numbers();
    const parts = unstackTensor(t);
    let n = numT ? Number((numT.values() as Int32Array)[0]) : -1;
    const maxIndex = indices.reduce((m, i) => Math.max(m, i), -1);
    if (n < maxIndex + 1) n = maxIndex + 1;
    checkTensorSize([n], 'variant');
    const items: (Tensor | undefined)[] = new Array(n).fill(undefined);
    indices.forEach((i, k) => {
      if (i < 0) throw invalidArgument(`Indices in TensorListScatter must all be non-negative.`);
      items[i] = parts[k];
    });
    return [wrap({ elementDtype: t.dtype, elementShape: mergeShapes(shapeFrom(shapeT), t.shape.slice(1)), items })];
  },
});

registerKernel({
  op: 'TensorListScatterIntoExistingList',
  kernel: (ctx) => {
    const [listT, t, indicesT] = ctx.inputs;
    const l = listOf(listT, 'TensorListScatterIntoExistingList');
    const parts = unstackTensor(t);
    const items = [...l.items];
    indicesT.numbers().forEach((i, k) => {
      if (i < 0) throw invalidArgument(`Indices in TensorListScatter must all be non-negative.`);
      if (i >= items.length) items.length = i + 1;
      items[i] = parts[k];
    });
    return [wrap({ ...l, items })];
  },
});

// ---------------------------------------------------------------------------
// TensorListConcat / TensorListConcatV2 / TensorListSplit (list_kernels.h):
// the items joined along their first dimension, with each item's length.

function concatList(ctx: { inputs: Tensor[]; attrs: import('./attrs.js').Attrs }, op: string, v2: boolean): Tensor[] {
  const l = listOf(ctx.inputs[0], op);
  const dtype = ctx.attrs.type('element_dtype');
  if (dtype !== l.elementDtype) {
    throw invalidArgument(`Invalid data types; op elements ${dtypeShortName(dtype)} but list elements ${dtypeShortName(l.elementDtype)}`);
  }
  let hint: number[] | undefined;
  if (v2) hint = shapeFrom(ctx.inputs[1]);
  else if (ctx.attrs.has('element_shape')) {
    const s = ctx.attrs.shape('element_shape');
    hint = s.unknownRank ? undefined : s.dims.map((d) => (d < 0 ? -1 : d));
  }
  let shape = mergeShapes(l.elementShape, hint);
  if (shape && shape.length === 0) throw invalidArgument('Concat requires elements to be at least vectors, found scalars instead.');
  for (const t of l.items) if (t) shape = mergeShapes(shape, [-1, ...t.shape.slice(1)]);
  const rest = shape?.slice(1);
  const leading = v2 ? ctx.inputs[2].numbers() : [];
  const items = l.items.map((t, i) => {
    if (t) {
      if (t.rank === 0) throw invalidArgument('Concat saw a scalar shape at index ' + i + ' but requires at least vectors.');
      return t;
    }
    if (!rest || !rest.every((d) => d >= 0) || leading[i] === undefined) {
      throw invalidArgument(
        `All except the first dimension must be fully defined when concating an uninitialized tensor list element. element_shape: ${shape ? shapeString(shape) : '<unknown>'}`,
      );
    }
    return zeros(dtype, [leading[i], ...rest]);
  });
  if (items.length === 0) {
    if (!rest || !rest.every((d) => d >= 0)) {
      throw invalidArgument(
        `All except the first dimension must be fully defined when concating an empty tensor list. element_shape: ${shape ? shapeString(shape) : '<unknown>'}`,
      );
    }
    return [zeros(dtype, [0, ...rest]), Tensor.from('int64', [0], [])];
  }
  const tail = items[0].shape.slice(1);
  let total = 0;
  for (const t of items) {
    if (t.rank !== tail.length + 1 || t.shape.slice(1).some((d, k) => d !== tail[k])) {
      throw invalidArgument(`Tried to concat tensors with unequal shapes: ${shapeString(items[0].shape)} vs ${shapeString(t.shape)}`);
    }
    total += t.shape[0];
  }
  const outShape = [total, ...tail];
  const size = checkTensorSize(outShape, dtype);
  const width = dtype === 'complex64' || dtype === 'complex128' ? 2 : 1;
  const out = allocHost(dtype, size);
  let offset = 0;
  for (const t of items) {
    copyInto(out, t.values(), offset);
    offset += t.size * width;
  }
  return [Tensor.fromHost(dtype, outShape, out), Tensor.from('int64', [items.length], items.map((t) => BigInt(t.shape[0])))];
}

registerKernel({
  op: 'TensorListConcat',
  outputs: [{ name: 'tensor' }, { name: 'lengths' }],
  kernel: (ctx) => concatList(ctx, 'TensorListConcat', false),
});
registerKernel({
  op: 'TensorListConcatV2',
  outputs: [{ name: 'tensor' }, { name: 'lengths' }],
  kernel: (ctx) => concatList(ctx, 'TensorListConcatV2', true),
});

registerKernel({
  op: 'TensorListSplit',
  kernel: (ctx) => {
    const [t, shapeT, lengthsT] = ctx.inputs;
    if (t.rank < 1) throw invalidArgument(`Tensor must be at least a vector, but saw shape: ${shapeString(t.shape)}`);
    const hint = shapeFrom(shapeT);
    if (hint && hint.length === 0) throw invalidArgument('TensorListSplit requires element_shape to be at least of rank 1, but saw: []');
    const elementShape = mergeShapes(hint, [-1, ...t.shape.slice(1)]);
    if (lengthsT.rank !== 1) throw invalidArgument(`Expected lengths to be a vector, received shape: ${shapeString(lengthsT.shape)}`);
    const lengths = lengthsT.numbers();
    const tail = t.shape.slice(1);
    const inner = tail.reduce((a, b) => a * b, 1);
    const width = t.dtype === 'complex64' || t.dtype === 'complex128' ? 2 : 1;
    const src = t.values();
    let start = 0;
    const items: Tensor[] = [];
    for (const len of lengths) {
      if (len < 0) throw invalidArgument(`Invalid value in lengths: ${len}`);
      const end = start + len;
      if (end > t.shape[0]) {
        throw invalidArgument(`Attempting to slice [${start}, ${end}] from tensor with length ${t.shape[0]}`);
      }
      const n = len * inner * width;
      const part = allocHost(t.dtype, len * inner);
      if (ArrayBuffer.isView(src)) (part as Float64Array).set((src as Float64Array).subarray(start * inner * width, start * inner * width + n));
      else for (let k = 0; k < n; k++) (part as unknown[])[k] = (src as unknown[])[start * inner * width + k];
      items.push(Tensor.fromHost(t.dtype, [len, ...tail], part));
      start = end;
    }
    if (start !== t.shape[0]) {
      throw invalidArgument(`Unused values in tensor. Length of tensor: ${t.shape[0]} Values used: ${start}`);
    }
    return [wrap({ elementDtype: t.dtype, elementShape, items })];
  },
});
