/**
 * Typed TensorFlow ops over a builder Scope, named and shaped like the
 * Python API that emits them (tf.reshape → Reshape with a "Reshape/shape"
 * Const, tf.image.convert_image_dtype → Cast + Mul "convert_image"...), so
 * a serving function reads like its Python original:
 *
 *   const img = tf.reshape(tf.convertImageDtype(tf.decodeImage(tf.decodeBase64(b64)), 'float32'), [28, 28]);
 *
 * Control flow (functions, whileLoop, mapFn) is added by Tf in
 * builder_control.ts. Static shapes are inferred where TF's shape functions
 * would know them.
 */
import type { DType } from '../dtypes.js';
import { internal } from '../errors.js';
import { Tensor } from '../tensor.js';
import { type Dims, Output, Scope } from './builder_scope.js';

/** A resource variable of the model (TF2 VarHandleOp in the graph). */
export interface VariableRef {
  readonly name: string;
  readonly handle: Output;
  readonly dtype: DType;
  readonly shape: readonly number[];
}

type ConstValue = Tensor | number | string | readonly number[] | readonly string[];

const INT_MAX: Partial<Record<DType, number>> = { uint8: 255, uint16: 65535, int8: 127, int16: 32767, int32: 2147483647 };

/** NumPy-style broadcast of two static shapes (-1 where unknown). */
export function broadcastDims(a: Dims, b: Dims): Dims {
  if (a === null || b === null) return null;
  const n = Math.max(a.length, b.length);
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const x = i < n - a.length ? 1 : a[i - (n - a.length)];
    const y = i < n - b.length ? 1 : b[i - (n - b.length)];
    if (x === 1) out.push(y);
    else if (y === 1) out.push(x);
    else if (x === -1) out.push(y);
    else if (y === -1 || x === y) out.push(x);
    else throw internal(`shapes [${a.join(',')}] and [${b.join(',')}] are not broadcastable`);
  }
  return out;
}

function knownSize(d: Dims): number | undefined {
  if (d === null || d.some((x) => x < 0)) return undefined;
  return d.reduce((p, x) => p * x, 1);
}

export class TfOps extends Scope {
  // ---------- constants and identities ----------

  /**
   * tf.constant: numbers default to int32 when all are integers, else
   * float32 (as TF converts Python values); strings to string.
   */
  constant(value: ConstValue, opts: { dtype?: DType; name?: string; fullName?: string } = {}): Output {
    let t: Tensor;
    if (value instanceof Tensor) t = value;
    else {
      const values = (Array.isArray(value) ? value : [value]) as readonly (number | string)[];
      const shape = Array.isArray(value) ? [values.length] : [];
      const dtype = opts.dtype ?? (typeof values[0] === 'string' ? 'string' : values.every((v) => Number.isInteger(v)) ? 'int32' : 'float32');
      t = Tensor.from(dtype, shape, values);
    }
    if (opts.dtype && opts.dtype !== t.dtype) throw internal(`constant of ${t.dtype} given dtype ${opts.dtype}`);
    return this.op('Const', [], { value: t, dtype: t.dtype }, { name: opts.name ?? 'Const', fullName: opts.fullName, shapes: [t.shape] })[0];
  }

  identity(x: Output, name = 'Identity'): Output {
    return this.op('Identity', [x], {}, { name, shapes: [x.shape] })[0];
  }

  /** tf.compat.v1.placeholder (graph scope): a Placeholder with dtype and shape attrs. */
  placeholder(dtype: DType, shape: Dims, name = 'Placeholder'): Output {
    return this.op('Placeholder', [], { dtype, shape }, { name, shapes: [shape] })[0];
  }

  // ---------- array ops ----------

  /** tf.reshape; a shape of numbers becomes the "<name>/shape" int32 Const. */
  reshape(x: Output, shape: readonly number[] | Output, name = 'Reshape'): Output {
    return this.scoped(name, (n) => {
      let out: Dims = null;
      let s: Output;
      if (shape instanceof Output) s = shape;
      else {
        s = this.constant(shape, { dtype: 'int32', fullName: `${n}/shape` });
        const dims = [...shape];
        const known = knownSize(x.shape);
        const rest = knownSize(dims.filter((d) => d !== -1));
        if (dims.filter((d) => d === -1).length === 1 && known !== undefined && rest) dims[dims.indexOf(-1)] = known / rest;
        out = dims;
      }
      return this.op('Reshape', [x, s], {}, { fullName: n, shapes: [out] })[0];
    });
  }

  /** tf.shape (int32). */
  shapeOf(x: Output, name = 'Shape'): Output {
    return this.op('Shape', [x], { out_type: 'int32' }, { name, shapes: [x.shape === null ? [-1] : [x.shape.length]] })[0];
  }

  /** x[i] of a 1-D int32 tensor, as Python indexing emits it (StridedSlice with shrink_axis_mask 1). */
  element(x: Output, i: number, name = 'strided_slice'): Output {
    return this.scoped(name, (n) => {
      const begin = this.constant([i], { dtype: 'int32', fullName: `${n}/stack` });
      const end = this.constant([i + 1], { dtype: 'int32', fullName: `${n}/stack_1` });
      const strides = this.constant([1], { dtype: 'int32', fullName: `${n}/stack_2` });
      return this.op('StridedSlice', [x, begin, end, strides], { Index: 'int32', shrink_axis_mask: 1 }, { fullName: n, shapes: [x.shape === null ? null : x.shape.slice(1)] })[0];
    });
  }

  /** tf.squeeze: removes the given size-1 axes, or every size-1 axis. */
  squeeze(x: Output, axis: readonly number[] = [], name = 'Squeeze'): Output {
    let out: Dims = null;
    if (x.shape !== null) {
      const rank = x.shape.length;
      const drop = new Set(axis.map((a) => (a < 0 ? a + rank : a)));
      if (axis.length > 0) out = x.shape.filter((_, i) => !drop.has(i));
      else if (!x.shape.includes(-1)) out = x.shape.filter((d) => d !== 1);
    }
    return this.op('Squeeze', [x], { squeeze_dims: axis }, { name, shapes: [out] })[0];
  }

  /** tf.gather (GatherV2 with an int32 "<name>/axis" Const). */
  gather(params: Output, indices: Output, axis = 0, name = 'GatherV2'): Output {
    return this.scoped(name, (n) => {
      const ax = this.constant(axis, { dtype: 'int32', fullName: `${n}/axis` });
      let out: Dims = null;
      if (params.shape !== null && indices.shape !== null) out = [...params.shape.slice(0, axis), ...indices.shape, ...params.shape.slice(axis + 1)];
      return this.op('GatherV2', [params, indices, ax], {}, { fullName: n, shapes: [out] })[0];
    });
  }

  /** tf.where(condition) with one argument: int64 coordinates of the true elements. */
  where(condition: Output, name = 'Where'): Output {
    return this.op('Where', [condition], {}, { name, shapes: [[-1, condition.shape === null ? -1 : condition.shape.length]] })[0];
  }

  // ---------- math ----------

  cast(x: Output, dtype: DType, name = 'Cast'): Output {
    return this.op('Cast', [x], { DstT: dtype }, { name, shapes: [x.shape] })[0];
  }

  private binary(type: string, x: Output, y: Output | number, name: string, outDtype?: DType): Output {
    return this.scoped(name, (n) => {
      const yy = y instanceof Output ? y : this.constant(y, { dtype: x.dtype, fullName: `${n}/y` });
      const out = this.op(type, [x, yy], {}, { fullName: n, shapes: [broadcastDims(x.shape, yy.shape)] })[0];
      if (outDtype && out.dtype !== outDtype) throw internal(`${type} produced ${out.dtype}`);
      return out;
    });
  }

  add(x: Output, y: Output | number, name = 'add'): Output {
    return this.binary('AddV2', x, y, name);
  }
  mul(x: Output, y: Output | number, name = 'mul'): Output {
    return this.binary('Mul', x, y, name);
  }
  less(x: Output, y: Output | number, name = 'Less'): Output {
    return this.binary('Less', x, y, name, 'bool');
  }
  equal(x: Output, y: Output | number, name = 'Equal'): Output {
    return this.binary('Equal', x, y, name, 'bool');
  }
  logicalAnd(x: Output, y: Output, name = 'LogicalAnd'): Output {
    return this.op('LogicalAnd', [x, y], {}, { name, shapes: [broadcastDims(x.shape, y.shape)] })[0];
  }

  /** tf.math.reduce_max; with no axis, every axis (a "Const" of range(rank), as TF emits). */
  reduceMax(x: Output, axis?: readonly number[], keepDims = false, name = 'Max'): Output {
    let axes = axis;
    if (axes === undefined) {
      if (x.shape === null) throw internal('reduceMax over all axes needs a known rank');
      axes = x.shape.map((_, i) => i);
    }
    const indices = this.constant([...axes], { dtype: 'int32', name: 'Const' });
    let out: Dims = null;
    if (x.shape !== null) {
      const rank = x.shape.length;
      const set = new Set(axes.map((a) => (a < 0 ? a + rank : a)));
      out = keepDims ? x.shape.map((d, i) => (set.has(i) ? 1 : d)) : x.shape.filter((_, i) => !set.has(i));
    }
    return this.op('Max', [x, indices], { keep_dims: keepDims }, { name, shapes: [out] })[0];
  }

  /** tf.math.argmax (int64 by default). */
  argMax(x: Output, axis: number, outputType: DType = 'int64', name = 'ArgMax'): Output {
    return this.scoped(name, (n) => {
      const dim = this.constant(axis, { dtype: 'int32', fullName: `${n}/dimension` });
      const out = x.shape === null ? null : x.shape.filter((_, i) => i !== (axis < 0 ? axis + x.shape!.length : axis));
      return this.op('ArgMax', [x, dim], { output_type: outputType }, { fullName: n, shapes: [out] })[0];
    });
  }

  matmul(a: Output, b: Output, name = 'MatMul'): Output {
    const out: Dims = a.shape !== null && b.shape !== null ? [a.shape[0], b.shape[1]] : null;
    return this.op('MatMul', [a, b], {}, { name, shapes: [out] })[0];
  }

  biasAdd(x: Output, bias: Output, name = 'BiasAdd'): Output {
    return this.op('BiasAdd', [x, bias], {}, { name, shapes: [x.shape] })[0];
  }

  relu(x: Output, name = 'Relu'): Output {
    return this.op('Relu', [x], {}, { name, shapes: [x.shape] })[0];
  }

  softmax(x: Output, name = 'Softmax'): Output {
    return this.op('Softmax', [x], {}, { name, shapes: [x.shape] })[0];
  }

  // ---------- strings and images ----------

  /** tf.io.decode_base64 (web-safe alphabet, as TF). */
  decodeBase64(x: Output, name = 'DecodeBase64'): Output {
    return this.op('DecodeBase64', [x], {}, { name, shapes: [x.shape] })[0];
  }

  /** tf.io.decode_image as the DecodeImage op (uint8 or uint16 output; convert to float with convertImageDtype). */
  decodeImage(contents: Output, opts: { channels?: number; dtype?: 'uint8' | 'uint16'; expandAnimations?: boolean; name?: string } = {}): Output {
    const channels = opts.channels ?? 0;
    const expand = opts.expandAnimations ?? true;
    const shape: Dims = expand ? null : [-1, -1, channels === 0 ? -1 : channels];
    return this.scoped(opts.name ?? 'decode_image', (n) =>
      this.op('DecodeImage', [contents], { channels, dtype: opts.dtype ?? 'uint8', expand_animations: expand }, { fullName: `${n}/DecodeImage`, shapes: [shape] })[0],
    );
  }

  /**
   * tf.image.convert_image_dtype for integer → float (Cast, then Mul by
   * 1/max of the source type, the Mul named "convert_image") and
   * float → float (Cast); the same dtype is an Identity.
   */
  convertImageDtype(image: Output, dtype: DType, name = 'convert_image'): Output {
    if (image.dtype === dtype) return this.identity(image, name);
    const floating = (d: DType) => d === 'float16' || d === 'float32' || d === 'float64' || d === 'bfloat16';
    if (floating(image.dtype) && floating(dtype)) return this.cast(image, dtype, name);
    const max = INT_MAX[image.dtype];
    if (max === undefined || !floating(dtype)) throw internal(`convertImageDtype from ${image.dtype} to ${dtype} is not supported by the builder`);
    return this.scoped(name, (n) => {
      const cast = this.op('Cast', [image], { DstT: dtype }, { fullName: `${n}/Cast`, shapes: [image.shape] })[0];
      const scale = this.constant(Tensor.from(dtype, [], [1 / max]), { fullName: `${n}/y` });
      return this.op('Mul', [cast, scale], {}, { fullName: n, shapes: [cast.shape] })[0];
    });
  }

  // ---------- variables ----------

  /** Reads a resource variable (ReadVariableOp); inside a function the handle is captured as a resource argument. */
  readVariable(v: VariableRef, name = 'ReadVariableOp'): Output {
    return this.op('ReadVariableOp', [v.handle], { dtype: v.dtype }, { name, shapes: [v.shape] })[0];
  }

  /** Runs `fn` with `name` made unique: the op takes that exact name and its helper nodes live under it ("Reshape/shape"). */
  protected scoped<T>(name: string, fn: (full: string) => T): T {
    return fn(this.uniqueName(name));
  }
}
