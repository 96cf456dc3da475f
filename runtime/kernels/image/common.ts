/** Shared helpers of the image kernel folder (host loops over small typed arrays). */
import { dtypeShortName, type DType } from '../../dtypes.js';
import { invalidArgument } from '../../errors.js';
import { checkTensorSize } from '../../limits.js';
import { allocHost, shapeString, Tensor } from '../../tensor.js';

export const f32 = Math.fround;

/** The values of a real tensor as float32 (float32 in, copied otherwise). */
export function floatData(t: Tensor): Float32Array {
  if (t.dtype === 'float32') return t.values() as Float32Array;
  return Float32Array.from(t.numbers());
}

/** The values of a real tensor as float64 (TF computes several image ops in double or float). */
export function numberData(t: Tensor): Float64Array | Float32Array | Int32Array | Uint8Array {
  const v = t.values();
  if (v instanceof Float32Array || v instanceof Float64Array || v instanceof Int32Array || v instanceof Uint8Array) return v;
  return Float64Array.from(t.numbers());
}

export function scalarNumber(t: Tensor, name: string): number {
  if (t.rank !== 0) throw invalidArgument(`${name} must be 0-D, got shape ${shapeString(t.shape)}`);
  return t.numbers()[0];
}

/** A new float32 host tensor of this shape, size checked against the runtime limits. */
export function newFloat(shape: number[]): { data: Float32Array; make: () => Tensor } {
  checkTensorSize(shape, 'float32');
  const data = allocHost('float32', shape.reduce((a, b) => a * b, 1)) as Float32Array;
  return { data, make: () => Tensor.fromHost('float32', shape, data) };
}

/** A host tensor of `dtype` from float values (cast the way TF's static_cast would: truncation for integers). */
export function castFromFloat(dtype: DType, shape: number[], values: ArrayLike<number>): Tensor {
  if (dtype === 'float32' || dtype === 'float64') return Tensor.from(dtype, shape, values);
  throw invalidArgument(`unsupported output type ${dtypeShortName(dtype)}`);
}

export function requireDtype(t: Tensor, name: string, allowed: DType[]): void {
  if (!allowed.includes(t.dtype)) {
    throw invalidArgument(`${name} must be one of ${allowed.map(dtypeShortName).join(', ')}, got ${dtypeShortName(t.dtype)}`);
  }
}
