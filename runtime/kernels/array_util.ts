/**
 * Host helpers shared by the array (data-movement) kernels.
 *
 * Most array ops are "output element i comes from input element map[i]":
 * transpose, slice, strided slice, tile, reverse, pad, broadcast, gather_nd.
 * The kernels compute that index map (an Int32Array; -1 means "fill value")
 * with the helpers below, and `takeFlat` applies it either on the tfjs
 * backend (one WASM gather) or on the host for any dtype: byte strings,
 * int64 as BigInt64Array (never narrowed), float64, complex pairs, resources.
 *
 * `preferTf` decides where a kernel runs: tensors already on the backend stay
 * there; host tensors of backend-capable dtypes go to the backend only when
 * large (small shape arithmetic stays in JS); int64/uint32 host tensors stay
 * on the host because their values may not fit int32.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { DType } from '../dtypes.js';
import { dtypeShortName, isInteger } from '../dtypes.js';
import { invalidArgument } from '../errors.js';
import { checkStringBytes, checkTensorSize, makeCheckedShape } from '../limits.js';
import { allocHost, hasTfStorage, shapeString, sizeOf, Tensor, type HostData, type Shape } from '../tensor.js';

/** Host tensors smaller than this stay on the host even when tfjs could hold them. */
const TF_MIN_ELEMENTS = 256;

/** An indexable view over any HostData (typed arrays, string bytes, JS objects). */
type Elements = { [i: number]: unknown; readonly length: number };

export const isComplex = (d: DType) => d === 'complex64' || d === 'complex128';

/** Storage slots per element: 2 for complex (re, im), else 1. */
export const elementWidth = (d: DType) => (isComplex(d) ? 2 : 1);

/** Row-major strides of a shape. */
export function stridesOf(shape: Shape): number[] {
  const s: number[] = new Array(shape.length);
  let acc = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    s[i] = acc;
    acc *= shape[i];
  }
  return s;
}

/** TF's TensorShape::DebugString ("[2,3]", "[]" for a scalar). */
export const dbg = shapeString;

/** TF's SliceDebugString: the multi-index of flat position `flat` in `shape` ("" for scalars, "[1,0]"). */
export function sliceDebugString(shape: Shape, flat: number): string {
  if (shape.length === 0) return '';
  if (shape.length === 1) return `[${flat}]`;
  const st = stridesOf(shape);
  const parts: number[] = [];
  let rest = flat;
  for (let i = 0; i < shape.length; i++) {
    const s = st[i];
    const q = s === 0 ? 0 : Math.floor(rest / s);
    parts.push(q);
    rest -= q * s;
  }
  return `[${parts.join(',')}]`;
}

/** True when the tensor's dtype is one of TF's integer types used for shapes and indices. */
export function isIndexType(d: DType): boolean {
  return d === 'int32' || d === 'int64' || d === 'int16' || d === 'int8' || d === 'uint8';
}

/**
 * Reads an integer tensor (shape, index, axis arguments) as JS numbers.
 * `what` names the argument in the error ("shape", "begin").
 */
export function readInts(t: Tensor, what: string): number[] {
  if (!isInteger(t.dtype)) {
    throw invalidArgument(`${what} must be an int32 or int64 tensor, not ${dtypeShortName(t.dtype)}`);
  }
  return t.numbers();
}

/**
 * TF's TensorShapeUtils::MakeShape from an int tensor: a vector of
 * non-negative dims whose product fits int64, for a tensor of `dtype` that
 * the runtime limits allow (limits.ts: INVALID_ARGUMENT / RESOURCE_EXHAUSTED).
 */
export function makeShape(t: Tensor, dtype: DType): number[] {
  if (t.rank > 1) throw invalidArgument(`shape must be a vector of {int32,int64}, got shape ${dbg(t.shape)}`);
  if (t.dtype === 'int64') return makeCheckedShape(t.values() as BigInt64Array, dtype);
  return makeCheckedShape(readInts(t, 'shape'), dtype);
}

/** Whether a kernel over these tensors should run on the tfjs backend (see module comment). */
export function preferTf(...ts: Tensor[]): boolean {
  let total = 0;
  let onBackend = false;
  for (const t of ts) {
    if (!hasTfStorage(t.dtype)) return false;
    if (t.isOnBackend) {
      onBackend = true;
      continue;
    }
    if (t.dtype === 'int64' || t.dtype === 'uint32') return false;
    total += t.size;
  }
  return onBackend || total >= TF_MIN_ELEMENTS;
}

/** An empty (zero-element) tensor of this dtype and shape, on the host. */
export function emptyTensor(dtype: DType, shape: Shape): Tensor {
  return Tensor.fromHost(dtype, shape, allocHost(dtype, 0));
}

/** Runs tfjs work on backend copies of `inputs` (uploaded outside the tidy scope) and wraps the result. */
export function onTf(dtype: DType, inputs: Tensor[], fn: (...xs: tf.Tensor[]) => tf.Tensor): Tensor {
  const xs = inputs.map((t) => t.toTf());
  return Tensor.fromTf(
    tf.tidy(() => fn(...xs)),
    dtype,
  );
}

/**
 * tf.where that also works for bool values (tfjs-backend-wasm's Select
 * kernel faults on bool t/e, so those go through int32).
 */
export function tfWhere(cond: tf.Tensor, a: tf.Tensor, b: tf.Tensor): tf.Tensor {
  const c = cond.dtype === 'bool' ? cond : tf.cast(cond, 'bool');
  if (a.dtype !== 'bool') return tf.where(c, a, b);
  return tf.cast(tf.where(c, tf.cast(a, 'int32'), tf.cast(b, 'int32')), 'bool');
}

/** Like onTf for kernels with several tfjs outputs. */
export function onTfMany(dtype: DType, inputs: Tensor[], fn: (...xs: tf.Tensor[]) => tf.Tensor[]): Tensor[] {
  const xs = inputs.map((t) => t.toTf());
  return tf.tidy(() => fn(...xs)).map((r) => Tensor.fromTf(r, dtype));
}

/** Copies `count` elements (complex: pairs) between host buffers of the same dtype. */
export function copyElements(
  src: HostData,
  srcStart: number,
  dst: HostData,
  dstStart: number,
  count: number,
  width = 1,
): void {
  const n = count * width;
  const s0 = srcStart * width;
  const d0 = dstStart * width;
  if (ArrayBuffer.isView(src) && ArrayBuffer.isView(dst)) {
    (dst as Float64Array).set((src as Float64Array).subarray(s0, s0 + n), d0);
    return;
  }
  const s = src as Elements;
  const d = dst as unknown[];
  for (let i = 0; i < n; i++) d[d0 + i] = s[s0 + i];
}

/**
 * Host gather: out[i] = src[map[i]], or fill[0] where map[i] is -1.
 * Works for every HostData kind; complex elements move as pairs.
 */
export function takeHost(dtype: DType, src: HostData, map: ArrayLike<number>, fill?: HostData): HostData {
  const n = map.length;
  if (dtype === 'string') checkStringBytes([n], takenBytes(src as Uint8Array[], map, fill as Uint8Array[] | undefined));
  const out = allocHost(dtype, n);
  const w = elementWidth(dtype);
  const s = src as Elements;
  const d = out as unknown[];
  const f = (fill ?? allocHost(dtype, 1)) as Elements;
  if (w === 1) {
    for (let i = 0; i < n; i++) {
      const j = map[i];
      d[i] = j < 0 ? f[0] : s[j];
    }
  } else {
    for (let i = 0; i < n; i++) {
      const j = map[i];
      d[2 * i] = j < 0 ? f[0] : s[2 * j];
      d[2 * i + 1] = j < 0 ? f[1] : s[2 * j + 1];
    }
  }
  return out;
}

/** Bytes of the strings a host gather would copy (repeats count every time, as TF copies them). */
function takenBytes(src: Uint8Array[], map: ArrayLike<number>, fill: Uint8Array[] | undefined): number {
  let bytes = 0;
  for (let i = 0; i < map.length; i++) {
    const j = map[i];
    bytes += j < 0 ? (fill ? fill[0].length : 0) : src[j].length;
  }
  return bytes;
}

/**
 * Builds a tensor of `outShape` whose element i is t's flat element map[i]
 * (map[i] = -1 takes `fill`, a scalar of t's dtype; zero / empty string when
 * omitted). Runs on the backend when preferTf(t), else on the host.
 */
export function takeFlat(t: Tensor, outShape: Shape, map: Int32Array, fill?: Tensor): Tensor {
  if (map.length === 0) return emptyTensor(t.dtype, outShape);
  if (preferTf(t) && (fill === undefined || hasTfStorage(fill.dtype))) {
    let needsFill = false;
    for (let i = 0; i < map.length; i++) {
      if (map[i] < 0) {
        needsFill = true;
        break;
      }
    }
    const inputs = fill && needsFill ? [t, fill] : [t];
    return onTf(t.dtype, inputs, (x, f) => {
      let flat = tf.reshape(x, [-1]);
      let m = map;
      if (needsFill) {
        const fillT = f ? tf.reshape(f, [1]) : tf.zeros([1], x.dtype);
        flat = tf.concat([flat, fillT]);
        m = map.map((j) => (j < 0 ? t.size : j));
      }
      return tf.reshape(tf.gather(flat, tf.tensor1d(m, 'int32')), [...outShape]);
    });
  }
  return Tensor.fromHost(t.dtype, outShape, takeHost(t.dtype, t.values(), map, fill?.values()));
}

/**
 * Index map over `outShape` where each output dimension d contributes
 * dimOffsets[d][i] to the source flat index for output index i along d
 * (-1 in any dimension means "fill"). Transpose, slice, tile, reverse, pad
 * and broadcast are all expressible this way.
 */
export function composeMap(outShape: Shape, dimOffsets: ArrayLike<number>[]): Int32Array {
  const n = checkTensorSize(outShape, 'int32');
  const map = new Int32Array(n);
  const r = outShape.length;
  if (n === 0) return map;
  if (r === 0) return map; // a scalar maps to element 0
  let k = 0;
  const rec = (d: number, acc: number): void => {
    const offs = dimOffsets[d];
    const len = outShape[d];
    if (d === r - 1) {
      for (let i = 0; i < len; i++) {
        const o = offs[i];
        map[k++] = acc < 0 || o < 0 ? -1 : acc + o;
      }
      return;
    }
    for (let i = 0; i < len; i++) {
      const o = offs[i];
      rec(d + 1, acc < 0 || o < 0 ? -1 : acc + o);
    }
  };
  rec(0, 0);
  return map;
}

/** Per-dimension offsets for an affine walk: output index i along d reads start[d] + i*step[d] (in elements of that dim). */
export function affineOffsets(inShape: Shape, outShape: Shape, start: number[], step: number[]): Int32Array[] {
  const st = stridesOf(inShape);
  return outShape.map((len, d) => {
    const offs = new Int32Array(len);
    for (let i = 0; i < len; i++) offs[i] = (start[d] + i * step[d]) * st[d];
    return offs;
  });
}

/** NumPy broadcast of two shapes, or undefined when incompatible. */
export function broadcastShapes(a: Shape, b: Shape): number[] | undefined {
  const r = Math.max(a.length, b.length);
  const out: number[] = new Array(r);
  for (let i = 0; i < r; i++) {
    const x = i < r - a.length ? 1 : a[i - (r - a.length)];
    const y = i < r - b.length ? 1 : b[i - (r - b.length)];
    if (x === y || y === 1) out[i] = x;
    else if (x === 1) out[i] = y;
    else return undefined;
  }
  return out;
}

/** Offsets reading a tensor of `inShape` broadcast (right-aligned) to `outShape`. */
export function broadcastOffsets(inShape: Shape, outShape: Shape): Int32Array[] {
  const st = stridesOf(inShape);
  const lead = outShape.length - inShape.length;
  return outShape.map((len, d) => {
    const offs = new Int32Array(len);
    if (d < lead) return offs;
    const inDim = inShape[d - lead];
    const s = inDim === 1 ? 0 : st[d - lead];
    for (let i = 0; i < len; i++) offs[i] = i * s;
    return offs;
  });
}

/** Whether two shapes are equal. */
export function sameShape(a: Shape, b: Shape): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Builds a host tensor of `dtype` filled with the first element(s) of `value`'s storage. */
export function fillHost(dtype: DType, shape: Shape, value: HostData): Tensor {
  const n = checkTensorSize(shape, dtype);
  if (dtype === 'string') checkStringBytes(shape, n * (value as Uint8Array[])[0].length);
  const out = allocHost(dtype, n);
  const v = value as Elements;
  const d = out as unknown[];
  if (elementWidth(dtype) === 2) {
    for (let i = 0; i < n; i++) {
      d[2 * i] = v[0];
      d[2 * i + 1] = v[1];
    }
  } else if (ArrayBuffer.isView(out)) {
    (out as Float64Array).fill(v[0] as number);
  } else {
    for (let i = 0; i < n; i++) d[i] = v[0];
  }
  return Tensor.fromHost(dtype, shape, out);
}

/** Formats a number as C++ StrCat would for dtype d (float: shortest float32 round-trip). */
export function formatNumber(v: number | bigint, d: DType): string {
  if (typeof v === 'bigint') return v.toString();
  if (Number.isNaN(v)) return 'nan';
  if (!Number.isFinite(v)) return v > 0 ? 'inf' : '-inf';
  if (d === 'float32' || d === 'float16' || d === 'bfloat16') {
    for (let p = 1; p <= 9; p++) {
      const s = Number(v.toPrecision(p));
      if (Math.fround(s) === v) return String(s);
    }
  }
  return String(v);
}
